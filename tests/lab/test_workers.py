"""The worker pool: budgets, memory caps and lost workers, with operations made to misbehave
(tests/lab/pool_ops.py), so each guard is tested on its own."""

import asyncio
import time

import pytest

from podlab.lab.workers import WorkerError, WorkerLost, WorkerPool


@pytest.fixture(scope="module")
def test_pool():
    pool = WorkerPool(size=2, memory_mb=768, ops_module="tests.lab.pool_ops", wall_grace=1.0)
    assert pool.start(wait=60)
    yield pool
    pool.close()


async def test_labs_go_to_the_least_busy_worker_and_keep_their_state(test_pool):
    a, b = test_pool.open(), test_pool.open()
    try:
        first = await a.call("echo", value="a")
        second = await b.call("echo", value="b")
        assert first["pid"] != second["pid"]
        assert await a.call("held") == "a" and await b.call("held") == "b"
    finally:
        a.close()
        b.close()


async def test_a_request_over_its_cpu_budget_is_stopped_and_the_lab_dropped(test_pool):
    lab, other = test_pool.open(), test_pool.open()
    try:
        await lab.call("echo", value="kept?")
        started = time.monotonic()
        with pytest.raises(WorkerError) as caught:
            await lab.call("spin", seconds=30, budget=0.3)
        assert caught.value.code == "budget_exceeded"
        assert caught.value.detail == {"seconds": 0.3}
        assert time.monotonic() - started < 30  # 0.3 s of CPU on a shared machine
        assert await lab.call("held") is None  # the lab's state went with it
        assert await other.call("echo", value=1) == {"value": 1, "pid": (
            await other.call("echo", value=1))["pid"], "held": 1}
        assert await lab.call("spin", seconds=0.05, budget=1.0) > 0  # the worker serves on
    finally:
        lab.close()
        other.close()


async def test_requests_sent_together_each_keep_their_own_budget(test_pool):
    """Requests queued together reach a worker as one list (the ticks of many labs): a
    runaway among them is stopped at its own budget and drops only its own lab."""
    labs = [test_pool.open() for _ in range(40)]
    try:
        await asyncio.gather(*(lab.call("echo", value=i) for i, lab in enumerate(labs)))
        runaway = labs[7]
        calls = [lab.call("spin", seconds=30, budget=0.3) if lab is runaway
                 else lab.call("echo", value=f"again {i}") for i, lab in enumerate(labs)]
        answers = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(answers[7], WorkerError) and answers[7].code == "budget_exceeded"
        assert [a["value"] for i, a in enumerate(answers) if i != 7] == [
            f"again {i}" for i in range(40) if i != 7]
        assert await runaway.call("held") is None
        assert [await lab.call("held") for i, lab in enumerate(labs) if i != 7] == [
            f"again {i}" for i in range(40) if i != 7]
    finally:
        for lab in labs:
            lab.close()


async def test_a_learners_request_runs_before_the_clock_ticks_queued_ahead_of_it():
    """Ten labs' ticks (50 ms each) are queued in one worker, then two requests: one of a lab
    with no tick waiting runs next (not half a second later); one of a lab whose tick is
    waiting runs right after that tick, which goes first with it (a lab's own requests keep
    their order)."""
    pool = WorkerPool(size=1, memory_mb=768, ops_module="tests.lab.pool_ops")
    assert pool.start(wait=60)
    labs = [pool.open() for _ in range(11)]
    try:
        await asyncio.gather(*(lab.call("echo", value=i) for i, lab in enumerate(labs)))
        ticks = [asyncio.ensure_future(lab.call("tick", seconds=0.05)) for lab in labs[:10]]
        own = asyncio.ensure_future(labs[6].call("ticked"))
        other = asyncio.ensure_future(labs[10].call("ticked"))
        ids = await asyncio.gather(*ticks)
        seen_by_other, seen_by_own = await other, await own
        # at most the tick under way when they arrived, and lab 6's
        assert len(seen_by_other) <= 2 + (ids[6] in seen_by_other), seen_by_other
        assert seen_by_own[-1] == ids[6] and len(seen_by_own) <= 2, (ids, seen_by_own)
    finally:
        for lab in labs:
            lab.close()
        pool.close()


async def test_running_out_of_memory_drops_the_lab_not_the_worker(test_pool):
    lab = test_pool.open()
    try:
        pid = (await lab.call("echo", value="x"))["pid"]
        with pytest.raises(WorkerError) as caught:
            # zeroing up to the cap costs CPU (page faults): a budget the cap comes before
            await lab.call("hog", mib=4096, budget=10.0)
        assert caught.value.code == "out_of_memory"
        assert await lab.call("held") is None
        assert (await lab.call("echo", value="y"))["pid"] == pid
        assert await lab.call("hog", mib=16) == 16  # memory came back
    finally:
        lab.close()


async def test_a_dead_worker_is_replaced_and_its_labs_are_told(test_pool):
    lost = asyncio.Event()
    loop = asyncio.get_running_loop()
    told: list[str] = []
    lab = test_pool.open(on_lost=lambda: told.append("culprit"))
    replaced = test_pool.replaced
    pid = (await lab.call("echo", value="x"))["pid"]
    with lab.slot.lock:  # another lab in the same worker
        lab.slot.labs[10**9] = lambda: loop.call_soon_threadsafe(lost.set)
    with pytest.raises(WorkerError) as caught:
        await lab.call("crash")
    # The lab whose request was under way hears of it; the others lose their worker.
    assert caught.value.code == "out_of_memory" and caught.value.detail["killed"]
    await asyncio.wait_for(lost.wait(), 5)
    assert told == []
    assert not lab.alive
    with pytest.raises(WorkerLost):
        await lab.call("held")
    assert test_pool.replaced == replaced + 1
    assert test_pool.start(wait=30)
    fresh = test_pool.open()
    try:
        answers = {(await fresh.call("echo", value=i))["pid"] for i in range(2)}
        assert pid not in answers
    finally:
        fresh.close()


async def test_a_worker_stuck_in_one_c_call_is_killed(test_pool):
    assert test_pool.start(wait=30)
    lab = test_pool.open()
    replaced = test_pool.replaced
    started = time.monotonic()
    with pytest.raises(WorkerError) as caught:
        await lab.call("stuck", budget=0.1)  # killed after 0.1 * 2 + 1.0 s of CPU
    assert caught.value.code == "budget_exceeded" and caught.value.detail["killed"]
    assert time.monotonic() - started < 60  # 1.2 s of CPU, on a machine shared by many
    for _ in range(100):
        if test_pool.replaced > replaced:
            break
        await asyncio.sleep(0.05)
    assert test_pool.replaced == replaced + 1


def test_a_lab_in_the_server_process_stops_at_its_cpu_budget():
    """A lab run outside a worker (a script, a benchmark) can have a CPU budget per move:
    a runaway manifest ends in a clear error."""
    from podlab.lab.services import LabError, lab_start
    from tests.hostile.attacks import COUNTING_LOOP

    lab, _ = lab_start(manifest_text=COUNTING_LOOP, seed=0, lang="en")
    lab.cpu_budget = 0.3
    started = time.process_time()
    with pytest.raises(LabError) as caught:
        lab.seek(3600)
    assert caught.value.code == "budget_exceeded"
    assert time.process_time() - started < 2
    sleeper = COUNTING_LOOP.replace("i=0; while [ $i -ge 0 ]; do i=$((i+1)); done", "sleep 9")
    quiet, _ = lab_start(manifest_text=sleeper, seed=0, lang="en")
    quiet.cpu_budget = 0.3
    quiet.seek(60)  # within budget: nothing raised, and the timer is off afterwards
    assert quiet.t == 60
