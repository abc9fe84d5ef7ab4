"""A dropped lab gives its memory back at once, not at the next full collection (which the
workers make rarely: podlab/core/gctune.py), and taking it apart touches nothing else."""

import gc
import weakref

import pytest

from podlab.lab import runner
from podlab.lab.dismantle import dismantle
from tests.lab.manifests import PROBED


def _playing(labs, lab_id, ticks=40):
    runner.start(labs, lab_id, manifest=PROBED, seed=0, lang="en")
    gc.collect(0)  # as a worker does after each request: the youngest generation only
    runner.play(labs, lab_id)
    return [_tick(labs, lab_id) for _ in range(ticks)]


def _tick(labs, lab_id):
    answer = runner.tick(labs, lab_id, elapsed=0.25, speed=10, lang="en", view="watch",
                         due_views=False, due_heartbeat=True, due_probes=True)
    gc.collect(0)
    return answer["kind"], answer["body"]


@pytest.fixture
def no_collector():
    """No automatic collection: a full one would free a dropped lab without dismantle."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if enabled:
        gc.enable()


def test_a_dropped_lab_is_freed_without_a_collection(no_collector):
    labs = {}
    _playing(labs, 1)
    sim = weakref.ref(labs[1].sim)
    node = weakref.ref(labs[1].sim.node)
    runner.drop(labs, 1)
    assert sim() is None and node() is None
    # Of the several hundred objects in the lab's cycles, next to nothing is left over.
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = len(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left < 50


def test_what_is_still_referred_to_is_left_whole(no_collector):
    labs = {}
    _playing(labs, 1)
    _playing(labs, 2)
    kept = labs[1].sim.node  # held from outside the lab: it and all it reaches stay
    pods = kept.pods if hasattr(kept, "pods") else None
    before = dict(vars(kept))
    lab = labs.pop(1)
    dismantle(lab)
    assert vars(kept) == before
    if pods is not None:
        assert kept.pods is pods
    # The other lab plays on exactly as one that never shared a worker with the dropped one.
    alone = {}
    _playing(alone, 2)
    assert [_tick(labs, 2) for _ in range(40)] == [_tick(alone, 2) for _ in range(40)]


def test_a_shared_object_is_not_emptied(no_collector):
    shared = {"catalogue": [1, 2, 3]}

    class Part:
        pass

    def lab():
        root, part, held = Part(), Part(), Part()
        root.part, part.root, part.shared = part, root, shared  # a cycle and a shared dict
        part.held, held.root = held, root  # a part someone outside still holds
        return root, weakref.ref(part), held

    root, part, held = lab()
    dismantle(root)
    del root
    assert part() is not None  # reached from ``held``: whole
    assert part().shared is shared and shared == {"catalogue": [1, 2, 3]}
    del held
    root, part, held = lab()
    del held  # now only the lab refers to it
    dismantle(root)
    del root
    assert part() is None
    assert shared == {"catalogue": [1, 2, 3]}
