from django.apps import AppConfig


class EarningConfig(AppConfig):
    name = "microcred.earning"
    label = "earning"
    verbose_name = "Earning: attempts, portfolios, evidence"

    def ready(self) -> None:
        from . import teams  # noqa: F401  (connects the receivers for invited sign-ups)
