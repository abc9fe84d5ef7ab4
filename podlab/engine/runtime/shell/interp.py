"""The busybox ``sh`` interpreter: a scheduler of shell jobs running as one program.

A :class:`Process` is what the runtime sees: one generator (``Process.run``) that yields the
syscalls of ``process.py``. Inside, the script and its background jobs (``cmd &``) are
generators too; the process multiplexes them on the simulated clock, delivers signals to the
main shell (traps run after the foreground command, ``wait`` is interrupted at once), and
charges every command a little CPU so no loop can stall the simulation.
"""

from __future__ import annotations

import fnmatch
import inspect
import math
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from podlab.engine.runtime.filesystem import normalise
from podlab.engine.runtime.process import (
    SIGKILL,
    SIGNAL_NAMES,
    Connect,
    CpuWork,
    FileSystemError,
    ProcessContext,
    Response,
    Signalled,
    Sleep,
    WaitForever,
)
from podlab.engine.runtime.shell import parser as p
from podlab.engine.runtime.shell import rope as rope_
from podlab.engine.runtime.shell.arith import ArithError, evaluate
from podlab.engine.runtime.shell.counting import advance, counting_steps, is_integer_text

__all__ = [
    "IO",
    "MAX_STEPS",
    "STEP_COST",
    "BufferSink",
    "Input",
    "Interrupted",
    "Process",
    "Shell",
    "ShellExit",
    "WaitJobs",
    "errno_text",
]

STEP_COST = 0.001  # simulated CPU seconds charged for every command and loop iteration
FLUSH_COST = 0.01  # charged to the runtime in chunks of this size
MAX_STEPS = 1_000_000
MAX_CALL_DEPTH = 100
PIPE_LIMIT = 1 << 20  # bytes a pipe buffers before the writer gets SIGPIPE
SPIN_CPU = 0.1  # CPU a loop that changes nothing burns per turn: one CFS period first
SPIN_MAX_CPU = 1.0  # ... and at most this much before it looks again
HOLD_THRESHOLD = 64 * 1024  # strings from this size on count as memory the shell holds
PROCESS_MEMORY = 256 * 1024  # a busybox sh's own resident memory
#: PodLab never builds a string bigger than this: past it a string is hollow (``Hollow``:
#: its size counted against the container's memory, a part of its text kept).
MAX_MATERIALISED = 32 * 1024 * 1024
#: ... nor keeps more than this of the content of the files of one tree (a container's
#: writable layer, an emptyDir): bytes written past it are counted (file sizes, memory of a
#: tmpfs, the eviction manager's disk usage) but not kept.
MAX_KEPT_TREE = 32 * 1024 * 1024
#: ... past it a string is hollow: it keeps this many characters and counts its size
HOLLOW_KEPT = 1024 * 1024
#: field splitting of a hollow string: a run of one unit this big without IFS characters
#: is not built (it stands in the text to split as one marker)
SPLIT_RUN = 4096
#: a file past ``MAX_MATERIALISED`` is kept as a rope while the rope's own units hold at
#: most this many characters (else its kept part and its size, as any tree past its bound)
ROPE_KEPT = 4 * 1024 * 1024
MAX_JOB_TABLE = 4096  # finished jobs past this are forgotten
FORK_FAILED = "sh: can't fork: Resource temporarily unavailable\n"

ERRNO_TEXT = {
    "ENOENT": "No such file or directory",
    "EISDIR": "Is a directory",
    "ENOTDIR": "Not a directory",
    "EROFS": "Read-only file system",
    "EEXIST": "File exists",
    "EACCES": "Permission denied",
    "EBUSY": "Resource busy",
    "ENOSPC": "No space left on device",
}


class Hollow(str):
    """A string bigger than PodLab builds (``MAX_MATERIALISED``): its first ``HOLLOW_KEPT``
    characters, ``size``, the length the program's string has, and ``rope``, its whole
    content as repeated units (``rope.py``) when PodLab knows it. Length, concatenation,
    writes (log, file, pipe), ``wc``, comparisons and ``case`` use the size and the rope;
    without a rope they see the kept characters."""

    size: int
    rope: rope_.Rope | None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        if size_of(other) != self.size:
            return False
        mine, theirs = rope_of(self), rope_of(other)
        if mine is None or theirs is None:
            return str.__eq__(self, other)
        return rope_.equal(mine, theirs)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def hollow(text: str, size: int, rope: rope_.Rope | None = None) -> Hollow:
    made = Hollow(text[:HOLLOW_KEPT])
    made.size = size
    made.rope = rope
    return made


def size_of(text: str) -> int:
    """The length of a string as the program has it (a hollow one's full size)."""
    return text.size if type(text) is Hollow else len(text)


def rope_of(text: str) -> rope_.Rope | None:
    """The whole content of a string as a rope (None: a hollow string PodLab lost)."""
    if type(text) is Hollow:
        return text.rope
    if len(text) < rope_.SMALL or len(text) > PIPE_LIMIT:
        return rope_.of_text(text)
    if text is _last_reduced[0]:  # a program writing the same buffer again (yes)
        return _last_reduced[1]
    rope = rope_.of_text(text)
    _last_reduced[:] = [text, rope]
    return rope


_last_reduced: list[Any] = [None, ()]


def from_rope(rope: rope_.Rope) -> str:
    """A string with this content: built when small enough, else hollow."""
    size = rope_.length(rope)
    if size <= MAX_MATERIALISED:
        return rope_.text(rope)
    head = rope_.text(rope_.sub(rope, 0, HOLLOW_KEPT))
    return hollow(head, size, rope)


def built(text: str) -> str:
    """A hollow string small enough to build (a file kept as a rope past what its tree
    keeps built), built; any other string as it is."""
    if type(text) is Hollow and text.rope is not None and text.size <= MAX_MATERIALISED:
        return rope_.text(text.rope)
    return text


def _joined(pieces: list[str], size: int) -> str:
    """Concatenate; past ``MAX_MATERIALISED`` (or with a hollow piece) only the first
    ``HOLLOW_KEPT`` characters are built, and the whole as a rope."""
    if size <= MAX_MATERIALISED and not any(type(x) is Hollow for x in pieces):
        return "".join(pieces)
    kept: list[str] = []
    room = HOLLOW_KEPT
    for piece in pieces:
        if room <= 0:
            break
        kept.append(piece[:room])
        room -= len(kept[-1])
    ropes: dict[int, rope_.Rope | None] = {}  # x=$x$x: the same piece twice, reduced once
    for piece in pieces:
        if id(piece) not in ropes:
            ropes[id(piece)] = rope_of(piece)
    return hollow("".join(kept), size, rope_.concat([ropes[id(p)] for p in pieces]))


def _glob_atoms(pattern: str) -> list[str]:
    """A pattern as fnmatch reads it: ``*``, or one character's atom (a literal, ``?`` or
    a ``[...]`` class)."""
    atoms: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            close = pattern.find("]", j)
            if close >= 0:
                atoms.append(pattern[i : close + 1])
                i = close + 1
                continue
        atoms.append(c)
        i += 1
    return atoms


class _Fixed:
    """A part of a glob without ``*``: as many characters as it has atoms, each matched by
    one atom (``look``: a lookahead that finds where it matches)."""

    __slots__ = ("look", "width")

    def __init__(self, atoms: list[str]) -> None:
        self.width = len(atoms)
        body = fnmatch.translate("".join(atoms)).removesuffix(r"\Z")
        self.look = re.compile(f"(?={body})", re.S)

    def at(self, rope: rope_.Rope, pos: int) -> bool:
        return self.look.match(rope_.text(rope_.sub(rope, pos, pos + self.width))) is not None


def _glob_parts(pattern: str) -> list[_Fixed] | None:
    """A glob split at its ``*``s into fixed-width parts (head, middles, tail); None for a
    glob without ``*`` (then it is one part: see ``_Fixed``)."""
    atoms = _glob_atoms(pattern)
    if "*" not in atoms:
        return None
    parts: list[list[str]] = [[]]
    for atom in atoms:
        if atom == "*":
            parts.append([])
        else:
            parts[-1].append(atom)
    return [_Fixed(parts[0])] + [_Fixed(x) for x in parts[1:-1] if x] + [_Fixed(parts[-1])]


def rope_prefix(rope: rope_.Rope, size: int, pattern: str, longest: bool) -> int | None:
    """The length of the shortest (``longest``: longest) start of the content that
    ``pattern`` matches, or None. A glob ``H*M1*...*T`` matches a start of ``i`` characters
    when ``H`` matches at 0, each middle part fits after the last (placed leftmost) and
    ``T`` matches just before ``i``: the answers come from the rope without building it."""
    parts = _glob_parts(pattern)
    if parts is None:
        fixed = _Fixed(_glob_atoms(pattern))
        return fixed.width if fixed.width <= size and fixed.at(rope, 0) else None
    head, middles, tail = parts[0], parts[1:-1], parts[-1]
    if head.width > size or not head.at(rope, 0):
        return None
    pos = head.width
    for part in middles:
        found = rope_.first_match(rope, part.look, part.width, pos, size)
        if found < 0:
            return None
        pos = found + part.width
    pick = rope_.last_match if longest else rope_.first_match
    found = pick(rope, tail.look, tail.width, pos, size)
    return None if found < 0 else found + tail.width


def rope_suffix(rope: rope_.Rope, size: int, pattern: str, longest: bool) -> int | None:
    """Where the shortest (``longest``: longest) end of the content that ``pattern``
    matches starts, or None (the mirror of ``rope_prefix``)."""
    parts = _glob_parts(pattern)
    if parts is None:
        fixed = _Fixed(_glob_atoms(pattern))
        ok = fixed.width <= size and fixed.at(rope, size - fixed.width)
        return size - fixed.width if ok else None
    head, middles, tail = parts[0], parts[1:-1], parts[-1]
    if tail.width > size or not tail.at(rope, size - tail.width):
        return None
    end = size - tail.width
    for part in reversed(middles):
        found = rope_.last_match(rope, part.look, part.width, 0, end)
        if found < 0:
            return None
        end = found
    pick = rope_.first_match if longest else rope_.last_match
    found = pick(rope, head.look, head.width, 0, end)
    return None if found < 0 else found


def rope_matches(rope: rope_.Rope, size: int, pattern: str) -> bool:
    """Whether ``pattern`` matches the whole content."""
    return rope_prefix(rope, size, pattern, True) == size


def strip_newlines(text: str) -> str:
    """``$(...)`` drops trailing newlines, of a hollow string too."""
    if type(text) is not Hollow or text.rope is None:
        return text.rstrip("\n")
    return from_rope(rope_.rstrip(text.rope, "\n"))


def errno_text(exc: FileSystemError) -> str:
    return ERRNO_TEXT.get(exc.kind, exc.kind)


# --- I/O ------------------------------------------------------------------------------


class Sink(ABC):
    """Where a command's output goes: the container log, a file, a pipe, a captured string."""

    @abstractmethod
    def write(self, text: str) -> None: ...


class Tally:
    """A counter shared by a process and its sinks (no reference back to the process, so
    nothing forms a cycle the garbage collector would have to find)."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


class LogSink(Sink):
    def __init__(self, emit: Callable[[str], None], tally: Tally | None = None) -> None:
        self.emit = emit
        self.tally = tally

    def write(self, text: str) -> None:
        if text:
            if self.tally is not None:
                self.tally.n += 1
            self.emit(text)


class NullSink(Sink):
    def write(self, text: str) -> None:
        return None


class WriteError(Exception):
    """``write(2)`` to a file failed (``ENOSPC``: the node's disk is full): the program
    reports it its own way (``write_error_message``) and exits with 1."""

    def __init__(self, exc: FileSystemError) -> None:
        super().__init__(exc.kind)
        self.exc = exc


#: Programs that report a failed write of their output without busybox's "write error"
#: prefix: ``yes`` ends with ``bb_perror_nomsg_and_die`` (coreutils/yes.c).
_PLAIN_WRITE_ERROR = frozenset({"yes"})
#: ... and those that never notice: ``printf`` writes through stdio and returns only its
#: conversion errors; ash flushes a builtin's output afterwards without checking it.
_SILENT_WRITE_ERROR = frozenset({"printf"})


def write_error_message(program: str, exc: FileSystemError) -> str:
    """What busybox prints when writing its output fails: ``bb_msg_write_error`` ("write
    error") with the applet's name; ash's ``echo`` builtin prints the shell's name, ``sh``
    (``printf`` never reports it: ``_SILENT_WRITE_ERROR``)."""
    if program in _PLAIN_WRITE_ERROR:
        return f"{program}: {errno_text(exc)}\n"
    return f"{program}: write error: {errno_text(exc)}\n"


class BrokenPipe(Exception):  # noqa: N818 - models SIGPIPE
    """The reader of a pipe went away (the buffer is full): the writer dies with 141."""


class BufferSink(Sink):
    """A pipe to the next command of a pipeline (run after this one): it buffers up to
    ``limit`` bytes, then the writer gets SIGPIPE. Each write that starts below the limit is
    taken whole (the reader takes it as it comes). With ``hold`` it is the shell reading a
    command substitution: no limit, all of it the shell's memory (``hold``: the OOM killer
    when it does not fit); past ``MAX_MATERIALISED`` it is kept as one hollow string."""

    def __init__(self, limit: int = PIPE_LIMIT, hold: Callable[[int], None] | None = None) -> None:
        self.chunks: list[str] = []
        self.size = 0
        self.limit = limit
        self.hold = hold

    def write(self, text: str) -> None:
        size = size_of(text)
        if not size:
            return
        if self.hold is not None:
            self.hold(self.size + size)
        elif self.size >= self.limit:
            raise BrokenPipe
        self.chunks.append(text)
        self.size += size
        if self.size > MAX_MATERIALISED and len(self.chunks) > 1:
            self.chunks = [_joined(self.chunks, self.size)]

    def text(self) -> str:
        if any(type(c) is Hollow for c in self.chunks):
            return _joined(self.chunks, sum(size_of(c) for c in self.chunks))
        return "".join(self.chunks)


class FileSink(Sink):
    def __init__(self, shell: Shell, path: str) -> None:
        self.shell = shell
        self.path = path

    def write(self, text: str) -> None:
        if text:
            self.shell.proc.effects += 1
            try:
                self.shell.write_file(self.path, text, append=True)
            except FileSystemError as exc:
                if exc.kind == "ENOSPC":
                    raise WriteError(exc) from None
                return


class Input:
    """Standard input: a string consumed from the front."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.pos = 0

    def read_all(self) -> str:
        text = self.text
        if type(text) is Hollow:
            start, self.pos = self.pos, text.size
            if start == 0:
                return built(text)
            if text.rope is not None:
                return from_rope(rope_.sub(text.rope, start, text.size))
            return str.__str__(text)[start:]
        data = text[self.pos :]
        self.pos = len(text)
        return data

    def readline(self) -> str | None:
        text = self.text
        if type(text) is Hollow and text.rope is not None:
            if self.pos >= text.size:
                return None
            end = rope_.find(text.rope, "\n", self.pos)
            stop = text.size if end < 0 else end + 1
            line = from_rope(rope_.sub(text.rope, self.pos, stop))
            self.pos = stop
            return line
        if self.pos >= len(self.text):
            return None
        end = self.text.find("\n", self.pos)
        if end < 0:
            line = self.text[self.pos :]
            self.pos = len(self.text)
        else:
            line = self.text[self.pos : end + 1]
            self.pos = end + 1
        return line


@dataclass(slots=True)
class IO:
    stdin: Input
    stdout: Sink
    stderr: Sink

    def out(self, text: str) -> None:
        self.stdout.write(text)

    def err(self, text: str) -> None:
        self.stderr.write(text)


# --- control flow ---------------------------------------------------------------------


class ShellExit(Exception):  # noqa: N818 - control flow
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class FuncReturn(Exception):  # noqa: N818 - control flow
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class LoopControl(Exception):  # noqa: N818 - control flow
    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.levels = levels


class StepLimit(Exception):  # noqa: N818 - control flow
    pass


class ExpansionError(Exception):
    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class ExecReplace(Exception):  # noqa: N818 - control flow
    """``exec program`` in the main shell: the program replaces the shell process."""

    def __init__(self, factory: Any, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(argv[0])
        self.factory = factory
        self.argv = argv
        self.env = env


@dataclass(frozen=True, slots=True)
class WaitJobs:
    """Internal syscall of ``wait``: resumed with the status, or :class:`Interrupted`."""

    pids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Interrupted:
    signal: int


Gen = Generator[Any, Any, Any]
ExternalLookup = Callable[[list[str]], Any]
"""Maps an argv whose executable is not an applet to a program factory of the image, or None."""


@dataclass(slots=True)
class Job:
    pid: int
    gen: Gen
    command: str = ""
    status: int | None = None
    send: Any = None
    ready: bool = True
    wake: float | None = None  # sleeping until; math.inf = until a signal
    waiting: tuple[int, ...] | None = None
    listeners: list[tuple[int, str]] = field(default_factory=list)
    busy_steps: int = 0  # commands since this job last waited
    parent: int = 0  # the job (or main shell) that started it: what its ``wait`` waits for


class ForkFailed(Exception):  # noqa: N818 - models EAGAIN from fork()
    """The Pod's pids cgroup is full: fork() fails with EAGAIN."""


class OutOfMemory(Exception):  # noqa: N818 - models the kernel's OOM kill
    """A program asked for more memory than its container may have."""


def _finished() -> Gen:
    return 0
    yield  # a generator that has already returned


_DONE = _finished()
_DONE.close()


# --- the process ----------------------------------------------------------------------


class Process:
    """One shell process as the runtime runs it (``run`` is the program generator)."""

    def __init__(
        self,
        ctx: ProcessContext,
        *,
        cwd: str = "/",
        uid: int = 0,
        busybox_version: str = "1.36.1",
        applets: frozenset[str] | None = None,
        external: ExternalLookup | None = None,
    ) -> None:
        self.ctx = ctx
        self.external = external
        self.exec_replace: ExecReplace | None = None
        self.cwd = cwd
        self.uid = uid
        self.busybox_version = busybox_version
        self.pid = 1 if ctx.is_pid1 else 7
        self.next_pid = self.pid + 6
        self.jobs: dict[int, Job] = {}
        self.job_order: list[int] = []
        self.main: Job | None = None
        #: live jobs that can run now, jobs with a wake-up time, and who waits for whom
        self.runnable: dict[int, Job] = {}
        self.sleepers: dict[int, Job] = {}
        self.waiters: dict[int, dict[int, Job]] = {}
        self.children: dict[int, dict[int, Job]] = {}  # live jobs by the pid that started them
        self.live = 0
        self.steps = 0
        self.cost = 0.0
        #: things another process could observe (output, files, signals, jobs): a loop
        #: iteration that changes none of them and no variable can be fast-forwarded
        self.tally = Tally()
        self.traps: dict[int, str] = {}
        self.exit_trap: str | None = None
        self.pending: list[int] = []
        self.die_status: int | None = None
        self.applets = applets
        self.stdio = IO(
            Input(""), LogSink(ctx.stdout, self.tally), LogSink(ctx.stderr, self.tally)
        )
        self.current: Job | None = None
        #: bytes of strings the shell holds beyond its base size (accounted, see ``hold``)
        self.held = 0
        self._fork = getattr(ctx, "fork", None)
        self._reap = getattr(ctx, "reap", None)
        self._allowance = getattr(ctx, "memory_allowance", None)

    @property
    def effects(self) -> int:
        return self.tally.n

    @effects.setter
    def effects(self, value: int) -> None:
        self.tally.n = value

    # limits -------------------------------------------------------------------------

    def fork(self) -> None:
        """A new process of the Pod (a background job): EAGAIN past the pids limit."""
        if self._fork is not None and not self._fork():
            raise ForkFailed

    def fork_check(self) -> None:
        """A short-lived child (a subshell, a pipeline stage, an applet): it needs a pid."""
        if self._fork is not None:
            if not self._fork():
                raise ForkFailed
            if self._reap is not None:
                self._reap(1)

    def hold(self, size: int, *, force: bool = False) -> None:
        """The shell is about to build a string of ``size`` bytes (``force``: tmpfs pages
        of ``size`` bytes, counted not built): past the container's memory (its limit, else
        the node's) the kernel's OOM killer ends it first, so no such string is ever built."""
        if size < HOLD_THRESHOLD and not force:
            return
        allowance = self._allowance() if self._allowance is not None else None
        need = PROCESS_MEMORY + self.held + size
        # strings past MAX_MATERIALISED are hollow (counted, not built): the bound is the
        # container's memory; a shell without one (outside a container) stops there
        bound = allowance if allowance is not None else (None if force else MAX_MATERIALISED)
        if bound is not None and need > bound:
            self.out_of_memory(need)

    def out_of_memory(self, need: int) -> None:
        """The program asked for ``need`` bytes it cannot have: the OOM killer."""
        set_memory = getattr(self.ctx, "set_memory", None)
        if set_memory is not None:
            set_memory(need)
        oom = getattr(self.ctx, "oom", None)
        if oom is not None:
            oom()
        raise OutOfMemory

    def account(self, old: str | None, new: str) -> None:
        """A variable changed from ``old`` to ``new``: big values count as held memory."""
        new_size = size_of(new)
        old_size = size_of(old) if old is not None else 0
        delta = (new_size if new_size >= HOLD_THRESHOLD else 0) - (
            old_size if old_size >= HOLD_THRESHOLD else 0
        )
        if delta:
            self.held = max(0, self.held + delta)
            set_memory = getattr(self.ctx, "set_memory", None)
            if set_memory is not None:
                set_memory(PROCESS_MEMORY + self.held)

    # signals ------------------------------------------------------------------------

    def set_trap(self, sig: int, action: str | None) -> None:
        self.effects += 1
        if action is None:
            self.traps.pop(sig, None)
            self.ctx.handle_signal(sig, False)
        else:
            self.traps[sig] = action
            self.ctx.handle_signal(sig, True)

    def deliver(self, sig: int) -> None:
        """A signal for the main shell (from the runtime or from ``kill``)."""
        self.effects += 1
        if sig == SIGKILL:
            self.die_status = 128 + SIGKILL
            return
        action = self.traps.get(sig)
        if action is None:
            if not self.ctx.is_pid1:
                self.die_status = 128 + sig
            return
        if action == "":
            return
        self.pending.append(sig)
        main = self.main
        if main is not None and main.waiting is not None:
            self._unwait(main)
            main.send = Interrupted(sig)
            self._ready(main)

    # jobs ---------------------------------------------------------------------------

    def _ready(self, job: Job) -> None:
        job.ready = True
        if job is not self.main:
            self.runnable[job.pid] = job

    def _block(self, job: Job) -> None:
        job.ready = False
        self.runnable.pop(job.pid, None)

    def _unwait(self, job: Job) -> None:
        if job.waiting is not None:
            for pid in job.waiting:
                waiting = self.waiters.get(pid)
                if waiting is not None:
                    waiting.pop(id(job), None)
                    if not waiting:
                        del self.waiters[pid]
            job.waiting = None

    def spawn(self, gen: Gen, command: str) -> Job:
        self.effects += 1
        pid = self.next_pid
        self.next_pid += 1
        parent = self.current.pid if self.current is not None else self.pid
        job = Job(pid, gen, command, parent=parent)
        self.jobs[pid] = job
        self.job_order.append(pid)
        self.children.setdefault(parent, {})[pid] = job
        self.live += 1
        self._ready(job)
        if len(self.job_order) > MAX_JOB_TABLE:
            self._trim()
        return job

    def _trim(self) -> None:
        """Forget the oldest finished jobs (a fork bomb starts and ends jobs endlessly)."""
        keep: list[int] = []
        drop = len(self.job_order) - MAX_JOB_TABLE // 2
        for pid in self.job_order:
            job = self.jobs[pid]
            if drop > 0 and job.status is not None and pid not in self.waiters:
                del self.jobs[pid]
                drop -= 1
                continue
            keep.append(pid)
        self.job_order = keep

    def children_of(self, job: Job | None) -> list[int]:
        """The live jobs ``job`` (or the main shell) started: what its ``wait`` waits for."""
        parent = job.pid if job is not None else self.pid
        return list(self.children.get(parent, ()))

    def kill_job(self, pid: int, sig: int) -> bool:
        job = self.jobs.get(pid)
        if job is None or job.status is not None:
            return False
        self._finish(job, 128 + sig, close=True)
        return True

    def _finish(self, job: Job, status: int, *, close: bool = False) -> None:
        if close:
            job.gen.close()
        self.effects += 1
        job.status = status
        self._block(job)
        self._unwait(job)
        self.sleepers.pop(job.pid, None)
        if job is not self.main:
            self.live -= 1
            siblings = self.children.get(job.parent)
            if siblings is not None:
                siblings.pop(job.pid, None)
                if not siblings:
                    del self.children[job.parent]
            if self._reap is not None:
                self._reap(1)
        job.gen = _DONE
        job.send = None
        for port, proto in job.listeners:
            self.ctx.unlisten(port, proto)
        job.listeners.clear()
        waiting = self.waiters.get(job.pid)
        if waiting:
            for other in list(waiting.values()):
                self._check_wait(other)

    def _check_wait(self, job: Job) -> None:
        if job.waiting is None:
            return
        statuses = []
        for pid in job.waiting:
            other = self.jobs.get(pid)
            if other is None:
                statuses.append(127)
                continue
            if other.status is None:
                return
            statuses.append(other.status)
        self._unwait(job)
        job.send = statuses[-1] if statuses else 0
        self._ready(job)

    def charge(self) -> Generator[Any, Any, None]:
        """Account one command: CPU time, and the limit on commands without a pause."""
        self.steps += 1
        job = self.current
        if job is not None:
            job.busy_steps += 1
            if job.busy_steps > MAX_STEPS:
                raise StepLimit
        self.cost += STEP_COST
        if self.cost >= FLUSH_COST:
            cost, self.cost = self.cost, 0.0
            yield CpuWork(round(cost, 6))

    def burn(self, cpu: float = SPIN_CPU) -> Generator[Any, Any, None]:
        """A loop that changes nothing spins: burn one CFS period of CPU at a time instead of
        interpreting each of the millions of iterations a real CPU would run in it."""
        job = self.current
        if job is not None:
            job.busy_steps = 0
        share_of = getattr(self.ctx, "cpu_share", None)
        share = share_of() if share_of is not None else 1.0
        # ``cpu`` is the simulated time the spin lasts: under a CPU limit it burns less.
        cost, self.cost = self.cost, 0.0
        yield CpuWork(round(cost + cpu * min(1.0, max(share, 0.001)), 6))

    # the scheduler ------------------------------------------------------------------

    def run(self, main: Gen, command: str = "sh") -> Generator[Any, Any, int]:
        self.main = Job(self.pid, main, command)
        try:
            return (yield from self._loop())
        finally:
            for job in list(self.jobs.values()):
                if job.status is None:
                    self._finish(job, 143, close=True)
            if self.main.status is None:
                self.main.gen.close()

    def _loop(self) -> Generator[Any, Any, int]:
        main = self.main
        if main is None:
            raise RuntimeError("Process.run sets the main job first")
        while True:
            progressed = True
            while progressed:
                progressed = False
                for job in [main, *self.runnable.values()]:
                    while job.ready and job.status is None:
                        progressed = True
                        op = self._advance(job)
                        if self.die_status is not None:
                            return self.die_status
                        if op is None:
                            break
                        try:
                            result = yield op
                        except Signalled as sig:
                            self.deliver(sig.signal)
                            result = Response(refused=True) if isinstance(op, Connect) else None
                        job.send = result
                        if self.die_status is not None:
                            return self.die_status
                        if type(op) is CpuWork and (self.sleepers or self.runnable):
                            # Time passed: the other jobs (and those whose sleep ended)
                            # take their turn.
                            self._wake_due()
                            break
                    if main.status is not None:
                        return main.status
            sleeping = [j.wake for j in self.sleepers.values() if j.wake is not None]
            if main.status is None and main.wake is not None:
                sleeping.append(main.wake)
            now = self.ctx.now
            try:
                if not sleeping or min(sleeping) == math.inf:
                    yield WaitForever()
                else:
                    yield Sleep(max(0.0, min(sleeping) - now))
            except Signalled as sig:
                self.deliver(sig.signal)
                if self.die_status is not None:
                    return self.die_status
            self._wake_due()

    def _wake_due(self) -> None:
        now = self.ctx.now
        main = self.main
        if main is not None and main.status is None and main.wake is not None:
            if main.wake <= now + 1e-9:
                main.wake = None
                main.send = None
                self._ready(main)
        for job in list(self.sleepers.values()):
            if job.status is None and job.wake is not None and job.wake <= now + 1e-9:
                job.wake = None
                job.send = None
                del self.sleepers[job.pid]
                self._ready(job)

    def _sleep(self, job: Job, until: float) -> None:
        job.wake = until
        self._block(job)
        if job is not self.main:
            self.sleepers[job.pid] = job

    def _advance(self, job: Job) -> Any:
        """Run ``job`` until it blocks; return a syscall the runtime must perform, or None."""
        self.current = job
        while True:
            try:
                op = job.gen.send(job.send)
            except StopIteration as stop:
                self._finish(job, int(stop.value or 0))
                return None
            except ExecReplace as replace:
                if job is self.main:
                    self.exec_replace = replace
                    self._finish(job, 0)
                    return None
                self._finish(job, 126)
                return None
            except StepLimit:
                self.stdio.err(
                    f"sh: stopped after {MAX_STEPS} commands without a pause "
                    "(PodLab's step limit)\n"
                )
                self.die_status = 1
                return None
            except OutOfMemory:
                # The OOM killer's SIGKILL is on its way (the runtime sends it at once).
                self.die_status = 128 + SIGKILL
                return None
            except RecursionError:
                self.stdio.err("sh: nesting too deep\n")
                self._finish(job, 2)
                if job is self.main:
                    self.die_status = 2
                return None
            job.send = None
            kind = type(op)
            if kind is Sleep or kind is WaitForever or kind is WaitJobs or kind is Connect:
                self.effects += 1
                if not (kind is Sleep and op.seconds < 0.05):
                    job.busy_steps = 0
            if kind is Sleep:
                if op.seconds <= 0:
                    continue
                self._sleep(job, self.ctx.now + op.seconds)
                return None
            if kind is WaitForever:
                self._sleep(job, math.inf)
                return None
            if kind is WaitJobs:
                job.waiting = op.pids
                for pid in op.pids:
                    self.waiters.setdefault(pid, {})[id(job)] = job
                self._check_wait(job)
                if job.waiting is not None:
                    self._block(job)
                    return None
                continue
            if kind is CpuWork or kind is Connect:
                return op
            raise TypeError(f"unknown syscall {op!r}")

    def listen(self, port: int, protocol: str, handler: Any) -> bool:
        if not self.ctx.listen(port, protocol, handler):
            return False
        if self.current is not None:
            self.current.listeners.append((port, protocol))
        return True


# --- the shell (interpreter state) ----------------------------------------------------

Applet = Callable[["Shell", IO, list[str]], Any]
BUILTINS: dict[str, Applet] = {}
APPLETS: dict[str, Applet] = {}


COMMAND_CACHE_SIZE = 256  # PATH lookups remembered per file system


class Shell:
    """Variables, functions and the working directory of one shell (or subshell)."""

    def __init__(self, proc: Process, *, name: str = "sh", args: list[str] | None = None) -> None:
        self.proc = proc
        self.ctx = proc.ctx
        self.fs = proc.ctx.fs
        self.name = name
        self.args: list[str] = list(args or [])
        self.vars: dict[str, str] = {}
        self.exported: set[str] = set()
        for key, value in proc.ctx.env.items():
            self.vars[key] = value
            self.exported.add(key)
        self.vars.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.exported.add("PATH")
        self.vars.setdefault("HOME", "/root" if proc.uid == 0 else "/")
        self.vars["PWD"] = proc.cwd
        self.vars.setdefault("IFS", " \t\n")
        self.vars["PPID"] = "0" if proc.pid == 1 else "1"
        self.cwd = proc.cwd
        self.functions: dict[str, p.Node] = {}
        self.status = 0
        self.is_main = True
        self.errexit = False
        self.cond_depth = 0
        self.call_depth = 0
        self.loop_depth = 0
        self.last_bg: int | None = None
        self.locals: list[dict[str, str | None]] = []
        self._cmdsub_status: int | None = None
        #: a forked child that runs one simple command execs it without forking again
        self.exec_in_place = False

    def clone(self) -> Shell:
        sub = Shell.__new__(Shell)
        sub.proc = self.proc
        sub.ctx = self.ctx
        sub.fs = self.fs
        sub.name = self.name
        sub.args = list(self.args)
        sub.vars = dict(self.vars)
        sub.exported = set(self.exported)
        sub.cwd = self.cwd
        sub.functions = dict(self.functions)
        sub.status = self.status
        sub.is_main = False
        sub.errexit = self.errexit
        sub.cond_depth = self.cond_depth
        sub.call_depth = self.call_depth
        sub.loop_depth = 0
        sub.last_bg = self.last_bg
        sub.locals = []
        sub._cmdsub_status = None
        sub.exec_in_place = False
        return sub

    # helpers ------------------------------------------------------------------------

    def path(self, name: str) -> str:
        return normalise(name, self.cwd)

    def write_file(self, path: str, data: str, *, append: bool = False, extra: int = 0) -> None:
        """A program writes ``data`` (and ``extra`` bytes it does not keep) to a file: into a
        tmpfs the pages are the writer's memory (past ``memory.max``, the OOM killer); a
        tree keeps at most ``MAX_KEPT_TREE`` of content and counts the rest. A file bigger
        than ``MAX_MATERIALISED`` whose content is a rope (a hollow string written to it, or
        appends that repeat) is kept as that hollow string: reading it back is exact."""
        backing = getattr(self.fs, "backing_path", None)
        tree, inner = backing(path) if backing is not None else (None, path)
        if type(data) is Hollow and data.rope is not None:
            extra = 0  # its size is its own (a copy of a file kept as a rope)
        if tree is None:
            self.fs.write(path, data, append=append)
            return
        size = size_of(data) + extra
        current, old, replaced = "", 0, 0
        if append:
            current = tree.own(inner) or ""
        elif tree.exists(inner) and not tree.is_dir(inner):
            old, replaced = tree.size(inner), len(tree.read(inner))
        if tree.memory_backed and size:
            self.proc.hold(tree.file_bytes() - old + size, force=True)
        if getattr(tree, "disk", None) is not None and not self._disk_takes(
            tree, path, inner, size, size if append else size - old, append
        ):
            return
        if self._write_rope(tree, path, inner, current, data, extra, replaced):
            return
        del current  # (an append grows the file's text in place only when it is its one reference)
        if type(data) is Hollow:  # the kept part, and the rest counted
            extra += data.size - len(data)
            data = str.__str__(data)
        if tree.kept_bytes() - replaced + len(data) > MAX_KEPT_TREE:
            if not (append and tree.count_append(inner, size)):
                self.fs.write(path, "", append=append)
                tree.count_append(inner, size)
            return
        self.fs.write(path, data, append=append)
        if extra:
            tree.count_append(inner, extra)

    def _disk_takes(
        self, tree: Any, path: str, inner: str, size: int, need: int, append: bool
    ) -> bool:
        """On the node's disk: True when it has room for the whole write; else what fits is
        counted (the file's bytes, not kept) and the write fails with ``ENOSPC``."""
        if need <= 0:
            return True
        granted = tree.disk(need, 0)[0]
        tree.disk(-granted, 0)
        if granted >= need:
            return True
        if not append or not tree.exists(inner):
            self.fs.write(path, "", append=append)  # open(O_CREAT|O_TRUNC): may need an inode
        tree.count_append(inner, size)
        return False

    def _write_rope(
        self, tree: Any, path: str, inner: str, current: str, data: str, extra: int, replaced: int
    ) -> bool:
        """Keep the file as a hollow string (its rope) when it is past ``MAX_MATERIALISED``,
        or past what the tree keeps built, and its content (what it had, ``current``, then
        ``data``) is known as a compact rope (``ROPE_KEPT``)."""
        total = size_of(current) + size_of(data)
        if extra or not (
            type(data) is Hollow
            or type(current) is Hollow
            or total > MAX_MATERIALISED
            or tree.kept_bytes() - replaced + len(data) > MAX_KEPT_TREE
        ):
            return False
        if current and type(current) is not Hollow and tree.uncounted(inner):
            return False  # part of the content is not known
        added = rope_of(data)
        if (
            type(current) is Hollow
            and current.rope
            and added is not None
            and len(added) == 1
            and current.rope[-1][0] == added[0][0]
        ):  # the same unit again (yes > file): one more count, nothing else changes
            unit, times = current.rope[-1]
            rope: rope_.Rope | None = (*current.rope[:-1], (unit, times + added[0][1]))
            weight = 0
        else:
            rope = rope_.concat([rope_of(current), added]) if current else added
            if rope is None:
                return False
            weight = rope_.weight(rope)
            if weight > ROPE_KEPT:
                return False
        assert rope is not None  # noqa: S101 - both branches set it
        # appending to a file kept as a rope that nothing else holds (the tree's dict, the
        # two names here and getrefcount's own): it grows in place, its kept part unchanged
        alone = sys.getrefcount(current) <= 4
        if type(current) is Hollow and len(current) >= HOLLOW_KEPT and alone:
            current.size, current.rope = total, rope
            tree.count_append(inner, size_of(data))
            return True
        if len(current) >= HOLLOW_KEPT:
            head = current
        else:
            head = rope_.text(rope_.sub(rope, 0, min(total, HOLLOW_KEPT)))
        joined = hollow(head, total, rope)
        weight = weight or rope_.weight(rope)
        if tree.kept_bytes() - max(replaced, len(current)) + len(joined) + weight > MAX_KEPT_TREE:
            return False
        self.fs.write(path, joined)
        tree.count_append(inner, total - len(joined))
        return True

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: self.vars[k] for k in sorted(self.exported) if k in self.vars}
        if extra:
            env.update(extra)
        return env

    def set_var(self, name: str, value: str) -> None:
        self.proc.account(self.vars.get(name), value)
        self.vars[name] = value

    def find_command(self, name: str) -> str | None:
        """Where ``name`` lives: an absolute path in the file system, or None."""
        if "/" in name:
            path = self.path(name)
            return path if self.fs.exists(path) else None
        path_var = self.vars.get("PATH", "")
        # Probes run the same command every few seconds: remember where it was found for as
        # long as the file system (and everything mounted in it) stays the same.
        generation_of = getattr(self.fs, "lookup_generation", None)
        generation = generation_of() if generation_of is not None else None
        cache = getattr(self.fs, "command_cache", None) if generation is not None else None
        key = (name, path_var, self.cwd)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None and hit[0] == generation:
                return hit[1]
        found = None
        for d in path_var.split(":"):
            if not d:
                continue
            candidate = normalise(name, d if d.startswith("/") else self.path(d))
            if self.fs.exists(candidate) and not self.fs.is_dir(candidate):
                found = candidate
                break
        if cache is not None:
            if len(cache) >= COMMAND_CACHE_SIZE:
                cache.clear()
            cache[key] = (generation, found)
        return found

    # running ------------------------------------------------------------------------

    def run_script(self, node: p.Node, io: IO) -> Gen:
        """Run a whole script as the main program; returns the exit status."""
        try:
            status = yield from self.run(node, io)
        except ShellExit as exc:
            status = exc.status
        except (FuncReturn, LoopControl):
            status = self.status
        except WriteError:
            status = 1
        if self.is_main and self.proc.exit_trap:
            action, self.proc.exit_trap = self.proc.exit_trap, None
            self.status = status
            try:
                yield from self.run(p.parse(action), io)
            except ShellExit as exc:
                status = exc.status
            except p.ShellSyntaxError as exc:
                io.err(f"sh: {exc}\n")
        return status

    def run(self, node: p.Node, io: IO) -> Gen:
        if isinstance(node, p.Simple):
            status = yield from self.run_simple(node, io)
        elif isinstance(node, p.ListNode):
            status = 0
            for item, background in node.items:
                if background:
                    self.start_background(item, io)
                    status = 0
                else:
                    status = yield from self.run(item, io)
                self.status = status
        elif isinstance(node, p.AndOr):
            status = yield from self.condition(node.first, io)
            for i, (op, nxt) in enumerate(node.rest):
                self.status = status
                if (op == "&&") == (status == 0):
                    if i == len(node.rest) - 1:
                        status = yield from self.run(nxt, io)
                    else:
                        status = yield from self.condition(nxt, io)
        elif isinstance(node, p.Pipeline):
            status = yield from self.run_pipeline(node, io)
        elif isinstance(node, p.FuncDef):
            self.functions[node.name] = node.body
            status = 0
        else:
            status = yield from self.run_compound(node, io)
        self.status = status
        if (
            status != 0
            and self.errexit
            and self.cond_depth == 0
            and isinstance(node, p.Simple | p.Pipeline | p.Subshell)
            and not (isinstance(node, p.Pipeline) and node.negate)
        ):
            raise ShellExit(status)
        return status

    def condition(self, node: p.Node, io: IO) -> Gen:
        """Run ``node`` where a failure is tested, not fatal (``set -e`` does not apply)."""
        self.cond_depth += 1
        try:
            return (yield from self.run(node, io))
        finally:
            self.cond_depth -= 1

    def run_compound(self, node: p.Node, io: IO) -> Gen:
        redirs: list[p.Redir] = getattr(node, "redirs", [])
        if redirs:
            io2 = yield from self.redirect(redirs, io)
            if io2 is None:
                return 1
            io = io2
        if isinstance(node, p.Group):
            return (yield from self.run(node.body, io))
        if isinstance(node, p.Subshell):
            self.fork(short=True)
            sub = self.clone()
            try:
                return (yield from sub.run(node.body, io))
            except ShellExit as exc:
                return exc.status
            except (FuncReturn, LoopControl):
                return sub.status
        if isinstance(node, p.If):
            for cond, body in node.clauses:
                if (yield from self.condition(cond, io)) == 0:
                    return (yield from self.run(body, io))
            if node.else_body is not None:
                return (yield from self.run(node.else_body, io))
            return 0
        if isinstance(node, p.Loop):
            return (yield from self.run_loop(node, io))
        if isinstance(node, p.For):
            return (yield from self.run_for(node, io))
        if isinstance(node, p.Case):
            return (yield from self.run_case(node, io))
        raise TypeError(f"unknown node {node!r}")

    def _loop_body(self, body: p.Node, io: IO) -> Gen:
        """Run one iteration; returns (status, "break"|"continue"|None)."""
        try:
            status = yield from self.run(body, io)
        except LoopControl as ctl:
            if ctl.levels > 1:
                ctl.levels -= 1
                raise
            return self.status, ctl.kind
        return status, None

    def _loop_mark(self) -> tuple[Any, ...]:
        """What one loop iteration could change that anyone could see."""
        proc = self.proc
        generation_of = getattr(self.fs, "lookup_generation", None)
        generation = generation_of() if generation_of is not None else proc.steps
        return (proc.effects, proc.next_pid, generation, len(proc.pending), len(self.args))

    def run_loop(self, node: p.Loop, io: IO) -> Gen:
        status = 0
        self.loop_depth += 1
        proc = self.proc
        spin = SPIN_CPU
        counting = counting_steps(node, self.functions)
        try:
            while True:
                steps = proc.steps
                yield from proc.charge()
                yield from self.after_command(io)
                mark = self._loop_mark()
                before = dict(self.vars)
                args = self.args
                cond = yield from self.condition(node.cond, io)
                if (cond == 0) == node.until:
                    break
                status, ctl = yield from self._loop_body(node.body, io)
                if ctl == "break":
                    break
                if mark == self._loop_mark() and self.vars == before and self.args == args:
                    # Nothing changed: the next iteration does exactly the same (until time
                    # passes or another process changes a file), so burn CPU for a while,
                    # then look again: one CFS period first, twice as long each time
                    # nothing changes, up to a second.
                    yield from proc.burn(spin)
                    spin = min(SPIN_MAX_CPU, spin * 2)
                elif (
                    counting
                    and mark == self._loop_mark()
                    and self.args == args
                    and self._only_counted(before, counting)
                ):
                    # A counting loop: iteration n is known without the ones before it, so
                    # the CPU slice's iterations are run at once (counting.py).
                    yield from self._count_ahead(counting, proc.steps - steps, spin)
                    spin = min(SPIN_MAX_CPU, spin * 2)
                else:
                    spin = SPIN_CPU
        finally:
            self.loop_depth -= 1
        return status

    def _only_counted(self, before: dict[str, str], counting: dict[str, int]) -> bool:
        """Only the counted variables changed, and each holds a plain decimal."""
        vars_ = self.vars
        if len(vars_) != len(before):
            return False
        for name, value in vars_.items():
            if name in counting:
                if not is_integer_text(value):
                    return False
            elif before.get(name) != value:
                return False
        return True

    def _count_ahead(self, counting: dict[str, int], steps: int, cpu: float) -> Gen:
        """Burn ``cpu`` seconds of simulated time as the loop would, and add what the
        iterations that fit in it would have added (ash's 64-bit wrap-around included)."""
        share_of = getattr(self.ctx, "cpu_share", None)
        share = min(1.0, max(share_of() if share_of is not None else 1.0, 0.001))
        iterations = int(cpu * share / (max(steps, 1) * STEP_COST))
        if iterations > 0:
            for name, step in counting.items():
                self.set_var(name, advance(self.vars[name], step, iterations))
        yield from self.proc.burn(cpu)

    def run_for(self, node: p.For, io: IO) -> Gen:
        if node.words is None:
            items = list(self.args)
        else:
            items = []
            for w in node.words:
                items.extend((yield from self.expand(w)))
        status = 0
        self.loop_depth += 1
        try:
            for item in items:
                yield from self.proc.charge()
                yield from self.after_command(io)
                self.vars[node.var] = item
                status, ctl = yield from self._loop_body(node.body, io)
                if ctl == "break":
                    break
        finally:
            self.loop_depth -= 1
        return status

    def run_case(self, node: p.Case, io: IO) -> Gen:
        subject = yield from self.expand_str(node.word)
        for patterns, body in node.items:
            for pat in patterns:
                pattern = yield from self.expand_pattern(pat)
                if self.glob_match(subject, pattern):
                    if body is None:
                        return 0
                    return (yield from self.run(body, io))
        return 0

    def run_pipeline(self, node: p.Pipeline, io: IO) -> Gen:
        data = io.stdin
        status = 0
        if len(node.commands) > 1:
            self.fork(short=True)
        for i, cmd in enumerate(node.commands):
            last = i == len(node.commands) - 1
            out: Sink = io.stdout if last else BufferSink()
            sub = self.clone() if len(node.commands) > 1 else self
            if node.negate:
                sub.cond_depth += 1
            try:
                status = yield from sub.run(cmd, IO(data, out, io.stderr))
            except ShellExit as exc:
                status = exc.status
            except BrokenPipe:
                status = 141
            except WriteError:
                status = 1
            finally:
                if node.negate:
                    sub.cond_depth -= 1
            if isinstance(out, BufferSink):
                data = Input(out.text())
        if node.negate:
            status = 0 if status != 0 else 1
        return status

    def start_background(self, node: p.Node, io: IO) -> None:
        self.fork()
        sub = self.clone()
        sub.exec_in_place = isinstance(node, p.Simple)
        bg_io = IO(Input(""), io.stdout, io.stderr)

        def body() -> Gen:
            try:
                return (yield from sub.run(node, bg_io))
            except ShellExit as exc:
                return exc.status
            except (FuncReturn, LoopControl):
                return sub.status
            except BrokenPipe:
                return 141
            except WriteError:
                return 1

        job = self.proc.spawn(body(), "")
        self.last_bg = job.pid

    def fork(self, *, short: bool = False) -> None:
        """fork(): busybox ash reports EAGAIN and ends this shell with status 2."""
        try:
            if short:
                self.proc.fork_check()
            else:
                self.proc.fork()
        except ForkFailed:
            self.proc.stdio.err(FORK_FAILED)
            raise ShellExit(2) from None

    def after_command(self, io: IO) -> Gen:
        """Run pending traps (main shell only) and honour a pending self-kill."""
        proc = self.proc
        if proc.die_status is not None:
            raise ShellExit(proc.die_status)
        if not self.is_main:
            return
        while proc.pending:
            sig = proc.pending.pop(0)
            action = proc.traps.get(sig)
            if not action:
                continue
            saved = self.status
            try:
                node = p.parse(action)
            except p.ShellSyntaxError as exc:
                io.err(f"sh: {exc}\n")
                continue
            yield from self.run(node, proc.stdio)
            self.status = saved

    # simple commands ----------------------------------------------------------------

    def run_simple(self, node: p.Simple, io: IO) -> Gen:
        yield from self.proc.charge()
        self._cmdsub_status = None
        try:
            argv: list[str] = []
            for w in node.words:
                argv.extend((yield from self.expand(w)))
            assigns: list[tuple[str, str]] = []
            for name, w in node.assigns:
                assigns.append((name, (yield from self.expand_str(w))))
        except ExpansionError as exc:
            io.err(f"sh: {exc}\n")
            raise ShellExit(exc.status) from exc
        if node.redirs:
            io2 = yield from self.redirect(node.redirs, io)
            if io2 is None:
                self.status = 1
                yield from self.after_command(io)
                return 1
            io = io2
        if not argv:
            for name, value in assigns:
                if size_of(value) >= HOLD_THRESHOLD or name in self.vars:
                    self.proc.account(self.vars.get(name), value)
                self.vars[name] = value
            status = self._cmdsub_status or 0
        else:
            status = yield from self.exec_command(argv, io, dict(assigns))
        self.status = status
        yield from self.after_command(io)
        return status

    def exec_command(
        self, argv: list[str], io: IO, assigns: dict[str, str], *, replace: bool = False,
        clear_env: bool = False,
    ) -> Gen:
        if clear_env:  # ``env -i``: the command's environment is the assignments alone
            saved = self.exported
            self.exported = set()
            try:
                return (yield from self.exec_command(argv, io, assigns, replace=replace))
            finally:
                self.exported = saved
        name = argv[0]
        if name in self.functions:
            return (yield from self.call_function(name, argv, io))
        builtin = BUILTINS.get(name)
        if builtin is not None:
            for key, value in assigns.items():
                self.vars[key] = value
            return (yield from self.call_applet(builtin, argv, io))
        path = self.find_command(name)
        if path is None:
            io.err(f"sh: {name}: not found\n")
            return 127
        if self.fs.is_dir(path):
            io.err(f"sh: {name}: Permission denied\n")
            return 126
        base = path.rsplit("/", 1)[-1]
        applet = APPLETS.get(base)
        if applet is not None and (self.proc.applets is None or base in self.proc.applets):
            if not self.exec_in_place:
                self.fork(short=True)
            if assigns:
                saved_vars, saved_exp = dict(self.vars), set(self.exported)
                self.vars.update(assigns)
                self.exported.update(assigns)
                try:
                    return (yield from self.call_applet(applet, argv, io))
                finally:
                    self.vars, self.exported = saved_vars, saved_exp
            return (yield from self.call_applet(applet, argv, io))
        factory = self.proc.external(argv) if self.proc.external is not None else None
        if factory is not None:
            env = self.env(assigns)
            if replace and self.is_main:
                raise ExecReplace(factory, list(argv), env)
            child = ChildContext(self.ctx, list(argv), env, io, self.proc)
            return int((yield from factory(child)) or 0)
        try:
            text = self.fs.read(path)
        except FileSystemError:
            text = ""
        if text.startswith("#!") and "sh" in text.split("\n", 1)[0]:
            return (yield from self.run_file(path, argv[0], argv[1:], io))
        if text.startswith("\x7fELF"):
            io.err(f"{name}: this program is not simulated by PodLab\n")
            return 1
        io.err(f"sh: {name}: Permission denied\n")
        return 126

    def run_file(self, path: str, name: str, args: list[str], io: IO) -> Gen:
        try:
            source = self.fs.read(path)
        except FileSystemError as exc:
            io.err(f"sh: can't open '{name}': {errno_text(exc)}\n")
            return 2
        try:
            node = p.parse(source)
        except p.ShellSyntaxError as exc:
            io.err(f"{name}: line 1: {exc}\n")
            return 2
        sub = self.clone()
        sub.name = name
        sub.args = list(args)
        sub.functions = {}
        try:
            return (yield from sub.run(node, io))
        except ShellExit as exc:
            return exc.status
        except (FuncReturn, LoopControl):
            return sub.status

    def call_applet(self, applet: Applet, argv: list[str], io: IO) -> Gen:
        try:
            result = applet(self, io, argv)
            if inspect.isgenerator(result):
                result = yield from result
        except BrokenPipe:
            return 141
        except WriteError as err:
            name = argv[0].rsplit("/", 1)[-1] if argv else "sh"
            if name in _SILENT_WRITE_ERROR:
                return 0
            if BUILTINS.get(argv[0] if argv else "") is applet:
                name = "sh"  # ash's builtins keep the shell's applet name
            try:
                io.err(write_error_message(name, err.exc))
            except WriteError:
                pass  # its standard error is the same full disk
            return 1
        return int(result or 0)

    def call_function(self, name: str, argv: list[str], io: IO) -> Gen:
        if self.call_depth >= MAX_CALL_DEPTH:
            io.err(f"sh: {name}: function nesting too deep\n")
            raise ShellExit(2)
        saved_args = self.args
        self.args = argv[1:]
        self.call_depth += 1
        self.locals.append({})
        try:
            status = yield from self.run(self.functions[name], io)
        except FuncReturn as ret:
            status = ret.status
        finally:
            self.call_depth -= 1
            for key, old in self.locals.pop().items():
                if old is None:
                    self.vars.pop(key, None)
                else:
                    self.vars[key] = old
            self.args = saved_args
        return status

    # redirections -------------------------------------------------------------------

    def redirect(self, redirs: list[p.Redir], io: IO) -> Gen:
        fds: dict[int, Any] = {0: io.stdin, 1: io.stdout, 2: io.stderr}
        for r in redirs:
            try:
                target = yield from self.expand_str(r.target)
            except ExpansionError as exc:
                io.err(f"sh: {exc}\n")
                raise ShellExit(exc.status) from exc
            if r.op == "<<":
                fds[r.fd] = Input(target)
                continue
            if r.op in (">&", "<&"):
                if target == "-":
                    fds[r.fd] = NullSink() if r.fd else Input("")
                    continue
                if not target.isdigit() or int(target) not in fds:
                    io.err(f"sh: {target}: bad file descriptor\n" if target.isdigit()
                           else f"sh: {target}: bad file descriptor\n")
                    return None
                fds[r.fd] = fds[int(target)]
                continue
            path = self.path(target)
            if r.op == "<":
                try:
                    fds[r.fd] = Input(self.fs.read(path))
                except FileSystemError as exc:
                    io.err(f"sh: can't open '{target}': {errno_text(exc)}\n")
                    return None
                continue
            # ">", ">>", "<>"
            try:
                if path == "/dev/null":
                    fds[r.fd] = NullSink()
                    continue
                if path in ("/dev/stdout", "/proc/self/fd/1"):
                    fds[r.fd] = fds[1]
                    continue
                if path in ("/dev/stderr", "/proc/self/fd/2"):
                    fds[r.fd] = fds[2]
                    continue
                if r.op == ">" or not self.fs.exists(path):
                    self.fs.write(path, "", append=r.op != ">")
                fds[r.fd] = FileSink(self, path)
            except FileSystemError as exc:
                reason = errno_text(exc)
                if exc.kind in ("ENOENT", "ENOTDIR"):
                    reason = "nonexistent directory"
                io.err(f"sh: can't create {target}: {reason}\n")
                return None
        stdin = fds[0] if isinstance(fds[0], Input) else Input("")
        stdout = fds[1] if isinstance(fds[1], Sink) else NullSink()
        stderr = fds[2] if isinstance(fds[2], Sink) else NullSink()
        return IO(stdin, stdout, stderr)

    # expansion ----------------------------------------------------------------------

    def param(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.proc.pid)
        if name == "#":
            return str(len(self.args))
        if name in ("@", "*"):
            return " ".join(self.args)
        if name == "!":
            return str(self.last_bg) if self.last_bg is not None else ""
        if name == "-":
            return ""
        if name == "0":
            return self.name
        if name.isdigit():
            idx = int(name)
            return self.args[idx - 1] if idx <= len(self.args) else None
        return self.vars.get(name)

    def expand_param(self, part: p.Param) -> Gen:
        value = self.param(part.name)
        op = part.op
        if op == "":
            return value or ""
        if op == "len":
            return str(size_of(value or ""))
        unset = value is None
        empty = unset or value == ""
        if op in (":-", "-"):
            if (op == ":-" and empty) or (op == "-" and unset):
                return (yield from self.expand_str(part.arg))
            return value or ""
        if op in (":=", "="):
            if (op == ":=" and empty) or (op == "=" and unset):
                new = yield from self.expand_str(part.arg)
                if part.name.isdigit() or part.name in p.SPECIAL_PARAMS:
                    raise ExpansionError(f"{part.name}: bad variable name")
                self.vars[part.name] = new
                return new
            return value or ""
        if op in (":+", "+"):
            if (op == ":+" and not empty) or (op == "+" and not unset):
                return (yield from self.expand_str(part.arg))
            return ""
        if op in (":?", "?"):
            if (op == ":?" and empty) or (op == "?" and unset):
                msg = yield from self.expand_str(part.arg)
                raise ExpansionError(f"{part.name}: {msg or 'parameter not set'}", 1)
            return value or ""
        pattern = yield from self.expand_pattern(part.arg)
        text = value or ""
        if type(text) is Hollow and text.rope is not None:
            # a string too big to build: where the pattern matches comes from its rope
            if op in ("#", "##"):
                cut = rope_prefix(text.rope, text.size, pattern, op == "##")
                return text if cut is None else from_rope(rope_.sub(text.rope, cut, text.size))
            cut = rope_suffix(text.rope, text.size, pattern, op == "%%")
            return text if cut is None else from_rope(rope_.sub(text.rope, 0, cut))
        if op in ("#", "##"):
            rng = range(len(text) + 1) if op == "#" else range(len(text), -1, -1)
            for i in rng:
                if fnmatch.fnmatchcase(text[:i], pattern):
                    return text[i:]
            return text
        rng = range(len(text), -1, -1) if op == "%" else range(len(text) + 1)
        for i in rng:
            if fnmatch.fnmatchcase(text[i:], pattern):
                return text[:i]
        return text

    def command_substitution(self, node: p.Node) -> Gen:
        self.fork(short=True)
        sub = self.clone()
        out = BufferSink(hold=self.proc.hold)
        io = IO(Input(""), out, self.proc.stdio.stderr)
        try:
            status = yield from sub.run(node, io)
        except ShellExit as exc:
            status = exc.status
        except (FuncReturn, LoopControl):
            status = sub.status
        except BrokenPipe:
            status = 141
        except WriteError:
            status = 1
        self._cmdsub_status = status
        self.status = status
        return strip_newlines(out.text())

    def glob_match(self, subject: str, pattern: str) -> bool:
        """``fnmatch`` of a string; a hollow one is matched from its rope: the pattern's
        fixed head against its start, its fixed tail against its end, and anything between
        ``*``s against the whole, built when the container's memory allows it."""
        if type(subject) is not Hollow or subject.rope is None:
            return fnmatch.fnmatchcase(subject, pattern)
        atoms = _glob_atoms(pattern)
        if "*" not in atoms:
            return False  # a pattern without * matches as many characters as it has atoms
        first = atoms.index("*")
        last = len(atoms) - 1 - atoms[::-1].index("*")
        if any(a != "*" for a in atoms[first : last + 1]):
            # the middle of the string matters: sh looks at all of it (in the memory the
            # container has for it: else the OOM killer first)
            self.proc.hold(subject.size)
        return rope_matches(subject.rope, subject.size, pattern)

    def expand_part(self, part: p.Part) -> Gen:
        if isinstance(part, p.Lit):
            return part.text
        if isinstance(part, p.Param):
            return (yield from self.expand_param(part))
        if isinstance(part, p.CmdSub):
            return (yield from self.command_substitution(part.body))
        expr = yield from self.expand_str(part.expr)
        try:
            return str(evaluate(expr, self.vars))
        except ArithError as exc:
            raise ExpansionError(str(exc)) from exc

    def expand_str(self, word: p.Word | None) -> Gen:
        """Expand without field splitting or globbing (assignments, redirections, case)."""
        if word is None:
            return ""
        out: list[str] = []
        size = 0
        for part in word.parts:
            text = yield from self.expand_part(part)
            size += size_of(text)
            out.append(text)
        self.proc.hold(size)
        return _joined(out, size)

    def expand_pattern(self, word: p.Word | None) -> Gen:
        """Expand a pattern: quoted characters match literally."""
        if word is None:
            return ""
        out: list[str] = []
        for part in word.parts:
            text = yield from self.expand_part(part)
            quoted = isinstance(part, p.Lit) and part.quoted or getattr(part, "quoted", False)
            out.append(_escape_glob(text) if quoted else text)
        return "".join(out)

    def expand(self, word: p.Word) -> Gen:
        """Full expansion: parameters, substitutions, field splitting, pathname globbing."""
        ifs = self.vars.get("IFS", " \t\n")
        fields: list[list[tuple[str, bool]]] = []
        cur: list[tuple[str, bool]] = []
        cur_exists = False

        def finish() -> None:
            nonlocal cur, cur_exists
            if cur_exists:
                fields.append(cur)
            cur = []
            cur_exists = False

        for part in word.parts:
            if isinstance(part, p.Lit):
                cur.append((part.text, part.quoted))
                cur_exists = True
                continue
            if isinstance(part, p.Param) and part.name == "@" and part.op == "" and part.quoted:
                for i, arg in enumerate(self.args):
                    if i:
                        finish()
                    cur.append((arg, True))
                    cur_exists = True
                continue
            value = yield from self.expand_part(part)
            if part.quoted:
                cur.append((value, True))
                cur_exists = True
                continue
            if not ifs or (
                type(value) is Hollow
                and value.rope is not None
                and not any(c in u for u, _n in value.rope for c in ifs)
            ):
                # (a string too big to build with no IFS character in it is one field)
                if value:
                    cur.append((value, True))
                    cur_exists = True
                continue
            if type(value) is Hollow and value.rope is not None:
                self.proc.hold(value.size)  # the fields are a copy of it
                pieces = self._split_rope(value.rope, ifs)
                last_char = rope_.last_char(value.rope)
            else:
                pieces = _split(value, ifs)
                last_char = value[-1:]
            if not pieces:
                if value and value[0] in ifs:
                    finish()
                continue
            if value[0] in ifs:
                finish()
            for i, piece in enumerate(pieces):
                if i:
                    finish()
                cur.append((piece, True))
                cur_exists = True
            if last_char and last_char in ifs and last_char in " \t\n":
                finish()
        finish()
        result: list[str] = []
        for f in fields:
            size = sum(size_of(t) for t, _ in f)
            self.proc.hold(size)
            text = _joined([t for t, _ in f], size)
            if type(text) is Hollow:
                result.append(text)
                continue
            globbable = any(not q and any(c in t for c in "*?[") for t, q in f)
            if globbable:
                pattern = "".join(t if not q else _escape_glob(t) for t, q in f)
                matches = self.glob(pattern)
                if matches:
                    result.extend(matches)
                    continue
            result.append(text)
        return result

    def _split_rope(self, rope: rope_.Rope, ifs: str) -> list[str]:
        """Field splitting of a string too big to build: its big runs without an IFS
        character stand in the text to split as one marker each (put back in the fields
        they fall in), a run of IFS white space as one character; what is left (the
        characters that make the fields) is split as a built string, up to
        ``MAX_MATERIALISED`` of it (past it, PodLab's bound: the shell is out of memory)."""
        units = [u for u, _n in rope]
        marker = next(
            chr(c)
            for c in range(0xF0000, 0xF0100)
            if chr(c) not in ifs and not any(chr(c) in u for u in units)
        )
        white = "".join(c for c in ifs if c in " \t\n")
        text: list[str] = []
        size = 0
        bigs: list[rope_.Rope] = []

        def leaves(r: rope_.Rope) -> Iterator[rope_.Segment]:
            for unit, times in r:  # a nest with separators in it: its own segments
                if type(unit) is rope_.Nest and any(c in unit for c in ifs):
                    for _ in range(times):
                        yield from leaves(unit.rope)
                else:
                    yield unit, times

        for unit, times in leaves(rope):
            whole = len(unit) * times
            if whole > SPLIT_RUN and not any(c in unit for c in ifs):
                text.append(marker)
                bigs.append(((unit, times),))
                size += 1
                continue
            if whole > SPLIT_RUN and white and type(unit) is str and not unit.strip(white):
                text.append(unit[0])
                size += 1
                continue
            size += whole
            if size > MAX_MATERIALISED:
                self.proc.out_of_memory(PROCESS_MEMORY + self.proc.held + 2 * rope_.length(rope))
            text.append(rope_.text(((unit, times),)))
        fields = _split("".join(text), ifs)
        if not bigs:
            return fields
        out: list[str] = []
        taken = 0
        for piece in fields:
            if marker not in piece:
                out.append(piece)
                continue
            parts: list[rope_.Rope | None] = []
            for i, bit in enumerate(piece.split(marker)):
                if i:
                    parts.append(bigs[taken])
                    taken += 1
                parts.append(rope_.of_text(bit))
            joined = rope_.concat(parts)
            out.append(from_rope(joined) if joined is not None else piece)
        return out

    def glob(self, pattern: str) -> list[str]:
        absolute = pattern.startswith("/")
        parts = [x for x in pattern.split("/") if x]
        bases = ["/" if absolute else ""]
        for i, comp in enumerate(parts):
            nxt: list[str] = []
            magic = any(c in comp for c in "*?[")
            for base in bases:
                directory = self.path(base or ".")
                if not magic:
                    literal = comp.replace("\\", "")
                    candidate = _join(base, literal)
                    if self.fs.exists(self.path(candidate)):
                        nxt.append(candidate)
                    continue
                try:
                    names = self.fs.listdir(directory)
                except FileSystemError:
                    continue
                for n in names:
                    if n.startswith(".") and not comp.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(n, comp):
                        cand = _join(base, n)
                        if i < len(parts) - 1 and not self.fs.is_dir(self.path(cand)):
                            continue
                        nxt.append(cand)
            bases = nxt
            if not bases:
                return []
        return sorted(bases)


def _join(base: str, name: str) -> str:
    return base + name if base.endswith("/") or not base else base + "/" + name


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _split(value: str, ifs: str) -> list[str]:
    white = "".join(c for c in ifs if c in " \t\n")
    other = "".join(c for c in ifs if c not in " \t\n")
    if not other:
        return value.split() if white == " \t\n" else [x for x in _split_chars(value, white) if x]
    pieces: list[str] = []
    buf: list[str] = []
    stripped = value.strip(white)
    i = 0
    while i < len(stripped):
        c = stripped[i]
        if c in other:
            pieces.append("".join(buf))
            buf = []
            i += 1
            while i < len(stripped) and stripped[i] in white:
                i += 1
            continue
        if c in white:
            j = i
            while j < len(stripped) and stripped[j] in white:
                j += 1
            if j < len(stripped) and stripped[j] in other:
                i = j
                continue
            pieces.append("".join(buf))
            buf = []
            i = j
            continue
        buf.append(c)
        i += 1
    if buf:
        pieces.append("".join(buf))
    return pieces


def _split_chars(value: str, chars: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    for c in value:
        if c in chars:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
    out.append("".join(buf))
    return out


def signal_number(spec: str) -> int | None:
    """``TERM``, ``SIGTERM``, ``15`` → 15; None if unknown."""
    spec = spec.upper()
    if spec.isdigit():
        return int(spec) if 0 <= int(spec) < 65 else None
    spec = spec.removeprefix("SIG")
    for num, name in SIGNAL_NAMES.items():
        if name == spec:
            return num
    extra = {"EXIT": 0, "ALRM": 14, "CHLD": 17, "PIPE": 13, "USR1": 10, "USR2": 12, "WINCH": 28}
    return extra.get(spec)


class ChildContext:
    """The ``ProcessContext`` of an image program started by the shell.

    As a child (``nginx &``, ``redis-server``) it is not PID 1, its output goes to the shell
    command's redirections and its signal handlers are its own (the shell receives the
    container's signals). After ``exec`` (``child=False``) it is the container's process."""

    def __init__(
        self,
        parent: ProcessContext,
        argv: list[str],
        env: dict[str, str],
        io: IO | None,
        proc: Process | None,
    ) -> None:
        self._parent = parent
        self._io = io
        self._proc = proc
        self.argv = argv
        self.env = env
        self.fs = parent.fs
        self.hostname = parent.hostname
        self.pod_ip = parent.pod_ip
        self.rng = parent.rng
        self.is_pid1 = parent.is_pid1 if proc is None else False
        self._started = parent.now
        self._handled: set[int] = set()

    @property
    def now(self) -> float:
        return self._parent.now

    @property
    def started_at(self) -> float:
        return self._started if self._proc is not None else self._parent.started_at

    def stdout(self, text: str) -> None:
        if self._io is not None:
            self._io.out(text)
        else:
            self._parent.stdout(text)

    def stderr(self, text: str) -> None:
        if self._io is not None:
            self._io.err(text)
        else:
            self._parent.stderr(text)

    def listen(self, port: int, protocol: str, handler: Any) -> bool:
        if self._proc is not None:
            return self._proc.listen(port, protocol, handler)
        return self._parent.listen(port, protocol, handler)

    def unlisten(self, port: int, protocol: str) -> None:
        self._parent.unlisten(port, protocol)

    def handle_signal(self, signal: int, handled: bool) -> None:
        if self._proc is None:
            self._parent.handle_signal(signal, handled)
        elif handled:
            self._handled.add(signal)
        else:
            self._handled.discard(signal)

    def handles(self, signal: int) -> bool:
        if self._proc is None:
            return self._parent.handles(signal)
        return signal in self._handled

    def set_memory(self, bytes_used: int) -> None:
        self._parent.set_memory(bytes_used)

    def memory_allowance(self) -> int | None:
        allowance = getattr(self._parent, "memory_allowance", None)
        return allowance() if allowance is not None else None

    def oom(self) -> None:
        oom = getattr(self._parent, "oom", None)
        if oom is not None:
            oom()

    def cpu_share(self) -> float:
        share = getattr(self._parent, "cpu_share", None)
        return share() if share is not None else 1.0

    def fork(self) -> bool:
        fork = getattr(self._parent, "fork", None)
        return fork() if fork is not None else True

    def reap(self, count: int = 1) -> None:
        reap = getattr(self._parent, "reap", None)
        if reap is not None:
            reap(count)

    def spawn(self, argv: list[str]) -> Any:
        return self._parent.spawn(argv)
