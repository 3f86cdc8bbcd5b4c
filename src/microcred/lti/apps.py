from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "microcred.lti"
    label = "lti"
    verbose_name = "LTI 1.3: launches from learning management systems"

    def ready(self) -> None:
        from . import rules, signals  # noqa: F401  (permissions; listening to credentials)
