from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def course_index(request: HttpRequest) -> HttpResponse:
    return render(request, "course/index.html", {})
