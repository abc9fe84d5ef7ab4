from django.urls import path

from . import views

app_name = "quizzes"
urlpatterns = [
    path("quizzes/", views.quiz_index, name="index"),
    path("quizzes/progress/", views.progress, name="progress"),
    path("quizzes/review/", views.review, name="review"),
    path("quizzes/<slug:slug>/", views.quiz_lesson, name="lesson"),
    path("quizzes/<slug:slug>/<slug:question_id>/answer/", views.answer, name="answer"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
]
