"""Websocket routes, all under ws/."""

from podlab.lab.routing import websocket_urlpatterns as lab_routes

websocket_urlpatterns = [*lab_routes]
