from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "microcred.insights"
    label = "insights"
    verbose_name = "Insights: staff progress, program reports, evaluation"

    def ready(self) -> None:
        # Permissions (staff progress, reports, research exports, surveys); the after-award survey
        # listens to credentials.
        from . import rules, rules_reports, rules_research, rules_surveys, signals  # noqa: F401
