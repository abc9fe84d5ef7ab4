"""A tiny deterministic driver for one program: the contract of ``process.py`` in action.

This is not the engine's container runtime (that is ``runtime.py``); it runs a single
program on a simulated clock so tests and documentation can show what a program does:

    result = run_program(program, signals=[(30.0, SIGTERM)], probes=[(5.0, http_get(8080))])
    result.exit_code, result.finished_at, result.logs

Signals follow the rules in ``process.py``: SIGKILL ends the program with 137; a handled
signal is thrown into it as ``Signalled``; an unhandled one is ignored by PID 1 and kills any
other process with 128 + signal. ``probes`` are requests sent to the Pod's listeners at given
times (what the kubelet's probers or another container would do).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.process import (
    SIGKILL,
    Connect,
    CpuWork,
    FileSystem,
    Handler,
    ProcessContext,
    Program,
    Request,
    Response,
    Signalled,
    Sleep,
    WaitForever,
)

__all__ = ["FakeContext", "RunResult", "http_get", "run_program"]

LOCAL_HOSTS = ("localhost", "127.0.0.1")


def http_get(port: int, path: str = "/", host: str = "") -> Request:
    return Request("http", port, path, host=host)


@dataclass
class RunResult:
    exit_code: int | None  # None: still running when the run stopped
    finished_at: float | None
    stdout: str
    stderr: str
    logs: str  # stdout and stderr interleaved, as the container log keeps them
    memory: list[tuple[float, int]] = field(default_factory=list)
    probes: list[tuple[float, Request, Response]] = field(default_factory=list)
    cpu_seconds: float = 0.0


class FakeContext:
    """A ``ProcessContext`` backed by plain attributes."""

    def __init__(
        self,
        runtime: _Runtime,
        argv: list[str],
        env: dict[str, str],
        fs: FileSystem,
        *,
        hostname: str,
        pod_ip: str,
        is_pid1: bool,
        spawner: Callable[[list[str]], Callable[[ProcessContext], Program]] | None,
    ) -> None:
        self._rt = runtime
        self.argv = argv
        self.env = env
        self.fs = fs
        self.hostname = hostname
        self.pod_ip = pod_ip
        self.rng = random.Random(0)  # noqa: S311 - a deterministic simulation
        self.is_pid1 = is_pid1
        self._started = runtime.now
        self._handled: set[int] = set()
        self._spawner = spawner

    @property
    def now(self) -> float:
        return self._rt.now

    @property
    def started_at(self) -> float:
        return self._started

    def stdout(self, text: str) -> None:
        self._rt.out.append(text)
        self._rt.log.append(text)

    def stderr(self, text: str) -> None:
        self._rt.err.append(text)
        self._rt.log.append(text)

    def listen(self, port: int, protocol: str, handler: Handler) -> bool:
        key = (port, protocol)
        if key in self._rt.listeners:
            return False
        self._rt.listeners[key] = handler
        return True

    def unlisten(self, port: int, protocol: str) -> None:
        self._rt.listeners.pop((port, protocol), None)

    def handle_signal(self, signal: int, handled: bool) -> None:
        if signal == SIGKILL:
            return
        if handled:
            self._handled.add(signal)
        else:
            self._handled.discard(signal)

    def handles(self, signal: int) -> bool:
        return signal in self._handled

    def set_memory(self, bytes_used: int) -> None:
        self._rt.memory.append((self._rt.now, bytes_used))

    def spawn(self, argv: list[str]) -> Program:
        if self._spawner is None:
            raise RuntimeError("this run has no program factory for child processes")
        child = FakeContext(
            self._rt, argv, dict(self.env), self.fs, hostname=self.hostname,
            pod_ip=self.pod_ip, is_pid1=False, spawner=self._spawner,
        )
        return self._spawner(argv)(child)


class _Runtime:
    def __init__(self, cpu_limit: float) -> None:
        self.now = 0.0
        self.cpu_limit = cpu_limit
        self.cpu = 0.0
        self.out: list[str] = []
        self.err: list[str] = []
        self.log: list[str] = []
        self.listeners: dict[tuple[int, str], Handler] = {}
        self.memory: list[tuple[float, int]] = []
        self.probes: list[tuple[float, Request, Response]] = []

    def answer(self, request: Request) -> Response:
        protocol = "udp" if request.kind == "udp" else "tcp"
        handler = self.listeners.get((request.port, protocol))
        if handler is None:
            return Response(status=0, refused=True)
        return handler(request, self.now)


def run_program(
    program: Callable[[ProcessContext], Program],
    *,
    argv: list[str] | None = None,
    env: dict[str, str] | None = None,
    fs: FileSystem | None = None,
    hostname: str = "pod",
    pod_ip: str = "10.244.0.5",
    is_pid1: bool = True,
    until: float = 3600.0,
    signals: list[tuple[float, int]] | None = None,
    probes: list[tuple[float, Request]] | None = None,
    cpu_limit: float = math.inf,
    spawner: Callable[[list[str]], Callable[[ProcessContext], Program]] | None = None,
    listeners: dict[tuple[int, str], Handler] | None = None,
) -> RunResult:
    """Run ``program`` from t=0 until it exits or ``until``; deliver signals and probes.

    ``listeners`` are ports already bound in the Pod (another container's servers)."""
    rt = _Runtime(cpu_limit)
    rt.listeners.update(listeners or {})
    ctx = FakeContext(
        rt, list(argv or []), dict(env or {}), fs or MemoryFileSystem(),
        hostname=hostname, pod_ip=pod_ip, is_pid1=is_pid1, spawner=spawner,
    )
    events: list[tuple[float, int, str, object]] = []
    for i, (t, sig) in enumerate(signals or []):
        heapq.heappush(events, (t, i, "signal", sig))
    for i, (t, req) in enumerate(probes or []):
        heapq.heappush(events, (t, 10_000 + i, "probe", req))

    gen = program(ctx)
    send: object = None
    throw: Signalled | None = None

    def finish(code: int | None, at: float | None) -> RunResult:
        return RunResult(
            code, at, "".join(rt.out), "".join(rt.err), "".join(rt.log), rt.memory,
            rt.probes, rt.cpu,
        )

    while True:
        try:
            op = gen.throw(throw) if throw is not None else gen.send(send)
        except StopIteration as stop:
            return finish(int(stop.value or 0), rt.now)
        throw = None
        send = None
        if isinstance(op, Connect):
            local = op.host in (*LOCAL_HOSTS, pod_ip, hostname)
            send = rt.answer(op.request) if local else Response(refused=True)
            continue
        if isinstance(op, CpuWork):
            wake = rt.now + op.cpu_seconds / max(cpu_limit, 1e-9) if cpu_limit != math.inf \
                else rt.now + op.cpu_seconds
            rt.cpu += op.cpu_seconds
        elif isinstance(op, Sleep):
            wake = rt.now + max(0.0, op.seconds)
        elif isinstance(op, WaitForever):
            wake = math.inf
        else:
            raise TypeError(f"program yielded {op!r}, not a syscall")
        # Wait for the wake-up, handling external events that come first.
        while True:
            if events and events[0][0] < wake and events[0][0] <= until:
                t, _, kind, payload = heapq.heappop(events)
                rt.now = max(rt.now, t)
                if isinstance(payload, Request):
                    rt.probes.append((rt.now, payload, rt.answer(payload)))
                    continue
                if not isinstance(payload, int):
                    raise TypeError(f"unknown event {kind}")
                if payload == SIGKILL:
                    gen.close()
                    return finish(137, rt.now)
                if ctx.handles(payload):
                    throw = Signalled(payload)
                    break
                if is_pid1:
                    continue
                gen.close()
                return finish(128 + payload, rt.now)
            if wake > until:
                rt.now = until
                gen.close()
                return finish(None, None)
            rt.now = wake
            break
