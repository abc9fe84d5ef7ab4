"""The garbage collector's pauses as benchmarks read them (podlab/core/gcstats.py)."""

import gc
import json
import time

from podlab.core import gcstats


def test_nothing_is_installed_without_a_directory(monkeypatch):
    monkeypatch.delenv("PODLAB_GC_REPORT", raising=False)
    assert gcstats.install("server") is False
    assert gcstats._callback not in gc.callbacks


def test_each_collection_is_appended_once_as_a_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PODLAB_GC_REPORT", str(tmp_path))
    try:
        assert gcstats.install("server") is True
        assert gcstats.install("server") is False  # once per process
        began = time.time()
        gc.collect(0)
        gc.collect(2)
        deadline = time.monotonic() + 10
        lines: list[list] = []
        while time.monotonic() < deadline and len(lines) < 2:
            time.sleep(0.2)
            files = list(tmp_path.glob("gc-server-*.jsonl"))
            lines = [json.loads(x) for f in files for x in f.read_text().splitlines()]
        mine = [p for p in lines if p[1] >= began - 1]
        assert [p[0] for p in mine][:2] == [0, 2], lines
        assert all(p[2] >= 0 for p in mine)
        time.sleep(1.3)  # the next write adds only what is new
        again = [json.loads(x) for f in tmp_path.glob("gc-server-*.jsonl")
                 for x in f.read_text().splitlines()]
        assert again[:len(lines)] == lines
    finally:
        if gcstats._callback in gc.callbacks:
            gc.callbacks.remove(gcstats._callback)
