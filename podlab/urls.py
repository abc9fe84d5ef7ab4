from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]
urlpatterns += i18n_patterns(
    path("", include("podlab.course.urls")),
    path("", include("podlab.lab.urls")),
    path("", include("podlab.quizzes.urls")),
    path("", include("podlab.classroom.urls")),
    prefix_default_language=True,
)

# A database that cannot be reached is a clear, translated 503, not a bare 500.
handler500 = "podlab.core.views.server_error"
