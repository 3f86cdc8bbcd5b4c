from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "microcred.notifications"
    label = "notifications"
    verbose_name = "Notifications"
