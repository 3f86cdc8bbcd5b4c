from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "microcred.insights"
    label = "insights"
    verbose_name = "Insights: staff progress, program reports, evaluation"

    def ready(self) -> None:
        from . import rules  # noqa: F401  (permissions)
