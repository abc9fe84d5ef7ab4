"""Simulations out of the event loop: a pool of worker processes, each with a memory cap,
running every request for a lab under a CPU budget.

The server's event loop only relays: a consumer opens a :class:`LabHandle` (its lab lives in
one worker for its whole life) and awaits :meth:`LabHandle.call`, which sends the request
down a pipe and resolves when the worker answers. In the worker every request runs under a
CPU-time timer (``ITIMER_PROF``); a request that outgrows its budget is interrupted, the lab
is dropped (its state may be half-changed) and the caller gets ``budget_exceeded``. A lab that
runs the worker out of memory (``RLIMIT_AS``) is dropped the same way (``out_of_memory``). A
request stuck where the timer cannot reach it (inside one C call) is caught by a wall-clock
guard: the worker is killed and replaced; its labs end with ``worker_lost``.

Nothing here is loop-bound: one thread per worker writes requests, one reads answers and
hands them to the loop that asked (``call_soon_threadsafe``), so the pool serves any number
of event loops (the test suite starts one per test).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import gc
import itertools
import logging
import multiprocessing
import os
import queue
import resource
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: CPU seconds a message (apply, restore, seek, validate...) may cost in its worker
MESSAGE_BUDGET_SECONDS = float(os.environ.get("PODLAB_MESSAGE_BUDGET", "1.0"))
#: CPU seconds one tick of the clock may cost in its worker
TICK_BUDGET_SECONDS = float(os.environ.get("PODLAB_TICK_BUDGET", "0.25"))
#: a long move (a seek, a restore at a stored time, a tick that fell behind) runs in slices:
#: each request advances for at most this share of its budget, stops between two moments of
#: the simulation and says how far it got; the caller sends the next slice
SLICE_SHARE = 0.5
#: the rule that tells a runaway from an honest lab that is only long to run: a slice that
#: used up its CPU must have advanced the simulation by at least this many simulated seconds
#: per CPU second (twice the fastest play speed); one that did not is ``budget_exceeded``
MIN_SIM_SECONDS_PER_CPU_SECOND = float(os.environ.get("PODLAB_MIN_SIM_RATE", "120"))
#: and all the slices of one seek together may use at most this much CPU
SEEK_CPU_SECONDS = float(os.environ.get("PODLAB_SEEK_CPU", "30"))
#: address space of one worker process (RLIMIT_AS), in MiB
WORKER_MEMORY_MB = int(os.environ.get("PODLAB_WORKER_MEMORY_MB", "1536"))
#: how much lower than the server's the workers' CPU priority is
WORKER_NICE = 5
#: worker processes (default: one per core)
WORKERS = int(os.environ.get("PODLAB_WORKERS", "0")) or (os.cpu_count() or 1)
#: a request on which its worker spent more CPU than its budget times this, plus GRACE,
#: kills the worker (it was stuck where the CPU timer cannot interrupt it)
WALL_FACTOR = 2.0
WALL_GRACE_SECONDS = 3.0
#: a request not answered after this long kills its worker, whatever it spent
WALL_LIMIT_SECONDS = 120.0
#: how long a request waits for a starting worker
START_SECONDS = 60.0
#: at most this many requests go to a worker as one list
MAX_BATCH = 512
#: a worker working through a list of requests sends the answers it has after this long
FLUSH_SECONDS = 0.01


#: codes of a request after which its worker dropped the lab (its state may be half-changed)
RUNAWAY = frozenset({"budget_exceeded", "out_of_memory"})
DROPPED = RUNAWAY | {"internal", "worker_lost"}


class WorkerError(Exception):
    """A request the worker could not do: ``code`` is a protocol error code."""

    def __init__(self, code: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail or {}


class WorkerLost(WorkerError):
    """The worker that held the lab died (or was killed): the lab is gone."""

    def __init__(self) -> None:
        super().__init__("worker_lost")


# --- inside a worker -------------------------------------------------------------------------


class BudgetExceeded(BaseException):
    """Raised by the CPU timer inside the request that outgrew its budget (a BaseException,
    so engine code catching ``Exception`` cannot swallow it)."""


_armed = False


def _on_timer(signum: int, frame: Any) -> None:
    if _armed:
        raise BudgetExceeded


def _arm(seconds: float) -> None:
    global _armed
    _armed = True
    # Then again every 50 ms of CPU: the first interruption can land where the code cleans up
    # at length as it unwinds (``finally`` blocks ending thousands of shell jobs); the next
    # ones cut that short too.
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.05)


def _disarm() -> None:
    global _armed
    _armed = False
    signal.setitimer(signal.ITIMER_PROF, 0)


@contextmanager
def cpu_budget(seconds: float | None) -> Iterator[None]:
    """A CPU budget for simulation code that runs outside a worker (a script, a benchmark;
    the server runs none: labs and classroom rooms are in the pool): past ``seconds`` of CPU
    the code is interrupted and :class:`WorkerError` ``budget_exceeded`` raised; the caller
    must drop what it was changing. Only on the main thread (where signals arrive) and when
    no budget is already running (a worker's own); elsewhere it does nothing."""
    if (seconds is None or _armed
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.signal(signal.SIGPROF, _on_timer)
    _arm(seconds)
    try:
        yield
    except BudgetExceeded:
        raise WorkerError("budget_exceeded", {"seconds": seconds}) from None
    finally:
        _disarm()
        signal.signal(signal.SIGPROF, previous)


def worker_ops(ops_module: str | None = None) -> dict[str, Callable[..., Any]]:
    """The operations a worker runs: those of ``ops_module`` (its ``OPS``) if given, else
    those of every installed app whose config names a module in ``worker_ops`` (the lab's
    and the classroom's), which must not share a name."""
    import importlib

    if ops_module:
        return dict(importlib.import_module(ops_module).OPS)
    from django.apps import apps

    ops: dict[str, Callable[..., Any]] = {}
    for config in apps.get_app_configs():
        name = getattr(config, "worker_ops", None)
        if not name:
            continue
        for key, fn in importlib.import_module(name).OPS.items():
            if key in ops:
                raise ValueError(f"worker operation {key!r} is defined twice ({name})")
            ops[key] = fn
    return ops


def _serve(conn: Any, memory_mb: int, settings: str | None, ops_module: str | None,
           running: Any = None) -> None:
    """A worker's main loop: (id, op, lab, budget, kwargs) in, (id, ok, payload) out.
    ``running`` (shared memory) shows the server the request under way and the worker's CPU
    time when it began, so the server can tell a stuck worker from a starved one."""
    running = running if running is not None else [0.0, 0.0]
    if settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings
    import django

    django.setup()
    ops = worker_ops(ops_module)
    # The worker holds the simulations: what it loaded is frozen and full collections are
    # rare (podlab/core/gctune.py); a dropped lab is taken apart (runner.drop) rather than
    # left to a full collection.
    from podlab.core import gcstats, gctune

    gctune.tune_for_server()
    gcstats.install("worker")
    # Simulations yield the CPU to the server's event loop, which only relays frames: a busy
    # machine slows labs down before it slows every socket down.
    os.nice(WORKER_NICE)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGPROF, _on_timer)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which ends us
    labs: dict[int, Any] = {}
    conn.send([(0, True, "ready")])
    # The server sends what it has queued as one list (the ticks of many labs at once): each
    # request still runs under its own budget; the answers go back together, or sooner when
    # the work takes a while. Between two requests the worker takes in what has arrived since:
    # a learner's own request (an apply, a seek, a step) runs before the clock ticks waiting
    # ahead of it, so it waits for at most the request under way, not for a whole list.
    queue = _Queue()
    # whether the pipe holds more (Connection.poll builds a selector on every call; this is
    # one system call: a Connection buffers nothing itself)
    arrived = select.poll()
    arrived.register(conn.fileno(), select.POLLIN)
    replies: list[tuple[Any, ...]] = []
    owners: list[int] = []
    flushed = time.monotonic()
    while True:
        try:
            if not queue:
                queue.take(conn.recv())
            while arrived.poll(0):
                queue.take(conn.recv())
        except (EOFError, OSError):
            return
        request, urgent = queue.pop()
        reply, lab_id = _run_one(request, ops, labs, memory_mb, running)
        replies.append(reply)
        owners.append(lab_id)
        # the answers go back when a list is done (as it came), sooner for a learner's own
        # request or after FLUSH_SECONDS of work
        ended = queue.ended(request)
        if urgent or ended or not queue or time.monotonic() - flushed >= FLUSH_SECONDS:
            _answer(conn, replies, owners, labs, memory_mb)
            replies, owners, flushed = [], [], time.monotonic()
        if ended or not queue:
            gc.collect(0)  # a list's garbage is young: collected once it is answered


#: the work a worker does for the clock: it yields to a learner's own requests
BACKGROUND_OPS = frozenset({"tick", "room.tick"})


def _background(request: tuple[Any, ...]) -> bool:
    """A clock tick, or a later slice of a long seek (the learner already has progress)."""
    _, op, _, _, kwargs = request
    return op in BACKGROUND_OPS or (op.endswith("seek") and kwargs.get("first") is False)


class _Queue:
    """A worker's requests in two lines: a learner's own requests first, then the clock's.
    A lab's requests still run in the order they were sent: a learner's request of a lab that
    has ticks waiting in the clock's line takes those ticks along to the front."""

    def __init__(self) -> None:
        self.urgent: collections.deque[tuple[Any, ...]] = collections.deque()
        self.background: collections.deque[tuple[Any, ...]] = collections.deque()
        self.waiting: collections.Counter[int] = collections.Counter()  # lab -> background
        self.ends: set[int] = set()  # the last request of each list (by identity)

    def __bool__(self) -> bool:
        return bool(self.urgent or self.background)

    def take(self, requests: list[tuple[Any, ...]]) -> None:
        if requests:
            self.ends.add(id(requests[-1]))
        for request in requests:
            lab_id = request[2]
            if _background(request):
                self.background.append(request)
                self.waiting[lab_id] += 1
                continue
            if self.waiting.pop(lab_id, 0):
                self.urgent.extend(r for r in self.background if r[2] == lab_id)
                self.background = collections.deque(
                    r for r in self.background if r[2] != lab_id)
            self.urgent.append(request)

    def ended(self, request: tuple[Any, ...]) -> bool:
        """Whether ``request`` (just run) was the last of the list it came in."""
        key = id(request)
        if key in self.ends:
            self.ends.discard(key)
            return True
        return False

    def pop(self) -> tuple[tuple[Any, ...], bool]:
        if self.urgent:
            return self.urgent.popleft(), True
        request = self.background.popleft()
        lab_id = request[2]
        self.waiting[lab_id] -= 1
        if not self.waiting[lab_id]:
            del self.waiting[lab_id]
        return request, False


def _run_one(request: tuple[Any, ...], ops: dict[str, Callable[..., Any]],
             labs: dict[int, Any], memory_mb: int, running: Any) -> tuple[tuple[Any, ...], int]:
    """One request under its budget: its answer and its lab."""
    request_id, op, lab_id, budget, kwargs = request
    doomed: Any = None  # a dropped lab, freed after the answer is made (freeing takes time)
    running[1] = time.process_time()
    running[0] = float(request_id)
    try:
        _arm(budget)
        payload = ops[op](labs, lab_id, **kwargs)
        _disarm()
        reply: tuple[Any, ...] = (request_id, True, payload)
    except BudgetExceeded:
        _disarm()
        doomed = labs.pop(lab_id, None)
        reply = (request_id, False, ("budget_exceeded", {"seconds": budget}))
    except MemoryError:
        _disarm()
        doomed = labs.pop(lab_id, None)
        reply = (request_id, False, ("out_of_memory", {"mib": memory_mb}))
    except WorkerError as exc:
        _disarm()
        reply = (request_id, False, (exc.code, exc.detail))
    except Exception:  # a bug: logged here, reported as such, the lab is dropped
        _disarm()
        doomed = labs.pop(lab_id, None)
        traceback.print_exc(file=sys.stderr)
        reply = (request_id, False, ("internal", {}))
    running[0] = 0.0
    del doomed
    return reply, lab_id


def _answer(conn: Any, replies: list[tuple[Any, ...]], owners: list[int],
            labs: dict[int, Any], memory_mb: int) -> None:
    """Send ``replies`` as one list; if that runs out of memory, one by one, and an answer
    that cannot be sent drops its lab (``out_of_memory``)."""
    try:
        conn.send(replies)
        return
    except MemoryError:
        pass
    for reply, lab_id in zip(replies, owners, strict=True):
        try:
            conn.send([reply])
        except MemoryError:
            labs.pop(lab_id, None)
            gc.collect()
            conn.send([(reply[0], False, ("out_of_memory", {"mib": memory_mb}))])


# --- in the server -----------------------------------------------------------------------------


@dataclass
class _Pending:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    lab_id: int


@dataclass
class _Slot:
    """One worker process and the labs it holds."""

    index: int
    generation: int = 0
    process: Any = None
    conn: Any = None
    outbox: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    pending: dict[int, _Pending] = field(default_factory=dict)
    labs: dict[int, Callable[[], None] | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ready: bool = False
    running: Any = None  # shared with the worker: [request id under way, its CPU at start]


class WorkerPool:
    """Worker processes started on first use and replaced when they die."""

    def __init__(self, *, size: int = WORKERS, memory_mb: int = WORKER_MEMORY_MB,
                 ops_module: str | None = None,
                 wall_grace: float = WALL_GRACE_SECONDS) -> None:
        self.size = max(1, size)
        self.wall_grace = wall_grace
        self.memory_mb = memory_mb
        self.ops_module = ops_module
        self._slots: list[_Slot] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")
        self.replaced = 0

    # --- processes ---------------------------------------------------------------------

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._slots:
                self._slots = [_Slot(index=i) for i in range(self.size)]
                for slot in self._slots:
                    self._start(slot)
                atexit.register(self.close)

    def start(self, *, wait: float = 0.0) -> bool:
        """Start the workers now (the server does at startup, so the first lab does not
        wait for them); with ``wait``, until each has said it is ready."""
        self._ensure_started()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if all(slot.ready for slot in self._slots):
                return True
            time.sleep(0.05)
        return all(slot.ready for slot in self._slots)

    def _start(self, slot: _Slot) -> None:
        parent, child = self._context.Pipe(duplex=True)
        slot.running = self._context.RawArray("d", 2)
        process = self._context.Process(
            target=_serve, name=f"podlab-lab-worker-{slot.index}", daemon=True,
            args=(child, self.memory_mb, os.environ.get("DJANGO_SETTINGS_MODULE"),
                  self.ops_module, slot.running))
        process.start()
        child.close()
        slot.process, slot.conn = process, parent
        generation = slot.generation
        threading.Thread(target=self._write, args=(slot, parent, slot.outbox), daemon=True,
                         name=f"podlab-lab-writer-{slot.index}").start()
        threading.Thread(target=self._read, args=(slot, parent, generation), daemon=True,
                         name=f"podlab-lab-reader-{slot.index}").start()

    def _write(self, slot: _Slot, conn: Any, outbox: queue.SimpleQueue[Any]) -> None:
        """Send the requests queued for the worker, all that are waiting as one list (one
        pickle and one write for the ticks of many labs)."""
        while True:
            batch = [outbox.get()]
            while batch[-1] is not None and len(batch) < MAX_BATCH:
                try:
                    batch.append(outbox.get_nowait())
                except queue.Empty:
                    break
            end = batch[-1] is None
            if end:
                batch.pop()
            if batch:
                try:
                    conn.send(batch)
                except (OSError, ValueError):
                    return  # the reader sees the worker gone and replaces it
            if end:
                return

    def _read(self, slot: _Slot, conn: Any, generation: int) -> None:
        """Hand the answers to the loops that asked: one wake-up per loop per list."""
        while True:
            try:
                replies = conn.recv()
            except (EOFError, OSError, ValueError):
                break
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, ...]]] = {}
            with slot.lock:
                for request_id, ok, payload in replies:
                    if request_id == 0:
                        slot.ready = True
                        continue
                    pending = slot.pending.pop(request_id, None)
                    if pending is not None:
                        by_loop.setdefault(pending.loop, []).append(
                            (pending.future, ok, payload))
            for loop, settled in by_loop.items():
                with_suppressed(lambda loop=loop, settled=settled: loop.call_soon_threadsafe(
                    _settle_all, settled))
        self._lost(slot, generation)

    def _lost(self, slot: _Slot, generation: int) -> None:
        """The worker of ``slot`` ended: fail what it owed, tell its labs, start another."""
        with slot.lock:
            if slot.generation != generation:
                return
            slot.generation += 1
            pending, slot.pending = slot.pending, {}
            labs, slot.labs = slot.labs, {}
            # The request under way when the worker died is the likeliest cause (most often
            # memory): its lab hears that, not worker_lost, so its page does not rebuild it.
            culprit = int(slot.running[0]) if slot.running is not None else 0
            if culprit > 0 and culprit in pending:
                labs.pop(pending[culprit].lab_id, None)
            old, conn = slot.process, slot.conn
            slot.ready = False
            # Requests for the new worker wait in a new outbox until it is up.
            slot.outbox.put(None)
            slot.outbox = queue.SimpleQueue()
        logger.warning("lab worker %d ended (exit code %s); %d labs lost", slot.index,
                       old.exitcode if old is not None else None, len(labs))
        with_suppressed(conn.close)
        self.replaced += 1  # counted before anyone hears of it
        for request_id, p in pending.items():
            reason = (("out_of_memory", {"mib": self.memory_mb, "killed": True})
                      if request_id == culprit else ("worker_lost", {}))
            p.loop.call_soon_threadsafe(_settle, p.future, False, reason)
        for on_lost in labs.values():
            if on_lost is not None:
                with_suppressed(on_lost)
        if old is not None and old.is_alive():
            old.kill()
        if old is not None:
            old.join(timeout=5)
        self._start(slot)

    def kill(self, slot: _Slot, generation: int) -> None:
        """End a worker stuck beyond any budget; the reader thread replaces it."""
        with slot.lock:
            if slot.generation != generation or slot.process is None:
                return
            process = slot.process
        logger.warning("lab worker %d is stuck: killed", slot.index)
        process.kill()

    def close(self) -> None:
        with self._lock:
            slots, self._slots = self._slots, []
        for slot in slots:
            slot.generation += 1
            slot.outbox.put(None)
            if slot.process is not None:
                slot.process.kill()
                slot.process.join(timeout=5)

    # --- labs --------------------------------------------------------------------------------

    def open(self, on_lost: Callable[[], None] | None = None) -> LabHandle:
        """A new lab in the worker that holds the fewest."""
        self._ensure_started()
        slot = min(self._slots, key=lambda s: (len(s.labs), s.index))
        lab_id = next(self._ids)
        with slot.lock:
            slot.labs[lab_id] = on_lost
            generation = slot.generation
        return LabHandle(pool=self, slot=slot, generation=generation, lab_id=lab_id)

    def stats(self) -> dict[str, Any]:
        return {"workers": len(self._slots), "replaced": self.replaced,
                "labs": [len(s.labs) for s in self._slots],
                "pids": [s.process.pid if s.process else None for s in self._slots]}


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (``/proc``); -1 where there is none."""
    try:
        with open(f"/proc/{pid or 'self'}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, payload in settled:
        _settle(future, ok, payload)


def _settle(future: asyncio.Future[Any], ok: bool, payload: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(payload)
    elif payload[0] == "worker_lost":
        future.set_exception(WorkerLost())
    else:
        future.set_exception(WorkerError(payload[0], payload[1]))


def with_suppressed(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - closing what is already gone
        logger.debug("ignored while closing", exc_info=True)


@dataclass
class LabHandle:
    """A consumer's lab, held by one worker."""

    pool: WorkerPool
    slot: _Slot
    generation: int
    lab_id: int
    closed: bool = False

    @property
    def alive(self) -> bool:
        return not self.closed and self.slot.generation == self.generation

    async def call(self, op: str, *, budget: float = MESSAGE_BUDGET_SECONDS,
                   **kwargs: Any) -> Any:
        """Run ``op`` on this lab in its worker; raise :class:`WorkerError` (or
        :class:`WorkerLost`) when the worker refuses or loses it."""
        if not self.alive:
            raise WorkerLost
        loop = asyncio.get_running_loop()
        # A worker that is still starting (importing Django) is not stuck: wait for it
        # before the wall clock guard starts counting.
        waited = 0.0
        while not self.slot.ready and self.alive:
            if waited > START_SECONDS:
                raise WorkerLost
            await asyncio.sleep(0.05)
            waited += 0.05
        future: asyncio.Future[Any] = loop.create_future()
        request_id = next(self.pool._ids)
        with self.slot.lock:
            if self.slot.generation != self.generation:
                raise WorkerLost
            self.slot.pending[request_id] = _Pending(loop, future, self.lab_id)
            self.slot.outbox.put((request_id, op, self.lab_id, budget, kwargs))
        try:
            return await self._wait(future, request_id, budget)
        finally:
            with self.slot.lock:
                self.slot.pending.pop(request_id, None)

    async def _wait(self, future: asyncio.Future[Any], request_id: int, budget: float) -> Any:
        """The answer; a worker that spent more CPU on this request than its budget allows
        (the timer could not interrupt it: one long C call) is killed, as is one that has not
        answered for ``WALL_LIMIT_SECONDS``. A worker that is merely starved of CPU on a busy
        machine is waited for."""
        allowed = budget * WALL_FACTOR + self.pool.wall_grace
        waited = 0.0
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout=0.5)
            except TimeoutError:
                waited += 0.5
            running, process, generation = self.slot.running, self.slot.process, self.generation
            spent = None
            if running is not None and process is not None and running[0] == request_id:
                spent = _cpu_seconds(process.pid) - running[1]
            if (spent is not None and spent > allowed) or waited > WALL_LIMIT_SECONDS or (
                    spent is None and _cpu_seconds(0) < 0 and waited > allowed):
                # This lab is the culprit: it hears of its budget, the others of their lost
                # worker (their pages can rebuild them; this one's must not).
                with self.slot.lock:
                    self.slot.labs.pop(self.lab_id, None)
                self.closed = True
                self.pool.kill(self.slot, generation)
                raise WorkerError("budget_exceeded", {"seconds": budget, "killed": True})

    def close(self) -> None:
        """Forget the lab (its worker drops it; no answer is awaited)."""
        if self.closed:
            return
        self.closed = True
        with self.slot.lock:
            if self.slot.generation != self.generation:
                return
            self.slot.labs.pop(self.lab_id, None)
            self.slot.outbox.put((-1, "drop", self.lab_id, MESSAGE_BUDGET_SECONDS, {}))


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The process's pool (started by the first lab)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool()
        return _pool
