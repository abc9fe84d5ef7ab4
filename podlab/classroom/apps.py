from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassroomConfig(AppConfig):
    name = "podlab.classroom"
    verbose_name = _("Classroom")
    #: the room's simulation runs in the lab's worker processes (podlab.lab.workers)
    worker_ops = "podlab.classroom.runner"
