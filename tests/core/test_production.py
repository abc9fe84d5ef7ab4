"""Production mode: DEBUG off, collected static files served by WhiteNoise under Daphne."""

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.browser.conftest import start_daphne

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


def test_settings_refuse_to_start_without_a_secret_when_debug_is_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["DJANGO_SETTINGS_MODULE"] = "podlab.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_daphne_serves_hashed_static_files_with_debug_off(tmp_path):
    static_root = tmp_path / "static"
    env = {
        "DJANGO_SETTINGS_MODULE": "podlab.settings",
        "SECRET_KEY": "production-test-secret-key-0123456789-abcdefghijkl",
        "DEBUG": "0",
        "STATIC_ROOT": str(static_root),
        "SECURE_COOKIES": "1",
        "PODLAB_STATIC_FINDERS": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, check=True,
    )
    assert (static_root / "staticfiles.json").exists()
    proc, base = start_daphne(tmp_path, extra_env=env)
    try:
        status, headers, body = fetch(base + "/en/")
        assert status == 200
        html = body.decode()
        assert "Content-Security-Policy" in headers
        assert headers["X-Frame-Options"] == "DENY"
        css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
        assert css, "the page must link the fingerprinted stylesheet"
        status, headers, body = fetch(base + css.group(1))
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert "immutable" in headers.get("Cache-Control", "")
        assert b"--accent" in body
        script = re.search(r'src="(/static/js/theme\.[0-9a-f]{12}\.js)"', html)
        assert script and fetch(base + script.group(1))[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
