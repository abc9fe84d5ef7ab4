from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "podlab.lab"
    label = "lab"
    #: the operations this app's simulations run in a worker process (podlab.lab.workers)
    worker_ops = "podlab.lab.runner"
