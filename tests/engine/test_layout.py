"""The engine's layout: one package per Kubernetes component, imports pointing one way.

``docs/engine.md`` draws the same graph; a change to ``ALLOWED`` belongs there too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import podlab.engine

ENGINE = Path(podlab.engine.__file__).parent
PREFIX = "podlab.engine"

#: Which components each component may import (itself always). Top-level modules are the
#: assembly (``simulation``, ``controlplane``, ``cluster``) and the ``podsim`` command.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "apiserver": {"core"},
    "runtime": {"core"},
    "scheduler": {"core", "apiserver"},
    "kubelet": {"core", "apiserver", "runtime"},
    "controllers": {"core", "apiserver", "runtime"},
    "kubectl": {"core"},
    "assembly": {"core", "apiserver", "runtime", "scheduler", "kubelet", "controllers"},
    "cli": {"core", "apiserver", "kubectl", "assembly"},
}
ASSEMBLY = {"simulation", "controlplane", "cluster"}
CLI = {"cli", "__main__", "__init__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PREFIX, *parts])


def component(module: str) -> str:
    rest = module.removeprefix(PREFIX).lstrip(".").split(".")
    head = rest[0] or "__init__"
    if len(rest) == 1 and (ENGINE / f"{head}.py").exists():
        if head in ASSEMBLY:
            return "assembly"
        if head in CLI:
            return "cli"
        raise AssertionError(f"{module}: a top-level module that belongs to no component")
    if head not in ALLOWED:
        raise AssertionError(f"{module}: package {head!r} is not in the layout")
    return head


class Imports(ast.NodeVisitor):
    """Engine modules a module imports, each marked eager (runs when the module is imported)
    or not (inside a function or under ``if TYPE_CHECKING:``)."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, int, bool]] = []
        self._deferred = 0

    def _add(self, target: str, line: int) -> None:
        if target == PREFIX or target.startswith(PREFIX + "."):
            self.found.append((target, line, self._deferred == 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        for alias in node.names:
            candidate = f"{module}.{alias.name}"
            self._add(candidate if candidate in MODULES else module, node.lineno)

    def _defer(self, node: ast.AST) -> None:
        self._deferred += 1
        self.generic_visit(node)
        self._deferred -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _defer

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            self._defer(node)
        else:
            self.generic_visit(node)


PATHS = sorted(ENGINE.rglob("*.py"))
MODULES = {module_name(p): p for p in PATHS}


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    path = MODULES[module]
    visitor = Imports(module, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return visitor.found


def test_every_module_belongs_to_a_component():
    assert {component(m) for m in MODULES} == set(ALLOWED)


def test_the_allowed_graph_points_one_way():
    seen: dict[str, int] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"the allowed graph has a circle: {' -> '.join(path + (node,))}"
        if seen.get(node):
            return
        for nxt in ALLOWED[node]:
            visit(nxt, path + (node,))
        seen[node] = 1

    for node in ALLOWED:
        visit(node, ())


def test_components_import_only_what_the_layout_allows():
    """Every import counts, also those inside functions and under ``TYPE_CHECKING``: a type
    named from another component is a dependency on it."""
    wrong = []
    for module in MODULES:
        source = component(module)
        for target, line, _eager in imports_of(module):
            dest = component(target)
            if dest != source and dest not in ALLOWED[source]:
                wrong.append(f"{MODULES[module].relative_to(ENGINE)}:{line}: {source} -> {dest}")
    assert not wrong, "imports against the layout:\n" + "\n".join(wrong)


def test_nothing_but_the_command_imports_kubectl_or_the_simulation():
    for module in MODULES:
        for target, line, _eager in imports_of(module):
            if component(module) in {"cli", "kubectl"}:
                continue
            assert not target.startswith(f"{PREFIX}.kubectl"), (module, line)
            if component(module) != "assembly":
                assert target != f"{PREFIX}.simulation", (module, line)


def test_no_circle_among_module_level_imports():
    graph = {
        m: {t for t, _line, eager in imports_of(m) if eager and t in MODULES and t != m}
        for m in MODULES
    }
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            pytest.fail("import circle: " + " -> ".join(path[path.index(node) :] + [node]))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, path + [node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])


ISOLATED = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith("podlab.engine")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - reported below
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_each_module_imports_on_its_own():
    """Each module imported first, into an interpreter holding no other engine module."""
    names = sorted(m for m in MODULES if not m.endswith("__main__"))
    done = subprocess.run(
        [sys.executable, "-c", ISOLATED, *names], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The visitor finds eager, deferred and type-only imports, so the rules above can fail."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from podlab.engine.kubelet import kubelet\n"
        "if TYPE_CHECKING:\n"
        "    from podlab.engine.simulation import Simulation\n"
        "def f():\n"
        "    from podlab.engine.kubectl.get import get_pods\n"
    )
    visitor = Imports(f"{PREFIX}.runtime.example", False)
    visitor.visit(ast.parse(source))
    assert visitor.found == [
        (f"{PREFIX}.kubelet.kubelet", 2, True),
        (f"{PREFIX}.simulation", 4, False),
        (f"{PREFIX}.kubectl.get", 6, False),
    ]
    assert {component(t) for t, _line, _eager in visitor.found} - ALLOWED["runtime"] == {
        "kubelet",
        "assembly",
        "kubectl",
    }


def test_every_data_file_ships_in_the_wheel():
    """``pyproject.toml``'s package-data names every non-Python file under ``podlab/engine``
    (a wheel built without it lacks the schema and the image catalogue)."""
    import fnmatch
    import tomllib

    root = ENGINE.parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    missing = []
    for path in sorted(ENGINE.rglob("*")):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
            continue
        shipped = False
        for package, patterns in package_data.items():
            base = root.joinpath(*package.split("."))
            if base in path.parents:
                relative = path.relative_to(base).as_posix()
                shipped = shipped or any(fnmatch.fnmatch(relative, p) for p in patterns)
        if not shipped:
            missing.append(str(path.relative_to(root)))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def _layout_script():
    import importlib.util

    path = ENGINE.parents[1] / "scripts" / "engine_layout_imports.py"
    spec = importlib.util.spec_from_file_location("engine_layout_imports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_rewrite_script_maps_old_paths_to_the_layout():
    old = (
        "from podlab.engine import events as ev, simulation\n"
        "from podlab.engine.kubelet import INITIAL_CRASH_BACKOFF, probes\n"
        "from podlab.engine.probes import HISTORY\n"
        "from podlab.engine.runtime import Network  # the CRI\n"
        'patch("podlab.engine.scheduler.Scheduler")\n'
        "see podlab/engine/data/images.json and podlab/engine/kubelet.py\n"
    )
    new = (
        "from podlab.engine.core import events as ev\n"
        "from podlab.engine import simulation\n"
        "from podlab.engine.kubelet.kubelet import INITIAL_CRASH_BACKOFF\n"
        "from podlab.engine.kubelet import probes\n"
        "from podlab.engine.kubelet.probes import HISTORY\n"
        "from podlab.engine.runtime.runtime import Network  # the CRI\n"
        'patch("podlab.engine.scheduler.scheduler.Scheduler")\n'
        "see podlab/engine/runtime/data/images.json and podlab/engine/kubelet/kubelet.py\n"
    )
    script = _layout_script()
    assert script.rewrite(old) == new
    assert script.rewrite(new) == new
    # every module the map names is where the map says
    for name, package in script.MOVED.items():
        assert f"{PREFIX}.{package}.{name}" in MODULES, name
