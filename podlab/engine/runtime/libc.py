"""Which C library a container's image is built on, read from its files.

Programs print ``strerror`` texts, and those differ: glibc (Debian and Ubuntu images) says
"Address already in use" for EADDRINUSE, musl (Alpine images) says "Address in use".
"""

from __future__ import annotations

from typing import Any


def is_musl(fs: Any) -> bool:
    """True for an Alpine (musl) image: it has ``/etc/alpine-release``."""
    try:
        return bool(fs is not None and fs.exists("/etc/alpine-release"))
    except Exception:  # noqa: BLE001 - an unreadable file system is not Alpine
        return False
