from django.urls import path, re_path

from . import views

app_name = "classroom"
CODE = r"(?P<code>[A-Z0-9]{6})"
urlpatterns = [
    path("classroom/", views.rooms, name="rooms"),
    path("classroom/plans/", views.plan_list, name="plans"),
    path("classroom/plans/<int:pk>/", views.plan_edit, name="plan"),
    re_path(rf"^classroom/{CODE}/$", views.console, name="console"),
    re_path(rf"^classroom/{CODE}/open/$", views.set_open, name="set_open"),
    re_path(rf"^classroom/{CODE}/projector/$", views.projector, name="projector"),
    re_path(rf"^classroom/{CODE}/summary/$", views.summary, name="summary"),
    re_path(rf"^classroom/{CODE}/(?P<kind>questions|students)\.csv$", views.export_csv,
            name="export"),
    path("join/", views.join, name="join"),
    re_path(rf"^join/{CODE}/$", views.student, name="student"),
]
