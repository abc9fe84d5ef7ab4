"""Find the Kubernetes manifests in the seed articles (plain text pages, YAML not fenced).

A manifest starts at a line ``apiVersion: ...`` written at the left margin and goes on while
lines look like YAML (indented, list items, comments, ``key:`` lines, blank lines followed by
more YAML). The seed directory is ``$PODLAB_SEEDS`` or the first ``shared/seeds`` found
above the repository (``../shared/seeds`` next to the main checkout). A checkout without the
articles runs the copy kept in ``data/seed_manifests.json``; where the articles are, a test
checks that copy is current (``python -m tests.engine.seed_manifests`` rewrites it).
"""

from __future__ import annotations

import json
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


STORED = Path(__file__).resolve().parent / "data" / "seed_manifests.json"


def stored_manifests() -> list[SeedManifest]:
    return [SeedManifest(**item) for item in json.loads(STORED.read_text(encoding="utf-8"))]


def extracted_manifests() -> list[SeedManifest] | None:
    """The manifests read from the articles themselves, or None without the articles."""
    root = seeds_dir()
    if root is None:
        return None
    out: list[SeedManifest] = []
    for path in sorted(root.glob("*.txt")):
        out.extend(extract(path.read_text(encoding="utf-8"), path.name))
    return out


def all_manifests() -> list[SeedManifest]:
    found = extracted_manifests()
    return stored_manifests() if found is None else found


if __name__ == "__main__":
    found = extracted_manifests()
    if found is None:
        raise SystemExit("the seed articles are not here (set PODLAB_SEEDS)")
    STORED.write_text(json.dumps([m.__dict__ for m in found], ensure_ascii=False, indent=1),
                      encoding="utf-8")
    print(f"{len(found)} manifests written to {STORED}")
