from django.apps import AppConfig


class SosTrackerConfig(AppConfig):
    name = "sos_tracker"
    verbose_name = "SOS Tracker"
