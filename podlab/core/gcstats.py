"""The garbage collector's pauses, measured (``gc.callbacks``) for benchmarks.

With ``PODLAB_GC_REPORT`` set to a directory, a process that calls :func:`install` (the server
at start-up, each lab worker) notes every collection it makes (generation, start on the wall
clock, duration) and, once a second, appends the new ones, with what each collected, to
``gc-<role>-<pid>.jsonl`` in that directory, one JSON list per line (``[generation, start,
seconds, collected]``): the writing costs the measured process little, however long it runs.
Without it, nothing is installed: no cost.
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

_started: list[float] = []
#: collections not written yet (the callback appends; the writer takes them)
_pauses: deque[tuple[int, float, float, int]] = deque()


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


def _write(path: Path) -> None:
    while True:
        time.sleep(1.0)
        lines = []
        while _pauses:
            lines.append(json.dumps(_pauses.popleft()))
        if not lines:
            continue
        try:
            with path.open("a") as out:
                out.write("\n".join(lines) + "\n")
        except OSError:
            return


def install(role: str) -> bool:
    """Measure this process's collections if ``PODLAB_GC_REPORT`` names a directory."""
    directory = os.environ.get("PODLAB_GC_REPORT")
    if not directory or _callback in gc.callbacks:
        return False
    gc.callbacks.append(_callback)
    path = Path(directory) / f"gc-{role}-{os.getpid()}.jsonl"
    threading.Thread(target=_write, args=(path,), daemon=True, name="podlab-gc-report").start()
    return True
