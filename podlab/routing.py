"""Websocket routes, all under ws/."""

from podlab.classroom.routing import websocket_urlpatterns as classroom_routes
from podlab.lab.routing import websocket_urlpatterns as lab_routes

websocket_urlpatterns = [*lab_routes, *classroom_routes]
