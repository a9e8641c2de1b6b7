from django.apps import AppConfig


class DbcopyConfig(AppConfig):
    name = "dbcopy"
    verbose_name = "Database copy"
