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


PROBED = a.SLEEPER.replace('"echo hello; sleep 3600"]', '"echo hello; sleep 3600"]\n'
                           "    livenessProbe:\n      exec: {command: ['true']}\n"
                           "      periodSeconds: 1\n")
GRACE_INT64 = a.SLEEPER.replace("spec:\n", "spec:\n  terminationGracePeriodSeconds: "
                                "9223372036854775807\n", 1)
BAD_SURGE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  strategy: {rollingUpdate: {maxSurge: "1e308%"}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
"""
#: name: (arguments, with {lab} for the manifest's path; manifest; status; what stderr says)
ARGUMENT_CASES = {
    # a probe every second for 1e308 s ran on for ever (10,000 hours: minutes)
    "until_huge": (["{lab}", "--until", "1e308"], PROBED, 2,
                   "--until must be a number of seconds from 0 to 86400"),
    "until_later_than_a_day": (["{lab}", "--until", "36000000"], PROBED, 2, "86400"),
    "apply_at_1e308": (["{lab}@1e308", "--until", "60"], PROBED, 2, "is after --until"),
    # /dev/zero was read whole: MemoryError (or all the machine's memory)
    "dev_zero": (["/dev/zero"], None, 2, 'the path "/dev/zero" holds more than 262144 bytes'),
    # a --cluster file that is not UTF-8 was a UnicodeDecodeError traceback
    "cluster_not_utf8": (["{lab}", "--cluster", "{bad}"], a.SLEEPER, 1,
                         "cannot be read: 'utf-8' codec can't decode byte 0xff"),
    # the deadline of a grace period of 2**63 - 1 s overflowed the timestamp: a traceback
    "grace_period_int64": (["{lab}", "--delete-at", "5", "--grace-period",
                            "99999999999999999999"], a.SLEEPER, 0, ""),
    "pod_grace_int64": (["{lab}", "--delete-at", "5", "-o", "json"], GRACE_INT64, 0, ""),
    # 100,000 replicas (or 10**20) ran for minutes (for ever); 5,000 digits: a traceback
    "replicas_100000": (["{lab}", "--until", "5"], a.THOUSAND_REPLICAS.replace(
        "replicas: 1000", "replicas: 100000"), 2, "the manifests ask for 100000 Pods"),
    "scale_1e20": (["{lab}", "--scale", "deployment/web=99999999999999999999@1"],
                   a.THOUSAND_REPLICAS.replace("replicas: 1000", "replicas: 1"), 2,
                   "podsim runs at most 1000 Pods"),
    "scale_5000_digits": (["{lab}", "--scale", "deployment/web=" + "9" * 5000 + "@1"],
                          a.THOUSAND_REPLICAS.replace("replicas: 1000", "replicas: 1"), 2,
                          "podsim runs at most 1000 Pods"),
    # a pasted float as maxSurge crashed the Deployment controller: a traceback
    "max_surge_float": (["{lab}"], BAD_SURGE, 2, "a valid percent string"),
}


@pytest.mark.parametrize("name", sorted(ARGUMENT_CASES))
def test_podsim_answers_hostile_arguments_clearly(name, tmp_path):
    arguments, manifest, status, expected = ARGUMENT_CASES[name]
    lab, bad = tmp_path / "lab.yaml", tmp_path / "bad.yaml"
    lab.write_text(manifest or "")
    bad.write_bytes(b"kind: Node\n\xff\xfe\n")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "podsim",
         *(arg.format(lab=lab, bad=bad) for arg in arguments)], cwd=ROOT,
        capture_output=True, text=True, timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin",
             "PYTHONPATH": str(ROOT)})
    seconds = time.monotonic() - started
    print(name, {"seconds": round(seconds, 2), "status": done.returncode})
    assert done.returncode == status, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr[-2000:]
    assert seconds < 15
