from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "microcred.credentials"
    label = "credentials"
    verbose_name = "Credentials: Open Badges 3.0"
