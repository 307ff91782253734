from django.apps import AppConfig


class CoresConfig(AppConfig):
    name = "cores"
    verbose_name = "Tendencies and cores"
