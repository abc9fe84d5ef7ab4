"""The contract between the simulated node and the programs that run in containers.

A *program* is a generator function ``main(ctx) -> Generator[Syscall, object, int]``. It
yields syscalls to the runtime (the simulated kubelet/container runtime), is resumed with
the syscall's result, and returns its exit code. Nothing here reads a wall clock: time only
moves when the runtime resumes a program.

Signals: a container's main process is PID 1. The runtime asks ``ctx.handles(sig)``:
- SIGKILL is never handled: the process dies with exit code 137.
- A handled signal is thrown into the generator as ``Signalled(sig)`` at its current
  ``yield``; the program decides what to do (a shell defers its trap until the foreground
  command finishes, ``wait`` is interrupted at once).
- An unhandled SIGTERM/SIGINT/SIGHUP/SIGQUIT is ignored by PID 1 (Linux never applies the
  default action to init of a PID namespace); for a process that is not PID 1 the default
  action kills it with exit code 128 + signal.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol

SIGHUP = 1
SIGINT = 2
SIGQUIT = 3
SIGKILL = 9
SIGUSR1 = 10
SIGUSR2 = 12
SIGTERM = 15

SIGNAL_NAMES: dict[int, str] = {
    SIGHUP: "HUP",
    SIGINT: "INT",
    SIGQUIT: "QUIT",
    SIGKILL: "KILL",
    SIGUSR1: "USR1",
    SIGUSR2: "USR2",
    SIGTERM: "TERM",
}


class Signalled(Exception):  # noqa: N818 - it is an event, not an error
    """Thrown into a program at its current yield when a handled signal arrives."""

    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal


# --- output made when it is read --------------------------------------------------------

#: t = 0 of the simulated clock
CLOCK_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class TimeText(NamedTuple):
    """A time not formatted yet: ``strftime(format)`` of ``seconds`` after CLOCK_EPOCH."""

    format: str
    seconds: float


#: the format of an ``int`` piece: the Common Log Format's time of that second
CLF_FORMAT = "%d/%b/%Y:%H:%M:%S +0000"


def join_pieces(pieces: tuple[str | int | TimeText, ...]) -> str:
    """The text of output kept as pieces (a context's ``output_later``): strings, and times
    formatted now: a ``TimeText``, or an ``int``, the second of a Common Log Format time.
    A tuple of strings and ints holds no references the garbage collector follows (it
    stops tracking it), which matters for the millions of access-log lines a long run
    keeps."""
    if all(type(piece) is str for piece in pieces):
        return "".join(pieces)  # type: ignore[arg-type]
    out: list[str] = []
    for piece in pieces:
        kind = type(piece)
        if kind is str:
            out.append(piece)  # type: ignore[arg-type]
        elif kind is int:
            out.append((CLOCK_EPOCH + timedelta(seconds=piece)).strftime(CLF_FORMAT))  # type: ignore[arg-type]
        else:
            out.append((CLOCK_EPOCH + timedelta(seconds=piece.seconds)).strftime(piece.format))  # type: ignore[union-attr]
    return "".join(out)


# --- syscalls -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause for ``seconds`` of simulated time. Result: None."""

    seconds: float


@dataclass(frozen=True, slots=True)
class WaitForever:
    """Block until a signal arrives (``sleep infinity``, a server's main loop)."""


@dataclass(frozen=True, slots=True)
class CpuWork:
    """Burn ``cpu_seconds`` of CPU. The runtime stretches it by the CPU limit (throttling)."""

    cpu_seconds: float


@dataclass(frozen=True, slots=True)
class Request:
    """A request to a listener in the Pod's network namespace (probe, wget, nc)."""

    kind: str  # "http" | "tcp" | "grpc"
    port: int
    path: str = "/"
    method: str = "GET"
    host: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    service: str = ""  # gRPC health service name


@dataclass(frozen=True, slots=True)
class Response:
    """What a listener answers. ``delay`` is how long it takes (a probe times out past it)."""

    status: int = 200  # HTTP status; for tcp: 0 means connected
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    grpc_status: str = "SERVING"  # SERVING | NOT_SERVING | UNKNOWN | SERVICE_UNKNOWN
    refused: bool = False  # the connection was refused / reset


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a connection from inside the container. Result: ``Response`` (refused if nobody
    listens). ``host`` is ``localhost``/``127.0.0.1``/the Pod IP for Pod-local ports."""

    host: str
    request: Request


Syscall = Sleep | WaitForever | CpuWork | Connect
Program = Generator[Syscall, object, int]
Handler = Callable[[Request, float], Response]
"""A listener: called with the request and the simulated time; returns the response."""


class FileSystemError(Exception):
    """errno-style failure: ``kind`` is ENOENT, EISDIR, ENOTDIR, EROFS, EEXIST or EACCES."""

    def __init__(self, kind: str, path: str) -> None:
        super().__init__(f"{kind}: {path}")
        self.kind = kind
        self.path = path


class FileSystem(Protocol):
    """A container's view of files: its own writable layer plus the image's files (and, in
    part 2 of the engine, volume mounts). Paths are absolute and normalised."""

    def read(self, path: str) -> str: ...
    def write(self, path: str, data: str, *, append: bool = False) -> None: ...
    def exists(self, path: str) -> bool: ...
    def is_dir(self, path: str) -> bool: ...
    def listdir(self, path: str) -> list[str]: ...
    def mkdir(self, path: str, *, parents: bool = False) -> None: ...
    def remove(self, path: str, *, recursive: bool = False) -> None: ...


class ProcessContext(Protocol):
    """What the runtime gives a program. Output goes to the container's log."""

    argv: list[str]
    env: dict[str, str]
    fs: FileSystem
    hostname: str
    pod_ip: str
    rng: random.Random
    is_pid1: bool

    @property
    def now(self) -> float:
        """Simulated seconds since the simulation started."""
        ...

    @property
    def started_at(self) -> float:
        """Simulated time at which this process started."""
        ...

    def stdout(self, text: str) -> None: ...
    def stderr(self, text: str) -> None: ...
    def listen(self, port: int, protocol: str, handler: Handler) -> bool:
        """Bind a port in the Pod's network namespace; False if already bound (EADDRINUSE)."""
        ...

    def unlisten(self, port: int, protocol: str) -> None: ...
    def handle_signal(self, signal: int, handled: bool) -> None:
        """Install (or remove) a handler for ``signal``; SIGKILL cannot be handled."""
        ...

    def handles(self, signal: int) -> bool: ...
    def set_memory(self, bytes_used: int) -> None:
        """Report the resident memory; past the container's limit the runtime OOM-kills."""
        ...

    def spawn(self, argv: list[str]) -> Program:
        """A child program for ``argv`` (same image, fs, env): used for ``sh -c`` children."""
        ...


@dataclass(slots=True)
class ImageInfo:
    """One image of the catalogue (what a registry and the image config would say)."""

    reference: str  # normalised: docker.io/library/busybox:1.36
    digest: str  # sha256:...
    size_bytes: int
    pull_seconds: float
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: int = 0  # numeric uid the image runs as by default
    files: dict[str, str] = field(default_factory=dict)  # files present in the image
    group: int | None = None  # primary gid (None: the user's, 0 for users not in /etc/passwd)
    groups: tuple[int, ...] = ()  # supplementary gids the container runtime adds
    stop_signal: int = SIGTERM  # the image's STOPSIGNAL: what the runtime stops it with


__all__ = [
    "SIGHUP",
    "SIGINT",
    "SIGKILL",
    "SIGNAL_NAMES",
    "SIGQUIT",
    "SIGTERM",
    "SIGUSR1",
    "SIGUSR2",
    "Connect",
    "CpuWork",
    "FileSystem",
    "FileSystemError",
    "Handler",
    "ImageInfo",
    "ProcessContext",
    "Program",
    "Request",
    "Response",
    "Signalled",
    "Sleep",
    "Syscall",
    "WaitForever",
]
