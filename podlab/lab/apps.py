from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "podlab.lab"
    label = "lab"
