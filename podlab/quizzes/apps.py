from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "podlab.quizzes"
    label = "quizzes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .signals import carry_over_on_login

        user_logged_in.connect(carry_over_on_login, dispatch_uid="quizzes-carry-over")
