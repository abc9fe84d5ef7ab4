"""The simulated container runtime: runs container programs and exec'd children.

A ``Process`` drives one program generator (see ``process.py``) on the event loop: it resumes
it after ``Sleep``/``CpuWork``, answers ``Connect`` from the listeners of the Pod's network
namespace, delivers signals with PID 1 semantics and reports the exit code. A
``ContainerInstance`` is one run of one container (one container ID): its main process, its
writable filesystem, its log, its memory use and its final state.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from podlab.engine.core.loop import PRIORITY_PROCESS, EventLoop, Timer
from podlab.engine.core.version import EPOCH
from podlab.engine.runtime.process import (
    SIGHUP,
    SIGINT,
    SIGKILL,
    SIGQUIT,
    SIGTERM,
    Connect,
    CpuWork,
    FileSystem,
    FileSystemError,
    Handler,
    ImageInfo,
    Program,
    Request,
    Response,
    Signalled,
    Sleep,
    TimeText,
    WaitForever,
    join_pieces,
)

ProgramFactory = Callable[[Any], Program]
#: output kept as pieces until read (``join_pieces``)
Pieces = tuple[str | int | TimeText, ...]

#: Bytes and lines of the log kept for FallbackToLogsOnError (KRC: 80 lines, 2048 bytes).
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048
#: The kubelet reads at most 4096 bytes of the termination message file.
TERMINATION_MESSAGE_BYTES = 4096
#: The lab node's kubelet configuration (KubeletConfiguration fields; the upstream defaults
#: for the log settings, a value of the lab's own for ``podPidsLimit``, whose default -1 means
#: unlimited).
CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024  # containerLogMaxSize: 10Mi
CONTAINER_LOG_MAX_FILES = 5  # containerLogMaxFiles: the current file and 4 rotated ones
CONTAINER_LOG_MONITOR_INTERVAL = 10.0  # containerLogMonitorInterval: 10s
#: The kubelet gzips every rotated log but the newest; PodLab estimates a compressed size
#: from the file's first bytes (gzip's default level, its 18-byte header and trailer).
LOG_COMPRESS_SAMPLE = 16 * 1024
GZIP_OVERHEAD = 18
#: The runtime writes each line to the log file in the CRI format, ``<RFC3339Nano time>
#: <stream> <F|P> <line>`` (containerd's cri/io/logger.go), splitting a line longer than
#: ``max_container_log_line_size`` (16 KiB) into partial ``P`` records: every record costs
#: the time (30 bytes with a real clock's nanoseconds), the stream, the tag and 3 spaces.
CRI_LOG_LINE_MAX = 16 * 1024
CRI_RECORD_OVERHEAD = len("2025-01-01T00:00:00.123456789Z") + len(" stdout F ")
_LONG_LINE = re.compile("[^\n]{" + str(CRI_LOG_LINE_MAX + 1) + ",}")


def cri_records(text: str) -> int:
    """How many CRI log records a write of ``text`` makes (each line, long lines in 16 KiB
    parts); a hollow string's from its size and newlines."""
    size = getattr(text, "size", None)
    if size is not None:
        rope = getattr(text, "rope", None)
        newlines = sum(u.count("\n") * c for u, c in rope) if rope is not None else 0
        lines = max(1, newlines)
        return lines + max(0, (size - newlines) // CRI_LOG_LINE_MAX - lines + 1)
    return _text_records(text)


@functools.lru_cache(maxsize=64)
def _text_records(text: str) -> int:
    # (a program that writes the same chunk again and again, yes, is counted once)
    records = text.count("\n")
    if not text.endswith("\n"):
        records += 1  # the line goes on in a later write: it is counted once, here
    if len(text) > CRI_LOG_LINE_MAX:
        # a line past 16 KiB holds a whole newline-free 8 KiB window: look only then
        step = CRI_LOG_LINE_MAX // 2
        if any(text.find("\n", i, i + step) < 0 for i in range(0, len(text) - step + 1, step)):
            for match in _LONG_LINE.finditer(text):
                records += (len(match.group()) - 1) // CRI_LOG_LINE_MAX
    return records


def gzip_estimate(sample: str, size: int) -> int:
    """The size of a ``size``-byte log compressed with gzip, from its first characters."""
    if size <= 0:
        return GZIP_OVERHEAD
    data = sample.encode("utf-8", "replace")
    if not data:
        return GZIP_OVERHEAD
    deflated = len(zlib.compress(data, 6)) - 6  # zlib's own 2-byte header, 4-byte checksum
    return GZIP_OVERHEAD + max(2, math.ceil(deflated * size / len(data)))
POD_PIDS_LIMIT = 1024  # podPidsLimit of the lab node
#: CFS bandwidth control: a CPU limit is a quota per 100 ms period (cpu.max "quota 100000").
CFS_PERIOD = 0.1
#: What the kernel charges a live process besides the strings it holds (a busybox sh).
PROCESS_BASE_MEMORY = 256 * 1024
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})  # noqa: S104

_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


class ImageLookupResult(Protocol):
    info: ImageInfo | None
    error: str | None
    message: str


class Catalogue(Protocol):
    """What the runtime needs from the image catalogue (``images.py`` provides it)."""

    def lookup_image(self, reference: str) -> ImageLookupResult: ...
    def program_for(self, info: ImageInfo, argv: list[str]) -> ProgramFactory: ...
    def exec_program(self, info: ImageInfo, argv: list[str]) -> ProgramFactory: ...
    def new_filesystem(self, info: ImageInfo) -> FileSystem: ...


class ModuleCatalogue:
    """The real catalogue: the functions of ``podlab.engine.runtime.images``."""

    def __init__(self) -> None:
        from podlab.engine.runtime import images

        self._images = images

    def lookup_image(self, reference: str) -> ImageLookupResult:
        return self._images.lookup_image(reference)

    def program_for(self, info: ImageInfo, argv: list[str]) -> ProgramFactory:
        return self._images.program_for(info, argv)

    def exec_program(self, info: ImageInfo, argv: list[str]) -> ProgramFactory:
        return self._images.exec_program(info, argv)

    def new_filesystem(self, info: ImageInfo) -> FileSystem:
        return self._images.new_filesystem(info)

    def pod_filesystem(
        self, info: ImageInfo, hostname: str, pod_ip: str, namespace: str
    ) -> FileSystem:
        """A container's root with the kubelet-managed ``/etc/hosts``, ``/etc/hostname`` and
        ``/etc/resolv.conf`` of its Pod."""
        return self._images.new_filesystem(
            info, hostname=hostname, pod_ip=pod_ip, namespace=namespace
        )


def expand_var_refs(text: str, env: dict[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion in command/args; ``$$`` escapes, unknown refs stay."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _VAR_REF.sub(repl, text)


def resolve_argv(info: ImageInfo, container: dict[str, Any], env: dict[str, str]) -> list[str]:
    """Docker/CRI rules: ``command`` replaces ENTRYPOINT, ``args`` replaces CMD."""
    command = container.get("command")
    args = container.get("args")
    if command:
        argv = list(command) + list(args or [])
    else:
        argv = list(info.entrypoint) + list(args if args is not None else info.cmd)
    return [expand_var_refs(str(part), env) for part in argv]


def container_id(seed: int, pod_uid: str, name: str, attempt: int) -> str:
    digest = hashlib.sha256(f"{seed}/{pod_uid}/{name}/{attempt}".encode()).hexdigest()
    return f"containerd://{digest}"


class PidsCgroup:
    """The Pod's ``pids`` cgroup: ``pids.max`` is the node's ``podPidsLimit``; a fork past it
    fails with EAGAIN ("Resource temporarily unavailable")."""

    __slots__ = ("current", "events_max", "limit")

    def __init__(self, limit: int = POD_PIDS_LIMIT) -> None:
        self.limit = limit
        self.current = 0
        self.events_max = 0  # pids.events "max": forks refused

    def fork(self, *, force: bool = False) -> bool:
        if self.current >= self.limit and not force:
            self.events_max += 1
            return False
        self.current += 1
        return True

    def exit(self, count: int = 1) -> None:
        self.current = max(0, self.current - count)


class Network:
    """Listeners of every Pod network namespace, reachable by Pod IP."""

    def __init__(self) -> None:
        self._by_ip: dict[str, dict[tuple[int, str], Handler]] = {}

    def namespace(self, ip: str) -> dict[tuple[int, str], Handler]:
        return self._by_ip.setdefault(ip, {})

    def drop(self, ip: str) -> None:
        self._by_ip.pop(ip, None)

    def resolve(self, name: str, fs: FileSystem | None = None, source_ip: str = "") -> str | None:
        """Cluster DNS for a Pod (``services.ClusterNetwork`` answers; here: no records)."""
        return None

    def connect(self, source_ip: str, host: str, request: Request, now: float) -> Response:
        target = source_ip if host in LOCAL_HOSTS else host
        listeners = self._by_ip.get(target)
        if listeners is None:
            return Response(status=0, refused=True)
        protocol = "UDP" if request.kind == "udp" else "TCP"
        handler = listeners.get((request.port, protocol))
        if handler is None:
            return Response(status=0, refused=True)
        return handler(request, now)


class Process:
    """One running program (PID 1 of a container, or an exec'd child)."""

    def __init__(
        self,
        *,
        loop: EventLoop,
        instance: ContainerInstance,
        factory: ProgramFactory,
        argv: list[str],
        is_pid1: bool,
        output: Callable[[str, str], None],
        on_exit: Callable[[int], None],
        output_later: Callable[[str, int, Pieces], None] | None = None,
    ) -> None:
        self._loop = loop
        self.instance = instance
        self.argv = argv
        self.env = instance.env
        self.fs = instance.fs
        self.hostname = instance.hostname
        self.pod_ip = instance.pod_ip
        self.rng = loop.rng
        self.is_pid1 = is_pid1
        self._output = output
        self._output_later = output_later
        self._on_exit = on_exit
        self._started_at = loop.now
        self._handlers: set[int] = set()
        self._ports: list[tuple[int, str]] = []
        self._timer: Timer | None = None
        self._running_frame = False
        self.exited = False
        self.exit_code: int | None = None
        self.killed_by: int | None = None
        instance.pids.fork(force=True)
        self._gen: Program = factory(self)

    # --- ProcessContext ------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self._loop.now

    @property
    def started_at(self) -> float:
        return self._started_at

    def stdout(self, text: str) -> None:
        self._output("stdout", text)

    def stderr(self, text: str) -> None:
        self._output("stderr", text)

    def output_later(self, stream: str, size: int, pieces: Pieces) -> None:
        """Output of ``size`` characters kept as pieces (``join_pieces``): joined only when
        the container log is read (access-log lines), or now where output goes elsewhere."""
        if self._output_later is not None:
            self._output_later(stream, size, pieces)
        else:
            self._output(stream, join_pieces(pieces))

    def listen(self, port: int, protocol: str, handler: Handler) -> bool:
        listeners = self.instance.listeners
        key = (int(port), protocol.upper())
        if key in listeners:
            return False
        listeners[key] = handler
        self._ports.append(key)
        return True

    def unlisten(self, port: int, protocol: str) -> None:
        key = (int(port), protocol.upper())
        if key in self._ports:
            self._ports.remove(key)
            self.instance.listeners.pop(key, None)

    def handle_signal(self, signal: int, handled: bool) -> None:
        if signal == SIGKILL:
            return
        if handled:
            self._handlers.add(signal)
        else:
            self._handlers.discard(signal)

    def handles(self, signal: int) -> bool:
        return signal in self._handlers

    def set_memory(self, bytes_used: int) -> None:
        self.instance.report_memory(self, bytes_used)

    def memory_allowance(self) -> int:
        """Bytes this container may hold before the kernel's OOM killer ends it."""
        return self.instance.memory_allowance()

    def oom(self) -> None:
        """The program asked for more than :meth:`memory_allowance`: the OOM killer."""
        self.instance.oom()

    def cpu_share(self) -> float:
        """The fraction of a CPU this container's threads get (its CPU limit, at most 1)."""
        return self.instance.cpu_share

    def fork(self) -> bool:
        """Take a pid of the Pod's pids cgroup for a new process (False: EAGAIN)."""
        return self.instance.pids.fork()

    def reap(self, count: int = 1) -> None:
        """Processes of this one exited: their pids go back to the cgroup."""
        self.instance.pids.exit(count)

    def spawn(self, argv: list[str]) -> Program:
        child = ChildContext(self, argv)
        return self.instance.exec_factory(argv)(child)

    def resolve(self, name: str) -> str | None:
        """The address cluster DNS gives ``name`` in this Pod (None: no such host)."""
        return self.instance.network.resolve(name, self.fs, self.pod_ip)

    # --- driving -------------------------------------------------------------------------

    def start(self) -> None:
        self._resume(None, None)

    def _resume(self, value: object, exc: BaseException | None) -> None:
        if self.exited:
            return
        self._timer = None
        self._running_frame = True
        try:
            call = self._gen.throw(exc) if exc is not None else self._gen.send(value)
        except StopIteration as stop:
            self._running_frame = False
            code = stop.value
            self._finish(int(code) if isinstance(code, int) else 0)
            return
        except Signalled as sig:
            self._running_frame = False
            self._finish(128 + sig.signal)
            return
        except FileSystemError as err:
            self._running_frame = False
            self.stderr(f"{err.kind}: {err.path}\n")
            self._finish(1)
            return
        except Exception as err:  # a program bug must not take the node down
            self._running_frame = False
            self.stderr(f"program crashed: {type(err).__name__}: {err}\n")
            self._finish(255)
            return
        self._running_frame = False
        self._dispatch(call)

    def _dispatch(self, call: object) -> None:
        loop = self._loop
        kind = type(call)
        if kind is Sleep:
            seconds = call.seconds  # type: ignore[union-attr]
            if not (seconds >= 0) or math.isinf(seconds):
                return  # sleeps forever (only a signal ends it)
            self._timer = loop.call_later(seconds, self._wake, PRIORITY_PROCESS)
        elif kind is WaitForever:
            return
        elif kind is CpuWork:
            cpu = max(0.0, call.cpu_seconds)  # type: ignore[union-attr]
            seconds = self.instance.charge_cpu(cpu)
            self._timer = loop.call_later(max(0.0, seconds), self._wake, PRIORITY_PROCESS)
        elif kind is Connect:
            response = self.instance.network.connect(
                self.pod_ip,
                call.host,
                call.request,
                loop.now,  # type: ignore[union-attr]
            )
            self._timer = loop.call_later(
                max(0.0, response.delay),
                lambda: self._resume(response, None),
                PRIORITY_PROCESS,
            )
        else:
            self.stderr(f"unknown syscall {call!r}\n")
            self._finish(255)

    def _wake(self) -> None:
        self._resume(None, None)

    def signal(self, sig: int) -> None:
        """Deliver ``sig`` with Linux semantics (PID 1 ignores unhandled default actions)."""
        if self.exited:
            return
        if sig == SIGKILL:
            self.kill(137, SIGKILL)
            return
        if sig in self._handlers:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._running_frame:
                self._loop.call_later(0, lambda: self.signal(sig), PRIORITY_PROCESS)
                return
            self._resume(None, Signalled(sig))
            return
        if self.is_pid1 and sig in (SIGTERM, SIGINT, SIGHUP, SIGQUIT):
            return
        if self.is_pid1:
            return
        self.kill(128 + sig, sig)

    def kill(self, code: int, sig: int | None = None) -> None:
        if self.exited:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.killed_by = sig
        if not self._running_frame:
            try:
                self._gen.close()
            except Exception:  # noqa: S110 - a program that misbehaves in cleanup still dies
                pass
        self._finish(code)

    def _finish(self, code: int) -> None:
        if self.exited:
            return
        self.exited = True
        self.exit_code = code
        self.instance.pids.exit()
        for key in self._ports:
            self.instance.listeners.pop(key, None)
        self._ports.clear()
        on_exit = self._on_exit
        # The callbacks are closures that hold this process (ContainerInstance.exec makes
        # them): dropping them breaks the cycle, so reference counting frees a finished exec
        # at once rather than leaving it to the cyclic collector, whose full passes stop the
        # whole server once a thousand labs are running.
        self._on_exit = _exited
        self._output = _discard
        self._output_later = None
        on_exit(code)


def _exited(code: int) -> None:
    return None


def _discard(stream: str, text: str) -> None:
    return None


class ChildContext:
    """The context a ``spawn``ed child program sees: its parent's world, not PID 1."""

    def __init__(self, parent: Process, argv: list[str]) -> None:
        self._parent = parent
        self.argv = argv
        self.env = dict(parent.env)
        self.fs = parent.fs
        self.hostname = parent.hostname
        self.pod_ip = parent.pod_ip
        self.rng = parent.rng
        self.is_pid1 = False
        self._started_at = parent.now
        self._handlers: set[int] = set()

    @property
    def now(self) -> float:
        return self._parent.now

    @property
    def started_at(self) -> float:
        return self._started_at

    def stdout(self, text: str) -> None:
        self._parent.stdout(text)

    def stderr(self, text: str) -> None:
        self._parent.stderr(text)

    def output_later(self, stream: str, size: int, pieces: Pieces) -> None:
        self._parent.output_later(stream, size, pieces)

    def listen(self, port: int, protocol: str, handler: Handler) -> bool:
        return self._parent.listen(port, protocol, handler)

    def unlisten(self, port: int, protocol: str) -> None:
        self._parent.unlisten(port, protocol)

    def handle_signal(self, signal: int, handled: bool) -> None:
        if signal == SIGKILL:
            return
        if handled:
            self._handlers.add(signal)
        else:
            self._handlers.discard(signal)

    def handles(self, signal: int) -> bool:
        return signal in self._handlers

    def set_memory(self, bytes_used: int) -> None:
        self._parent.set_memory(bytes_used)

    def memory_allowance(self) -> int:
        return self._parent.memory_allowance()

    def oom(self) -> None:
        self._parent.oom()

    def cpu_share(self) -> float:
        return self._parent.cpu_share()

    def fork(self) -> bool:
        return self._parent.fork()

    def reap(self, count: int = 1) -> None:
        self._parent.reap(count)

    def spawn(self, argv: list[str]) -> Program:
        return self._parent.instance.exec_factory(argv)(ChildContext(self._parent, argv))

    def resolve(self, name: str) -> str | None:
        return self._parent.resolve(name)


#: One write to a container's log: ``(time, stream, data)``, the data being the text written
#: or, until the log is read, the pieces it is made of (``join_pieces``). A plain tuple: one
#: of strings, ints and floats is one the garbage collector stops following, and a long run
#: keeps millions of them.
LogEntry = tuple[float, str, Any]


def log_entry_text(entry: LogEntry) -> str:
    """The text of a log write."""
    data = entry[2]
    return data if isinstance(data, str) else join_pieces(data)


@dataclass(slots=True)
class ExecResult:
    exit_code: int
    output: str
    timed_out: bool = False
    error: str = ""  # the runtime could not run it (container not running)


@dataclass(eq=False)
class ContainerInstance:
    """One run of a container: what containerd tracks for a container ID."""

    loop: EventLoop
    network: Network
    catalogue: Catalogue
    image: ImageInfo
    spec: dict[str, Any]
    container_id: str
    attempt: int
    env: dict[str, str]
    fs: FileSystem
    hostname: str
    pod_ip: str
    listeners: dict[tuple[int, str], Handler]
    memory_limit: int | None = None
    cpu_limit: float | None = None
    #: The node's memory: what a container without a memory limit can take before the
    #: kernel's OOM killer steps in.
    node_memory: int = 4 * 1024 * 1024 * 1024
    #: The Pod's pids cgroup, shared by its containers.
    pids: PidsCgroup = field(default_factory=PidsCgroup)
    #: Takes room for a log write on the node's disk, False when it does not fit (None:
    #: unbounded): the runtime's log writer drops a line that does not fit.
    disk_reserve: Callable[[int], bool] | None = None
    #: told when the container's disk use changes other than by a reserved write (a rotation)
    disk_changed: Callable[[], None] | None = None
    on_exit: Callable[[ContainerInstance], None] | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    oom_killed: bool = False
    memory: int = 0
    #: cgroup v2 ``cpu.stat``: CPU time used, CFS periods, throttled periods and time.
    cpu_usage: float = 0.0
    cpu_periods: int = 0
    cpu_throttled_periods: int = 0
    cpu_throttled: float = 0.0
    #: ``memory.events`` oom_kill
    oom_kills: int = 0
    #: the current log file (``0.log``); rotated files keep only when they were rotated and
    #: their size on disk (the older ones gzipped, as the kubelet does)
    log: list[LogEntry] = field(default_factory=list)
    log_bytes: int = 0  # what was written (``kubectl logs``)
    log_disk_bytes: int = 0  # the file on disk, in the CRI format
    rotated_logs: list[tuple[float, int]] = field(default_factory=list)
    _rotated_gzip: int = 0  # the newest rotated file's size once it is compressed
    _log_checked: float = 0.0
    _log_joined: tuple[int, str] = field(default=(0, ""), init=False, repr=False)
    process: Process | None = None
    children: list[Process] = field(default_factory=list)
    #: exec programs by command line: a probe runs the same command every period
    exec_factories: dict[tuple[str, ...], ProgramFactory] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None

    @property
    def exited(self) -> bool:
        return self.finished_at is not None

    @property
    def cpu_share(self) -> float:
        """How fast CPU work runs: a single thread gets at most one CPU, less under a limit."""
        if self.cpu_limit is None or self.cpu_limit <= 0:
            return 1.0
        return min(1.0, self.cpu_limit)

    def exec_factory(self, argv: list[str]) -> ProgramFactory:
        key = tuple(argv)
        factory = self.exec_factories.get(key)
        if factory is None:
            factory = self.catalogue.exec_program(self.image, argv)
            self.exec_factories[key] = factory
        return factory

    def charge_cpu(self, cpu: float) -> float:
        """Account ``cpu`` seconds of one thread's work; return the simulated seconds it takes.

        A thread runs on one CPU at most; under a CPU limit CFS gives the container
        ``limit * 100ms`` of every 100 ms period and throttles it for the rest."""
        share = self.cpu_share
        seconds = cpu / share
        self.cpu_usage += cpu
        if self.cpu_limit is None or self.cpu_limit <= 0:
            return seconds  # no quota: CFS counts no periods
        periods = math.ceil(seconds / CFS_PERIOD - 1e-9) if seconds > 0 else 0
        self.cpu_periods += periods
        if share < 1.0 and periods:
            self.cpu_throttled_periods += periods
            self.cpu_throttled += seconds - cpu
        return seconds

    def memory_allowance(self) -> int:
        """The memory cgroup's ``memory.max``, or the node's memory without a limit."""
        if self.memory_limit is not None:
            return self.memory_limit
        return self.node_memory

    def write_log(self, stream: str, text: str) -> None:
        if text:
            # a string too big to build (the shell's Hollow) counts its whole size
            size = getattr(text, "size", None)
            self._append_log((self.loop.now, stream, text), size or len(text), cri_records(text))

    def write_log_later(self, stream: str, size: int, pieces: Pieces) -> None:
        """A log write of ``size`` characters, joined when the log is read (``log_entry_text``):
        a server's access-log line, one CRI record."""
        if size:
            self._append_log((self.loop.now, stream, pieces), size, 1)

    def _append_log(self, entry: LogEntry, size: int, records: int) -> None:
        now = entry[0]
        # The kubelet's container log manager looks every containerLogMonitorInterval and
        # rotates a file that has grown past containerLogMaxSize (upstream
        # pkg/kubelet/logs/container_log_manager.go).
        if now - self._log_checked >= CONTAINER_LOG_MONITOR_INTERVAL:
            self._log_checked = now - (now % CONTAINER_LOG_MONITOR_INTERVAL)
            if self.log_disk_bytes > CONTAINER_LOG_MAX_SIZE:
                self.rotate_log()
        on_disk = size + records * CRI_RECORD_OVERHEAD
        if self.disk_reserve is not None and not self.disk_reserve(on_disk):
            # containerd's CRI logger (redirectLogs) logs "Fail to write ... log to log
            # file" and carries on draining the container's output: the line is lost and
            # the container never notices. PodLab drops the whole write.
            return
        self.log.append(entry)
        self.log_bytes += size
        self.log_disk_bytes += on_disk

    def rotate_log(self) -> None:
        """The kubelet's ``rotateLog``: the oldest rotated files go so that at most
        containerLogMaxFiles remain, the rotated files not yet compressed become
        ``.gz`` (every one but the newest), and ``0.log`` becomes ``0.log.<timestamp>``
        (uncompressed, so that a reader can finish it); a new ``0.log`` starts."""
        del self.rotated_logs[: -(CONTAINER_LOG_MAX_FILES - 2) or len(self.rotated_logs)]
        if self.rotated_logs:
            t, _size = self.rotated_logs[-1]
            self.rotated_logs[-1] = (t, self._rotated_gzip)
        self._rotated_gzip = gzip_estimate(self._cri_sample(), self.log_disk_bytes)
        self.rotated_logs.append((self.loop.now, self.log_disk_bytes))
        self.log = []
        self.log_bytes = 0
        self.log_disk_bytes = 0
        self._log_joined = (0, "")
        if self.disk_changed is not None:
            self.disk_changed()

    def _cri_sample(self) -> str:
        """The first ``LOG_COMPRESS_SAMPLE`` bytes of the log file as the runtime wrote it,
        each line after its time (a line every half microsecond, as a busy writer's would
        be) and stream."""
        out: list[str] = []
        held = 0
        n = 0
        for entry in self.log:
            stamp = (EPOCH + timedelta(seconds=math.floor(entry[0]))).strftime("%Y-%m-%dT%H:%M:%S")
            text = log_entry_text(entry)
            for line in str.__str__(text)[:LOG_COMPRESS_SAMPLE].splitlines():
                n += 1
                nanos = (n * 500) % 1_000_000_000
                record = f"{stamp}.{nanos:09d}Z {entry[1]} F {line}\n"
                out.append(record)
                held += len(record)
                if held >= LOG_COMPRESS_SAMPLE:
                    return "".join(out)
        return "".join(out)

    def log_files(self) -> list[tuple[str, int]]:
        """The container's log directory as ``ls`` lists it: (name, bytes), rotated files
        named by the time they were rotated (``0.log.20250101-000410``, older ones
        ``.gz``) and the current ``0.log``."""
        files = []
        for i, (t, size) in enumerate(self.rotated_logs):
            stamp = (EPOCH + timedelta(seconds=math.floor(t))).strftime("%Y%m%d-%H%M%S")
            gz = ".gz" if i < len(self.rotated_logs) - 1 else ""
            files.append((f"0.log.{stamp}{gz}", size))
        files.append(("0.log", self.log_disk_bytes))
        return sorted(files)

    def log_text(self) -> str:
        # Logs only grow (write_log appends): join just what was written since the last call.
        count, text = self._log_joined
        if count > len(self.log):
            count, text = 0, ""
        if count != len(self.log):
            text += "".join(log_entry_text(entry) for entry in self.log[count:])
            self._log_joined = (len(self.log), text)
        return text

    def start(self) -> None:
        """Start PID 1 (``resolve_argv`` rules) now."""
        argv = resolve_argv(self.image, self.spec, self.env)
        self.started_at = self.loop.now
        factory = self.catalogue.program_for(self.image, argv)
        self.process = Process(
            loop=self.loop,
            instance=self,
            factory=factory,
            argv=argv,
            is_pid1=True,
            output=self.write_log,
            on_exit=self._main_exited,
            output_later=self.write_log_later,
        )
        self.process.start()

    def fail_to_start(self, message: str) -> None:
        """containerd could not start the task: StartError, exit code 128."""
        self.started_at = self.loop.now
        self.finished_at = self.loop.now
        self.exit_code = 128
        self.reason = "StartError"
        self.message = message
        if self.on_exit is not None:
            self.on_exit(self)

    def signal(self, sig: int) -> None:
        if self.process is not None and not self.exited:
            self.process.signal(sig)

    def report_memory(self, process: Process, bytes_used: int) -> None:
        self.memory = max(0, int(bytes_used))
        if self.memory_limit is not None and self.memory > self.memory_limit:
            # The kernel kills the cgroup's processes; do it outside the program's frame.
            self.oom()

    def oom(self) -> None:
        """A program asked for memory past :meth:`memory_allowance`: the OOM killer ends
        every process of the container (exit code 137, reason OOMKilled)."""
        if self.oom_killed or self.exited:
            return
        self.oom_killed = True
        self.oom_kills += 1
        self.loop.call_later(0, self._oom_kill, PRIORITY_PROCESS)

    def _oom_kill(self) -> None:
        if self.process is not None and not self.exited:
            self.process.kill(137, SIGKILL)

    def _main_exited(self, code: int) -> None:
        self.finished_at = self.loop.now
        self.exit_code = code
        if self.oom_killed:
            self.reason = "OOMKilled"
        else:
            self.reason = "Completed" if code == 0 else "Error"
        for child in list(self.children):
            child.kill(137, SIGKILL)
        self.children.clear()
        self.message = self.termination_message()
        if self.on_exit is not None:
            self.on_exit(self)

    def termination_message(self) -> str:
        path = self.spec.get("terminationMessagePath") or "/dev/termination-log"
        text = ""
        try:
            if self.fs.exists(path) and not self.fs.is_dir(path):
                text = self.fs.read(path)
        except FileSystemError:
            text = ""
        text = text.encode()[:TERMINATION_MESSAGE_BYTES].decode(errors="ignore")
        policy = self.spec.get("terminationMessagePolicy") or "File"
        if not text and policy == "FallbackToLogsOnError" and self.exit_code not in (0, None):
            text = tail_log(self.log_text(), FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES)
        return text

    def exec(
        self,
        argv: list[str],
        timeout: float | None,
        on_done: Callable[[ExecResult], None],
    ) -> Process | None:
        """Run ``argv`` inside the container (exec probe, exec hook, ``kubectl exec``)."""
        if not self.running or self.process is None:
            on_done(ExecResult(-1, "", error="container is not running"))
            return None
        output: list[str] = []
        timer: list[Timer] = []
        expired: list[bool] = []

        def collect(_stream: str, text: str) -> None:
            output.append(text)

        def finished(code: int) -> None:
            if timer:
                timer[0].cancel()
            if child in self.children:
                self.children.remove(child)
            if expired:
                return
            on_done(ExecResult(code, "".join(output)))

        child = Process(
            loop=self.loop,
            instance=self,
            factory=self.exec_factory(argv),
            argv=argv,
            is_pid1=False,
            output=collect,
            on_exit=finished,
        )
        self.children.append(child)

        def expire() -> None:
            if child.exited:
                return
            # The CRI gives up waiting; the process is left to die with the container.
            expired.append(True)
            child.kill(137, None)
            on_done(ExecResult(-1, "".join(output), timed_out=True))

        if timeout is not None:
            timer.append(self.loop.call_later(timeout, expire))
        child.start()
        return child


CGROUP_FILES = ("cpu.max", "cpu.stat", "memory.current", "memory.events", "memory.max")


class CgroupFiles:
    """The container's cgroup v2 directory as it sees it at ``/sys/fs/cgroup`` (read only):
    where a learner reads its CPU throttling and memory use, as on a real node."""

    def __init__(self, instance: ContainerInstance) -> None:
        # The instance's file system mounts this: a weak reference keeps that from being a
        # cycle that only the garbage collector could free.
        self._instance = weakref.ref(instance)

    def lookup_generation(self) -> tuple[int, ...]:
        return (0,)

    def _text(self, name: str) -> str:
        inst = self._instance()
        if inst is None:
            return ""
        usec = int(round(inst.cpu_usage * 1_000_000))
        if name == "cpu.max":
            if inst.cpu_limit is None or inst.cpu_limit <= 0:
                return "max 100000\n"
            return f"{max(1000, int(round(inst.cpu_limit * 100000)))} 100000\n"
        if name == "cpu.stat":
            return (
                f"usage_usec {usec}\nuser_usec {usec}\nsystem_usec 0\n"
                f"nr_periods {inst.cpu_periods}\nnr_throttled {inst.cpu_throttled_periods}\n"
                f"throttled_usec {int(round(inst.cpu_throttled * 1_000_000))}\n"
                "nr_bursts 0\nburst_usec 0\n"
            )
        if name == "memory.current":
            return f"{inst.memory}\n"
        if name == "memory.max":
            return "max\n" if inst.memory_limit is None else f"{inst.memory_limit}\n"
        oom = inst.oom_kills
        return f"low 0\nhigh 0\nmax {oom}\noom {oom}\noom_kill {oom}\noom_group_kill 0\n"

    def read(self, path: str) -> str:
        name = path.strip("/")
        if not name:
            raise FileSystemError("EISDIR", path)
        if name not in CGROUP_FILES:
            raise FileSystemError("ENOENT", path)
        return self._text(name)

    def write(self, path: str, data: str, *, append: bool = False) -> None:
        raise FileSystemError("EROFS", path)

    def exists(self, path: str) -> bool:
        name = path.strip("/")
        return not name or name in CGROUP_FILES

    def is_dir(self, path: str) -> bool:
        return not path.strip("/")

    def listdir(self, path: str) -> list[str]:
        if path.strip("/"):
            raise FileSystemError("ENOTDIR", path)
        return list(CGROUP_FILES)

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        raise FileSystemError("EROFS", path)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        raise FileSystemError("EROFS", path)

    def size(self, path: str) -> int:
        return 0  # like every file of a pseudo file system


def tail_log(text: str, max_lines: int, max_bytes: int) -> str:
    """The last ``max_lines`` lines of ``text``, then at most its last ``max_bytes`` bytes."""
    lines = text.splitlines(keepends=True)
    tail = "".join(lines[-max_lines:])
    data = tail.encode()
    if len(data) > max_bytes:
        data = data[-max_bytes:]
    return data.decode(errors="ignore")


__all__ = [
    "CgroupFiles",
    "Catalogue",
    "ContainerInstance",
    "ExecResult",
    "ModuleCatalogue",
    "Network",
    "Process",
    "container_id",
    "expand_var_refs",
    "resolve_argv",
    "tail_log",
]
