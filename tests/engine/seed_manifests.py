"""Find the Kubernetes manifests in the seed articles (plain text pages, YAML not fenced).

A manifest starts at a line ``apiVersion: ...`` written at the left margin and goes on while
lines look like YAML (indented, list items, comments, ``key:`` lines, blank lines followed by
more YAML). The seed directory is ``$PODLAB_SEEDS`` or the first ``shared/seeds`` found
above the repository (``../shared/seeds`` next to the main checkout).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z][\w.-]*:(\s|$)")
_YAMLISH = re.compile(r"^(\s+\S|- |#|---)")


@dataclass(frozen=True)
class SeedManifest:
    file: str
    line: int
    text: str

    @property
    def label(self) -> str:
        return f"{self.file}:{self.line}"


def seeds_dir() -> Path | None:
    env = os.environ.get("PODLAB_SEEDS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "seeds"
        if candidate.is_dir():
            return candidate
    return None


def _is_yaml(line: str) -> bool:
    return bool(_KEY.match(line) or _YAMLISH.match(line))


def extract(text: str, file: str) -> list[SeedManifest]:
    lines = text.splitlines()
    found: list[SeedManifest] = []
    i = 0
    while i < len(lines):
        if not re.match(r"^apiVersion:\s*\S+\s*$", lines[i]):
            i += 1
            continue
        start = i
        body = [lines[i]]
        i += 1
        while i < len(lines):
            line = lines[i]
            if line.strip() == "":
                nxt = next((ln for ln in lines[i + 1 :] if ln.strip()), "")
                if not _is_yaml(nxt) or re.match(r"^apiVersion:", nxt):
                    break
                body.append("")
            elif _is_yaml(line) and not re.match(r"^apiVersion:", line):
                body.append(line)
            elif line.strip() == "---":
                break
            else:
                break
            i += 1
        found.append(SeedManifest(file, start + 1, "\n".join(body).rstrip() + "\n"))
    return found


def all_manifests() -> list[SeedManifest]:
    root = seeds_dir()
    if root is None:
        return []
    out: list[SeedManifest] = []
    for path in sorted(root.glob("*.txt")):
        out.extend(extract(path.read_text(encoding="utf-8"), path.name))
    return out
