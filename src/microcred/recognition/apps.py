from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "microcred.recognition"
    label = "recognition"
    verbose_name = "Recognition: policies, the ledger, license renewal, HR exports"

    def ready(self) -> None:
        from . import rules, signals  # noqa: F401  (permissions; listening to credentials)
