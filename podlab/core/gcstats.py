"""The garbage collector's pauses, measured (``gc.callbacks``) for benchmarks.

With ``PODLAB_GC_REPORT`` set to a directory, a process that calls :func:`install` (the server
at start-up, each lab worker) notes every collection it makes (generation, start on the wall
clock, duration) and writes them, with what it collected, to ``gc-<pid>.json`` in that
directory once a second. Without it, nothing is installed: no cost.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

#: how many of the last collections a report keeps
KEEP = 20000

_started: list[float] = []
_pauses: deque[tuple[int, float, float, int]] = deque(maxlen=KEEP)


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
        return
    if not _started:
        return
    began = _started.pop()
    duration = time.perf_counter() - began
    _pauses.append((info["generation"], time.time() - duration, duration,
                    info.get("collected", 0)))


def report() -> dict[str, Any]:
    return {"pid": os.getpid(), "thresholds": gc.get_threshold(),
            "frozen": gc.get_freeze_count(), "pauses": list(_pauses)}


def _write(path: Path) -> None:
    while True:
        time.sleep(1.0)
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(report()))
            tmp.replace(path)
        except OSError:
            return


def install(role: str) -> bool:
    """Measure this process's collections if ``PODLAB_GC_REPORT`` names a directory."""
    directory = os.environ.get("PODLAB_GC_REPORT")
    if not directory or _callback in gc.callbacks:
        return False
    gc.callbacks.append(_callback)
    path = Path(directory) / f"gc-{role}-{os.getpid()}.json"
    threading.Thread(target=_write, args=(path,), daemon=True, name="podlab-gc-report").start()
    return True
