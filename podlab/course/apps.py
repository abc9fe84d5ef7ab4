from django.apps import AppConfig


class CourseConfig(AppConfig):
    name = "podlab.course"
    label = "course"
