"""Rewrite imports of the engine's old flat module paths to the component packages.

For a branch started before ``podlab/engine/`` was split into ``core/``, ``apiserver/``,
``scheduler/``, ``controllers/``, ``kubelet/`` and ``runtime/``: after rebasing (git carries
edits of moved files over by rename detection), run::

    .venv/bin/python scripts/engine_layout_imports.py [PATH ...]   # default: the tracked files
    .venv/bin/ruff check --fix .                                    # re-sorts the imports

It rewrites ``podlab.engine.<old module>`` in Python, Markdown and JavaScript files and
``from podlab.engine import <old module>``; running it again changes nothing. The map is the
one ``docs/engine.md`` draws.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "podlab" / "engine"

#: old flat module -> its component package now
MOVED: dict[str, str] = {
    **dict.fromkeys(("version", "quantity", "loop", "events", "transitions"), "core"),
    **dict.fromkeys(
        ("yamlload", "validation", "defaults", "workloads", "manifest", "objects", "schema"),
        "apiserver",
    ),
    "scheduler": "scheduler",
    **dict.fromkeys(("controllers", "services", "dns"), "controllers"),
    **dict.fromkeys(("kubelet", "probes", "status", "volumes", "env", "resources"), "kubelet"),
    **dict.fromkeys(
        (
            "runtime", "fakeruntime", "process", "filesystem", "images", "catalogue",
            "registry", "servers", "imagedocs", "shell",
        ),
        "runtime",
    ),
}  # fmt: skip
#: a package named like the module it holds: ``podlab.engine.kubelet`` is now the package
SAME = {name for name, package in MOVED.items() if name == package}
OTHER = sorted((n for n in MOVED if n not in SAME), key=len, reverse=True)

_DOTTED = re.compile(r"\bpodlab([./])engine\1(" + "|".join(OTHER) + r")\b")
_DATA = re.compile(r"\bpodlab/engine/data\b")
_SAME_FILE = re.compile(r"\bpodlab/engine/(" + "|".join(sorted(SAME)) + r")\.py\b")
_SAME_ATTR = re.compile(r"\bpodlab\.engine\.(" + "|".join(sorted(SAME)) + r")\.([A-Za-z_]\w*)")
_FROM_ENGINE = re.compile(r"^([ \t]*)from podlab\.engine import ([^(\n]+?)([ \t]*#.*)?$", re.M)
_FROM_SAME = re.compile(
    r"^([ \t]*)from podlab\.engine\.(" + "|".join(sorted(SAME)) + r") import "
    r"(\([^)]*\)|[^(\n]+?)([ \t]*#.*)?$",
    re.M,
)


def _submodules(package: str) -> set[str]:
    folder = ENGINE / package
    return {p.stem for p in folder.glob("*.py")} | {p.name for p in folder.iterdir() if p.is_dir()}


def _from_engine(match: re.Match[str]) -> str:
    indent, names, comment = match.group(1), match.group(2), match.group(3) or ""
    lines = []
    for part in (p.strip() for p in names.split(",")):
        name = part.split(" as ")[0].strip()
        package = MOVED.get(name)
        lines.append(f"{indent}from podlab.engine{'.' + package if package else ''} import {part}")
    lines[0] += comment
    return "\n".join(lines)


def _from_same(match: re.Match[str]) -> str:
    """``from podlab.engine.kubelet import PodWorker`` meant the old module ``kubelet.py``;
    ``from podlab.engine.kubelet import probes`` already names the package's submodule."""
    indent, package, names, comment = match.groups()
    comment = comment or ""
    parts = [p.strip() for p in names.strip("()").replace("\n", " ").split(",") if p.strip()]
    inside = _submodules(package)
    modules = [p for p in parts if p.split(" as ")[0].strip() in inside]
    attributes = [p for p in parts if p not in modules]
    if not attributes:
        return match.group(0)
    lines = [f"{indent}from podlab.engine.{package}.{package} import {', '.join(attributes)}"]
    if modules:
        lines.append(f"{indent}from podlab.engine.{package} import {', '.join(modules)}")
    lines[0] += comment
    return "\n".join(lines)


def rewrite(text: str) -> str:
    text = _FROM_ENGINE.sub(_from_engine, text)
    text = _FROM_SAME.sub(_from_same, text)
    text = _DOTTED.sub(lambda m: f"podlab{m[1]}engine{m[1]}{MOVED[m[2]]}{m[1]}{m[2]}", text)
    text = _SAME_FILE.sub(lambda m: f"podlab/engine/{m[1]}/{m[1]}.py", text)
    text = _SAME_ATTR.sub(_same_attr, text)
    return _DATA.sub("podlab/engine/runtime/data", text)


def _same_attr(match: re.Match[str]) -> str:
    """``podlab.engine.kubelet.MAX_CRASH_BACKOFF`` (a name in the old module) gains the
    module; ``podlab.engine.kubelet.probes`` (a submodule of the package) stays."""
    package, name = match.groups()
    if name in _submodules(package):
        return match.group(0)
    return f"podlab.engine.{package}.{package}.{name}"


def main(argv: list[str]) -> int:
    if argv:
        paths = [Path(a) for a in argv]
    else:
        listed = subprocess.run(
            ["git", "ls-files", "*.py", "*.md", "*.js"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        paths = [ROOT / p for p in listed if not p.startswith("scripts/engine_layout")]
    changed = 0
    for path in paths:
        if not path.is_file():
            continue
        old = path.read_text(encoding="utf-8")
        new = rewrite(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            changed += 1
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    print(f"{changed} file(s) rewritten", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
