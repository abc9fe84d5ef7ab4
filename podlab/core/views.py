"""Error pages: a database that cannot be reached is a 503 with a clear message, not a 500."""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

#: seconds a client is asked to wait before it tries again when a dependency is down
RETRY_AFTER = 10


def database_down(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database cannot be reached (or did not answer in time)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    # PostgreSQL's statement_timeout arrives as a DatabaseError subclass (QueryCanceled).
    cause = getattr(exc, "__cause__", None)
    return isinstance(exc, DatabaseError) and type(cause).__name__ == "QueryCanceled"


def _page(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"error": message}, status=status)
    else:
        # A page of its own: base.html reads the session and the user, which may be what
        # failed. It needs no request context (no nonce: it runs no script).
        html = render_to_string("core/error.html", {"title": title, "message": message})
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if database_down(exc):
        return _page(request, status=503, title=_("Temporarily unavailable"), message=_(
            "PodLab cannot reach its database right now. Your work in the lab is not "
            "affected; answers and progress can be saved again in a moment. Please try "
            "again shortly."))
    return _page(request, status=500, title=_("Something went wrong"), message=_(
        "The server failed unexpectedly; the error was logged. Please try again."))
