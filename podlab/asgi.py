"""ASGI entry point: HTTP through Django, websockets through Channels, health checks first."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podlab.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from podlab.core.db import auth_middleware_stack  # noqa: E402
from podlab.core.gcstats import install as measure_gc  # noqa: E402
from podlab.core.gctune import tune_for_server  # noqa: E402
from podlab.core.health import HealthChecks  # noqa: E402
from podlab.core.origin import SameOriginValidator  # noqa: E402
from podlab.lab.routing import websocket_urlpatterns as lab_routes  # noqa: E402
from podlab.lab.workers import pool  # noqa: E402
from podlab.routing import websocket_urlpatterns  # noqa: E402

# The lab needs neither the session nor the user: its sockets skip the session lookup, so a
# database that is down or slow cannot hold their handshake. Every other socket knows its user.
lab_sockets = URLRouter(lab_routes)
# Their database calls run on a bounded pool of threads, not on one (podlab/core/db.py).
user_sockets = auth_middleware_stack(URLRouter(websocket_urlpatterns))


async def websockets(scope, receive, send):
    if scope["path"].lstrip("/").startswith("ws/lab/"):
        return await lab_sockets(scope, receive, send)
    return await user_sockets(scope, receive, send)


application = HealthChecks(ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(websockets),
    }
))

# Everything is loaded: freeze it and collect less often (see podlab/core/gctune.py).
tune_for_server()
measure_gc("server")  # only with PODLAB_GC_REPORT (benchmarks/bench_lab.py)
# The lab workers start now, so the first lab does not wait for them (podlab/lab/workers.py).
pool().start()
