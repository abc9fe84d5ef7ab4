from django.urls import re_path

from .consumers import InstructorConsumer, ProjectorConsumer, StudentConsumer

websocket_urlpatterns = [
    re_path(r"^ws/classroom/(?P<code>[A-Z0-9]{6})/teach/$", InstructorConsumer.as_asgi()),
    re_path(r"^ws/classroom/(?P<code>[A-Z0-9]{6})/project/$", ProjectorConsumer.as_asgi()),
    re_path(r"^ws/classroom/(?P<code>[A-Z0-9]{6})/$", StudentConsumer.as_asgi()),
]
