import gc

import pytest

from podlab.core import gctune


def test_thresholds_from_the_environment():
    assert gctune.thresholds_from_env(None) == gctune.SERVER_THRESHOLDS
    assert gctune.thresholds_from_env("") == gctune.SERVER_THRESHOLDS
    assert gctune.thresholds_from_env("700, 10, 10") == (700, 10, 10)
    for bad in ("700,10", "a,b,c", "700,10,-1", "1,2,3,4"):
        with pytest.raises(ValueError, match="PODLAB_GC_THRESHOLDS"):
            gctune.thresholds_from_env(bad)


def test_tune_for_server_freezes_and_sets_thresholds(monkeypatch):
    before = gc.get_threshold()
    monkeypatch.setenv("PODLAB_GC_THRESHOLDS", "1234,11,12")
    try:
        assert gctune.tune_for_server() == (1234, 11, 12)
        assert gc.get_threshold() == (1234, 11, 12)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_server_entry_point_tunes_the_collector():
    """Daphne imports podlab.asgi: that import freezes start-up objects and sets thresholds."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PODLAB_GC_THRESHOLDS"}
    code = "import gc, podlab.asgi; print(gc.get_threshold(), gc.get_freeze_count() > 10000)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == f"{gctune.SERVER_THRESHOLDS} True"
