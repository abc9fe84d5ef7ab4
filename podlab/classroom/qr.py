"""The join QR code, drawn on the server as SVG (no request leaves the site)."""

from __future__ import annotations

import segno


def qr_svg(*, text: str) -> str:
    """An SVG document of a QR code for ``text`` (error correction M, a quiet zone of 4)."""
    code = segno.make_qr(text, error="m")
    return code.svg_inline(scale=8, border=4, dark="#000", light="#fff", omitsize=True)
