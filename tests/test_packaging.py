"""The built wheel holds every data file of the ``podlab`` packages (JSON catalogues, the
object schema, any data directory): built from a copy of the sources, installed into a fresh
virtual environment, and compared with the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_SUFFIXES = {".py", ".pyc", ".mo"}


def data_files(package: Path) -> set[str]:
    """Paths (relative to the package's parent) of every file that is not code."""
    return {
        str(path.relative_to(package.parent))
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
        and path.suffix not in SKIPPED_SUFFIXES
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools")  # the test extra installs it: builds need no network
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "podlab", source / "podlab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(dist), str(source)],
        check=True, cwd=work)
    wheel = next(dist.glob("podlab-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True, cwd=work)
    return python


def test_the_installed_wheel_holds_every_data_file(installed: Path) -> None:
    script = (
        "import json, pathlib, podlab\n"
        "root = pathlib.Path(podlab.__file__).parent\n"
        "print(json.dumps(sorted(str(p.relative_to(root.parent)) for p in root.rglob('*')"
        " if p.is_file() and '__pycache__' not in p.parts"
        " and p.suffix not in ('.py', '.pyc'))))\n"
    )
    found = subprocess.run([str(installed), "-c", script], check=True, capture_output=True,
                           text=True, cwd=installed.parent).stdout
    expected = data_files(ROOT / "podlab")
    assert {"podlab/engine/runtime/data/images.json",
            "podlab/engine/runtime/data/servers.json"} <= expected
    missing = expected - set(json.loads(found))
    assert not missing, f"not in the wheel: {sorted(missing)}"


def test_the_installed_catalogue_reads_its_data(installed: Path) -> None:
    # the stdlib-only readers work from the installed package, not from the source tree
    script = (
        "from podlab.engine.apiserver import schema\n"
        "from podlab.engine.runtime import catalogue\n"
        "print(len(catalogue.repositories()), len(schema.type_names()))\n"
    )
    out = subprocess.run([str(installed), "-c", script], capture_output=True, text=True,
                         cwd=installed.parent)
    assert out.returncode == 0, out.stderr
    repositories, types = map(int, out.stdout.split())
    assert repositories > 20 and types > 100
