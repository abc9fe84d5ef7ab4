from django.urls import path

from . import views

app_name = "course"
urlpatterns = [
    path("", views.course_index, name="index"),
    path("lessons/<slug:slug>/", views.lesson_detail, name="lesson"),
    path("glossary/", views.glossary_page, name="glossary"),
]
