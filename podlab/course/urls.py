from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "course"
urlpatterns = [
    path("", views.course_index, name="index"),
    # /<lang>/lessons/ is where a reader who trims a lesson's address lands: the course index.
    path("lessons/", RedirectView.as_view(pattern_name="course:index"), name="lessons"),
    path("lessons/<slug:slug>/", views.lesson_detail, name="lesson"),
    path("glossary/", views.glossary_page, name="glossary"),
]
