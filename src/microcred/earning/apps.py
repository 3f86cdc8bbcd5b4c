from django.apps import AppConfig


class EarningConfig(AppConfig):
    name = "microcred.earning"
    label = "earning"
    verbose_name = "Earning: attempts, portfolios, evidence"
