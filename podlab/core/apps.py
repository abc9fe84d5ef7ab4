from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "podlab.core"
    label = "core"

    def ready(self) -> None:
        from . import throttle  # noqa: F401 - connects the sign-in failure counters
