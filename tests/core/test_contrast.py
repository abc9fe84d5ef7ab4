"""Text colours of the site's themes reach WCAG AA contrast (4.5:1) on both backgrounds."""

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR) / "static" / "css" / "site.css"
TEXT = ("--fg", "--fg-soft", "--muted", "--ok", "--bad", "--accent")


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def themes() -> list[dict[str, str]]:
    css = CSS.read_text(encoding="utf-8")
    blocks = re.findall(r"\{([^{}]*--bg:[^{}]*)\}", css)
    return [dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", block)) for block in blocks]


@pytest.mark.parametrize("theme", range(len(themes())))
def test_text_colours_reach_aa(theme):
    colours = themes()[theme]
    for background in ("--bg", "--bg-soft"):
        for name in TEXT:
            ratio = contrast(colours[name], colours[background])
            assert ratio >= 4.5, f"{name} on {background}: {ratio:.2f}"
