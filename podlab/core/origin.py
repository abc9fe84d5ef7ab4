"""Websocket Origin check: the page must come from this very site, scheme and port included.

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page served from
``http://127.0.0.1:9999`` could open sockets to ``https://127.0.0.1`` with the user's
cookies. Here the Origin must equal the origin the socket itself was opened on (the scheme the
client used, the Host header with its port), or be listed in ``CSRF_TRUSTED_ORIGINS``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _normal(scheme: str, host: str, port: int | None) -> tuple[str, str, int | None]:
    return scheme, host.lower().strip("[]"), port or DEFAULT_PORTS.get(scheme)


def _parse(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return _normal(parts.scheme, parts.hostname, port)


def _client_scheme(scope: dict[str, Any], headers: dict[bytes, bytes]) -> str:
    if getattr(settings, "TRUST_PROXY_HEADERS", False):
        forwarded = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0]
        if forwarded.strip() in DEFAULT_PORTS:
            return forwarded.strip()
    return "https" if scope.get("scheme") in {"wss", "https"} else "http"


def origin_allowed(scope: dict[str, Any]) -> bool:
    headers = dict(scope.get("headers") or [])
    raw = headers.get(b"origin")
    if not raw:
        return False
    origin = _parse(raw.decode("latin-1"))
    if origin is None:
        return False
    trusted = {_parse(o) for o in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    scheme = _client_scheme(scope, headers)
    host_header = headers.get(b"host", b"").decode("latin-1")
    if host_header:
        domain, port = split_domain_port(host_header.lower())
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        return origin == _normal(scheme, domain, int(port) if port else None)
    # No Host header (only in-process tests; HTTP/1.1 requires one): the origin must be an
    # allowed host on the scheme's default port.
    return origin[0] == scheme and origin[2] == DEFAULT_PORTS[scheme] and validate_host(
        origin[1], settings.ALLOWED_HOSTS)


class SameOriginValidator:
    """ASGI middleware: refuse a websocket whose Origin is not this site's."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
