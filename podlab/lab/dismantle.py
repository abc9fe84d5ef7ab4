"""A closed lab's memory back at once, without a full collection.

A simulation is full of reference cycles (components that know each other, callbacks bound to
them), so a dropped lab is cyclic garbage: reference counting cannot free it, and the worker
collects its old generation rarely (podlab/core/gctune.py) because a full collection walks
every live lab. :func:`dismantle` does what the collector would do, for the dropped lab's
objects only: it finds what can be reached from the lab, keeps whatever is referred to from
outside that graph (and all it reaches), and empties the containers and instance
dictionaries of the rest, which breaks the cycles so that reference counting frees them.
"""

from __future__ import annotations

import collections
import gc
import sys
import types
from typing import Any

#: shared by every lab: never walked into
_SHARED = (type, types.ModuleType, types.CodeType, types.FrameType)
#: a lab larger than this (objects) is left to the collector
MAX_OBJECTS = 2_000_000


def _module_dicts() -> set[int]:
    return {id(vars(m)) for m in list(sys.modules.values()) if m is not None
            and hasattr(m, "__dict__")}


def _graph(root: Any) -> dict[int, Any] | None:
    skip = _module_dicts()
    found: dict[int, Any] = {id(root): root}
    stack = [root]
    while stack:
        for ref in gc.get_referents(stack.pop()):
            key = id(ref)
            if (key in found or key in skip or not gc.is_tracked(ref)
                    or isinstance(ref, _SHARED)):
                continue
            found[key] = ref
            stack.append(ref)
        if len(found) > MAX_OBJECTS:
            return None
    return found


def _inside(found: dict[int, Any]) -> collections.Counter[int]:
    """How many references each object of ``found`` has from within ``found``."""
    inside: collections.Counter[int] = collections.Counter()
    for key in found:
        for ref in gc.get_referents(found[key]):
            if id(ref) in found:
                inside[id(ref)] += 1
    return inside


def _outside(found: dict[int, Any], inside: collections.Counter[int], root: int) -> list[int]:
    """The objects of ``found`` referred to from outside it (``root`` aside)."""
    referred = []
    for key in found:
        # getrefcount's argument and ``found`` are the two references of this function's
        if key != root and sys.getrefcount(found[key]) - 2 - inside[key] > 0:
            referred.append(key)
    return referred


def _reached(found: dict[int, Any], live: list[int]) -> set[int]:
    reached = set(live)
    while live:
        for ref in gc.get_referents(found[live.pop()]):
            key = id(ref)
            if key in found and key not in reached:
                reached.add(key)
                live.append(key)
    return reached


def _empty(obj: Any) -> bool:
    if isinstance(obj, dict | list | set | collections.deque):
        obj.clear()
    elif isinstance(obj, types.CellType):
        try:
            del obj.cell_contents
        except ValueError:
            return False
    elif isinstance(getattr(obj, "__dict__", None), dict):
        obj.__dict__.clear()
    else:
        return False
    return True


def dismantle(root: Any) -> int:
    """Free the object graph of ``root``, which the caller owns and has let go of (the
    caller's own references to it are not counted); returns how many objects were emptied,
    0 when the graph was too large to take apart here."""
    found = _graph(root)
    if found is None:
        return 0
    reached = _reached(found, _outside(found, _inside(found), id(root)))
    doomed = [found[key] for key in found if key not in reached]
    found.clear()
    # Suspended generators (shell programs, servers) first, while what their ``finally``
    # blocks touch is whole: as the collector would, it closes them before freeing them.
    for obj in doomed:
        if isinstance(obj, types.GeneratorType | types.CoroutineType):
            try:
                obj.close()
            except Exception:  # noqa: BLE001, S110 - as the collector: ignored, the lab is gone
                pass
    return sum(_empty(obj) for obj in doomed)
