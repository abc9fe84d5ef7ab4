"""Garbage-collector settings for a server process that holds many simulations.

A Daphne process with a thousand labs holds millions of long-lived objects (every lab's
cluster, Pods, records and logs). With CPython's default thresholds a full collection runs
every few seconds while labs start, and each one walks all of those objects: pauses of
0.5-1 s in which no lab on the process gets a frame. The engine frees what it discards by
reference counting (it makes no reference cycles while a lab runs; tests check that), so the
collector has little to find. ``tune_for_server`` therefore

* freezes what was loaded at start-up (Django, the schema, the image catalogue), so that no
  collection walks it again, and
* keeps CPython's young generations (small, so each pass is short) but runs a full collection
  a hundred times less often: still regularly, because a closed lab's simulation is cyclic
  garbage that only a full collection frees.

``PODLAB_GC_THRESHOLDS="700,10,10"`` (CPython's defaults) or any other three integers
override the thresholds.
"""

from __future__ import annotations

import gc
import os

SERVER_THRESHOLDS = (700, 10, 1000)


def thresholds_from_env(value: str | None) -> tuple[int, int, int]:
    """The thresholds ``PODLAB_GC_THRESHOLDS`` asks for, or ``SERVER_THRESHOLDS``."""
    if not value:
        return SERVER_THRESHOLDS
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(
            f"PODLAB_GC_THRESHOLDS must be three integers such as 700,10,10, not {value!r}")
    first, second, third = (int(p) for p in parts)
    return first, second, third


def tune_for_server() -> tuple[int, int, int]:
    """Freeze the start-up objects and set the thresholds; returns the thresholds set."""
    thresholds = thresholds_from_env(os.environ.get("PODLAB_GC_THRESHOLDS"))
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return thresholds
