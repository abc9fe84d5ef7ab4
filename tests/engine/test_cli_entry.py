"""podsim runs as the README writes it, with no Django configuration in the environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "lessons/08-probes/examples/probes-exec-liveness.yaml"


def bare_env() -> dict[str, str]:
    drop = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=bare_env(),
                          capture_output=True, text=True, timeout=60)


def test_manage_py_podsim_needs_no_secret_key():
    result = run("manage.py", "podsim", EXAMPLE, "--until", "90")
    assert result.returncode == 0, result.stderr
    assert "liveness-exec" in result.stdout
    assert "Running" in result.stdout


def test_python_m_podlab_engine_gives_the_same_output():
    via_manage = run("manage.py", "podsim", EXAMPLE, "--until", "90")
    via_module = run("-m", "podlab.engine", EXAMPLE, "--until", "90")
    assert via_module.returncode == 0, via_module.stderr
    assert via_module.stdout == via_manage.stdout


def test_exit_codes_carry_over_without_django():
    result = run("-m", "podlab.engine", "does-not-exist.yaml")
    assert result.returncode == 1
    assert 'the path "does-not-exist.yaml" does not exist' in result.stderr
    result = run("manage.py", "podsim", EXAMPLE, "-o", "bogus")
    assert result.returncode == 2
