from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "podlab.core"
    label = "core"
