from django.urls import path

from . import views

app_name = "lab"
urlpatterns = [
    path("lab/", views.lab_index, name="index"),
]
