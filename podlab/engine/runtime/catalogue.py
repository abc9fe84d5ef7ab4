"""The image catalogue as data: ``data/images.json`` read by a small tag interpreter.

Each repository entry names a behaviour ``family``, its image config (entrypoint, cmd, env,
workdir, user, base distribution) and its **tag scheme**:

* ``lines``: release lines and their newest patch number. ``{"1.21": 6}`` says 1.21.0 … 1.21.6
  were released, so the full tags ``1.21.0`` … ``1.21.6`` exist.
* ``partial``: the repository also publishes moving tags for a line (``1.21`` → 1.21.6) and for
  each shorter prefix (``1`` → the newest ``1.x`` release), as Docker's official images do.
* ``prefix``: text before every version (``v`` for ``v1.31.2``).
* ``variants``: suffixes published as ``<version>-<variant>`` (``1.21-alpine``), optionally
  only for lines ``since``/``until`` a line; with ``bare_variants`` the variant alone is a
  tag for the newest release (``alpine``). A variant can change the family and the config
  (``php:7.4-fpm`` runs ``php-fpm``).
* ``prefixed_variants``: variants written before the version (``distroless-v1.31.2``).
* ``line_suffixes``: a moving tag per line (``v1.31-latest``); ``line_suffixes_full``: a
  build suffix every full version carries (``3.5.21-0``).
* ``aliases``: named tags (``latest``, ``stable``, ``lts``), also combined with variants
  (``stable-alpine``).
* ``explicit``: for repositories without such a scheme, the list of tags and their version.

An entry's ``eras`` change its config with the version inside: each era names the releases it
covers (``from``/``to``, inclusive, or ``versions``) and the fields that differ for them
(``entrypoint``, ``stop_signal``, ``files``: extra image files, path → text, ``absent``: paths
the image does not hold). The first era that covers a version applies; a variant's own fields
still win. nginx uses them for its entrypoint scripts and its STOPSIGNAL, which changed
between releases.

``resolve(repository, tag)`` gives the :class:`Resolved` image or None when upstream has no
such tag. The rule is documented in ``docs/images.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "images.json"
_NUMERIC = re.compile(r"^\d+(?:\.\d+)*$")


@dataclass(frozen=True, slots=True)
class Resolved:
    """One tag of a repository, as the registry serves it."""

    repository: str
    tag: str
    version: str  # the software version inside (1.21.6); the tag itself when unversioned
    variant: str
    family: str
    base: str  # debian | alpine | busybox | distroless | scratch | ...
    size: int
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    workdir: str
    user: int
    busybox: str  # the busybox version of the image's userland ("" when it has none)
    stop_signal: str = "SIGTERM"  # the image config's StopSignal (Dockerfile STOPSIGNAL)
    files: tuple[tuple[str, str], ...] = ()  # files only this release's image holds
    absent: tuple[str, ...] = ()  # paths this release's image does not hold


@functools.cache
def data() -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def repositories() -> dict[str, dict[str, Any]]:
    repos: dict[str, dict[str, Any]] = data()["repositories"]
    return repos


def canonical_domain(domain: str) -> str:
    """Registry host aliases (``k8s.gcr.io`` now serves ``registry.k8s.io``)."""
    aliases: dict[str, str] = data()["domains"]
    return aliases.get(domain, domain)


def known(repository: str) -> bool:
    return repository in repositories()


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _lines(scheme: dict[str, Any]) -> dict[str, int]:
    lines: dict[str, int] = scheme.get("lines") or {}
    return lines


def _newest(scheme: dict[str, Any], prefix: str = "") -> str | None:
    """The newest release overall, or of the lines starting with ``prefix``."""
    lines = [
        line for line in _lines(scheme)
        if not prefix or line == prefix or line.startswith(prefix + ".")
    ]
    if not lines:
        return None
    line = max(lines, key=_key)
    return f"{line}.{_lines(scheme)[line]}"


def _line_of(scheme: dict[str, Any], version: str) -> str | None:
    for line in _lines(scheme):
        if version == line or version.startswith(line + "."):
            rest = version[len(line) + 1 :]
            if not rest or (rest.isdigit() and int(rest) <= _lines(scheme)[line]):
                return line
    return None


def _version_for(scheme: dict[str, Any], text: str) -> str | None:
    """The release a version-shaped tag part names, None when there is none."""
    if not _NUMERIC.match(text):
        return None
    lines = _lines(scheme)
    for line, last in lines.items():
        if text.startswith(line + "."):
            rest = text[len(line) + 1 :]
            if rest.isdigit() and str(int(rest)) == rest and int(rest) <= last:
                return text
    if scheme.get("partial"):
        return _newest(scheme, text)
    return None


def _variant_allowed(spec: dict[str, Any], line: str | None) -> bool:
    if line is None:
        return True
    since, until = spec.get("since"), spec.get("until")
    if since is not None and _key(line) < _key(since):
        return False
    return not (until is not None and _key(line) > _key(until))


def _split_variant(scheme: dict[str, Any], tag: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Candidate (rest, variant, spec) splits of ``tag``, plain first."""
    out: list[tuple[str, str, dict[str, Any]]] = [(tag, "", {})]
    variants: dict[str, dict[str, Any]] = scheme.get("variants") or {}
    for name in sorted(variants, key=len, reverse=True):
        if tag.endswith("-" + name):
            out.append((tag[: -len(name) - 1], name, variants[name]))
        elif tag == name and scheme.get("bare_variants"):
            out.append(("latest", name, variants[name]))
    prefixed: dict[str, dict[str, Any]] = scheme.get("prefixed_variants") or {}
    for name, spec in prefixed.items():
        if tag.startswith(name):
            out.append((tag[len(name) :], name.rstrip("-"), spec))
    return out


def _resolve_version(scheme: dict[str, Any], rest: str) -> str | None:
    aliases: dict[str, str] = scheme.get("aliases") or {}
    if rest in aliases:
        return aliases[rest]
    prefix = scheme.get("prefix", "")
    for suffix in scheme.get("line_suffixes") or ():
        if rest.endswith(suffix) and rest.startswith(prefix):
            line = rest[len(prefix) : -len(suffix)]
            if line in _lines(scheme):
                return _newest(scheme, line)
    for suffix in scheme.get("line_suffixes_full") or ():
        if not rest.endswith(suffix):
            return None
        rest = rest[: -len(suffix)]
        version = _version_for({"lines": _lines(scheme)}, rest[len(prefix) :])
        return version if rest.startswith(prefix) else None
    if prefix:
        if not rest.startswith(prefix):
            return None
        rest = rest[len(prefix) :]
    return _version_for(scheme, rest)


def _size(base: int, repository: str, version: str) -> int:
    """Sizes differ a little from release to release (a fixed ±4 %)."""
    h = int(hashlib.sha256(f"{repository}:{version}".encode()).hexdigest()[:8], 16)
    return int(base * (0.96 + 0.08 * (h / 0xFFFFFFFF)))


@functools.lru_cache(maxsize=4096)
def resolve(repository: str, tag: str) -> Resolved | None:
    """What ``repository:tag`` is upstream, None when the tag does not exist."""
    entry = repositories().get(repository)
    if entry is None:
        return None
    scheme: dict[str, Any] = entry.get("tags") or {}
    explicit: dict[str, str] = scheme.get("explicit") or {}
    if tag in explicit:
        return _build(repository, entry, tag, explicit[tag], "", {})
    for rest, variant, spec in _split_variant(scheme, tag):
        version = _resolve_version(scheme, rest)
        if version is None:
            continue
        if variant and not _variant_allowed(spec, _line_of(scheme, version)):
            continue
        return _build(repository, entry, tag, version, variant, spec)
    return None


def _build(
    repository: str,
    entry: dict[str, Any],
    tag: str,
    version: str,
    variant: str,
    spec: dict[str, Any],
) -> Resolved:
    era = _era(entry, version)

    def pick(name: str, default: Any) -> Any:
        return spec.get(name, era.get(name, entry.get(name, default)))

    base = str(pick("base", "debian"))
    env: dict[str, str] = dict(entry.get("env") or {})
    if entry.get("env_version"):
        env[entry["env_version"]] = version
    busybox = ""
    if base == "busybox":
        busybox = version if entry.get("family") == "busybox" and _NUMERIC.match(version) \
            else "1.36.1"
    elif base == "alpine":
        table: dict[str, str] = entry.get("busybox") or {}
        line = ".".join(version.split(".")[:2])
        busybox = table.get(line, "1.37.0")
    return Resolved(
        repository=repository,
        tag=tag,
        version=version,
        variant=variant,
        family=str(pick("family", "")),
        base=base,
        size=_size(int(spec.get("size", entry["size"])), repository, version),
        entrypoint=tuple(pick("entrypoint", [])),
        cmd=tuple(pick("cmd", [])),
        env=tuple(sorted(env.items())),
        workdir=str(pick("workdir", "/")),
        user=int(pick("user", 0)),
        busybox=busybox,
        stop_signal=str(pick("stop_signal", "SIGTERM")),
        files=tuple(sorted((era.get("files") or {}).items())),
        absent=tuple(era.get("absent") or ()),
    )


def _era(entry: dict[str, Any], version: str) -> dict[str, Any]:
    """The first of the entry's ``eras`` that covers ``version`` (empty when none does)."""
    if not _NUMERIC.match(version):
        return {}
    key = _key(version)
    for era in entry.get("eras") or []:
        if "versions" in era:
            if version in era["versions"]:
                return dict(era)
            continue
        low, high = era.get("from"), era.get("to")
        if low is not None and key < _key(low):
            continue
        if high is not None and key > _key(high):
            continue
        return dict(era)
    return {}


def example_tags(repository: str, limit: int = 8) -> list[str]:
    """A few tags that exist, newest first (for the docs and error narration)."""
    entry = repositories()[repository]
    scheme: dict[str, Any] = entry.get("tags") or {}
    explicit: dict[str, str] = scheme.get("explicit") or {}
    if explicit:
        return list(explicit)[:limit]
    out: list[str] = list(scheme.get("aliases") or {})
    prefix = scheme.get("prefix", "")
    suffix = (scheme.get("line_suffixes_full") or [""])[0]
    for line in sorted(_lines(scheme), key=_key, reverse=True)[:2]:
        if scheme.get("partial"):
            out.append(f"{prefix}{line}")
        out.append(f"{prefix}{line}.{_lines(scheme)[line]}{suffix}")
    out.extend(f"{prefix}{line}-{name}" if scheme.get("partial") else name
               for name in list(scheme.get("variants") or {})[:2]
               for line in [max(_lines(scheme), key=_key)])
    return [t for t in out if resolve(repository, t) is not None][:limit]


def all_tags(repository: str) -> list[str]:
    """Every tag the scheme publishes (for finding a tag by digest)."""
    entry = repositories()[repository]
    scheme: dict[str, Any] = entry.get("tags") or {}
    tags: list[str] = list(scheme.get("explicit") or {})
    prefix = scheme.get("prefix", "")
    suffix = (scheme.get("line_suffixes_full") or [""])[0]
    versions: list[str] = []
    for line, last in _lines(scheme).items():
        versions.extend(f"{line}.{n}" for n in range(last + 1))
        if scheme.get("partial"):
            versions.append(line)
            parts = line.split(".")
            versions.extend(".".join(parts[:i]) for i in range(1, len(parts)))
    names = [f"{prefix}{v}{suffix}" for v in dict.fromkeys(versions)]
    names += list(scheme.get("aliases") or {})
    names += [f"{prefix}{line}{s}" for line in _lines(scheme)
              for s in scheme.get("line_suffixes") or ()]
    tags.extend(names)
    for name in scheme.get("variants") or {}:
        tags.extend(f"{n}-{name}" for n in names)
        if scheme.get("bare_variants"):
            tags.append(name)
    for name in scheme.get("prefixed_variants") or {}:
        tags.extend(f"{name}{n}" for n in names)
    return [t for t in dict.fromkeys(tags) if resolve(repository, t) is not None]


__all__ = ["Resolved", "all_tags", "canonical_domain", "example_tags", "known", "resolve"]
