"""Hostile manifests given to ``podsim`` (a subprocess, as a learner runs it): each ends in a
located error and exit status 2 within a few seconds, never a traceback."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import attacks as a

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "long_yaml_integer": (a.LONG_INT_YAML.encode(), "digits"),
    "long_quantity": (a.LONG_QUANTITY.encode(), "unable to parse numeric part of quantity"),
    "deep_nesting": (b"x: " + b"[" * 5000 + b"\n", "nesting too deep"),
    "huge_list": (("apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n"
                   "  - name: c\n    image: busybox:1.36\n    args:\n" + "    - a\n" * 30_000)
                  .encode(), "nodes"),
    # An encoded surrogate is not UTF-8: the file cannot be read (status 1, the byte's place).
    "lone_surrogate_bytes": (a.SLEEPER.encode().replace(b"sleeper", b"sl\xed\xa0\x80eeper", 1),
                             "cannot be read: 'utf-8' codec can't decode byte 0xed in position"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_podsim_answers_hostile_manifests_clearly(name, tmp_path):
    text, expected = CASES[name]
    path = tmp_path / "lab.yaml"
    path.write_bytes(text)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "podsim", str(path), "--until", "60"], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin",
             "PYTHONPATH": str(ROOT)})
    seconds = time.monotonic() - started
    print(name, {"seconds": round(seconds, 2), "status": done.returncode})
    assert done.returncode == (1 if name == "lone_surrogate_bytes" else 2), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert expected in done.stderr or expected in done.stdout, done.stderr[-2000:]
    assert seconds < 15
