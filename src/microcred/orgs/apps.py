from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "microcred.orgs"
    label = "orgs"
    verbose_name = "Organizations and people"
