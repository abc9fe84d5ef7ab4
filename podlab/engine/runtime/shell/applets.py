"""Shell builtins and busybox applets, with busybox's messages and exit codes.

Every applet is ``fn(sh, io, argv) -> int`` or a generator returning the exit status; it may
yield syscalls (``Sleep``, ``WaitForever``, ``Connect``) like any program.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from podlab.engine.runtime.process import (
    SIGKILL,
    SIGNAL_NAMES,
    SIGTERM,
    Connect,
    CpuWork,
    FileSystemError,
    Request,
    Response,
    Sleep,
    WaitForever,
)
from podlab.engine.runtime.shell import parser as p
from podlab.engine.runtime.shell import rope as rope_
from podlab.engine.runtime.shell.interp import (
    APPLETS,
    BUILTINS,
    IO,
    BufferSink,
    FuncReturn,
    Hollow,
    Interrupted,
    LoopControl,
    Shell,
    ShellExit,
    WaitJobs,
    _joined,
    built,
    errno_text,
    from_rope,
    rope_of,
    signal_number,
    size_of,
    strip_newlines,
)

__all__ = ["EPOCH", "HTTP_REASONS", "SHELL_NAMES", "busybox_date", "sh_main"]

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
Gen = Generator[Any, Any, int]

HTTP_REASONS = {
    200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found",
    304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


def builtin(*names: str) -> Any:
    def register(fn: Any) -> Any:
        for n in names:
            BUILTINS[n] = fn
        return fn

    return register


def applet(*names: str) -> Any:
    def register(fn: Any) -> Any:
        for n in names:
            APPLETS[n] = fn
        return fn

    return register


def _uncounted(sh: Shell, path: str) -> int:
    """Bytes of a file that were counted but not kept (a copy carries them along)."""
    backing = getattr(sh.fs, "backing_path", None)
    tree, inner = backing(path) if backing is not None else (None, path)
    return tree.uncounted(inner) if tree is not None else 0


def usage(sh: Shell, io: IO, name: str, text: str) -> int:
    io.err(
        f"BusyBox v{sh.proc.busybox_version} (2024-09-26 21:31:42 UTC) multi-call binary.\n\n"
        f"Usage: {name} {text}\n"
    )
    return 1


def parse_number(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


# --- trivial builtins -----------------------------------------------------------------


@builtin(":", "true")
def b_true(sh: Shell, io: IO, argv: list[str]) -> int:
    return 0


@builtin("false")
def b_false(sh: Shell, io: IO, argv: list[str]) -> int:
    return 1


@builtin("exit")
def b_exit(sh: Shell, io: IO, argv: list[str]) -> int:
    if len(argv) > 1:
        n = parse_number(argv[1])
        if n is None:
            io.err(f"sh: exit: Illegal number: {argv[1]}\n")
            raise ShellExit(2)
        raise ShellExit(n & 0xFF)
    raise ShellExit(sh.status)


@builtin("return")
def b_return(sh: Shell, io: IO, argv: list[str]) -> int:
    n = parse_number(argv[1]) if len(argv) > 1 else sh.status
    if n is None:
        io.err(f"sh: return: Illegal number: {argv[1]}\n")
        n = 2
    if sh.call_depth == 0:
        raise ShellExit(n & 0xFF)
    raise FuncReturn(n & 0xFF)


@builtin("break", "continue")
def b_break(sh: Shell, io: IO, argv: list[str]) -> int:
    levels = parse_number(argv[1]) if len(argv) > 1 else 1
    if levels is None or levels < 1:
        io.err(f"sh: {argv[0]}: Illegal number: {argv[1]}\n")
        raise ShellExit(2)
    if sh.loop_depth == 0:
        return 0
    raise LoopControl(argv[0], min(levels, sh.loop_depth))


@builtin("echo")
def b_echo(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    newline = True
    escapes = False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args[0][1:]:
            if c == "n":
                newline = False
            elif c == "e":
                escapes = True
            else:
                escapes = False
        args = args[1:]
    if any(type(a) is Hollow for a in args):
        # a string too big to build: joined as a rope, its size counted (no escapes)
        pieces = [x for i, a in enumerate(args) for x in ((" ", a) if i else (a,))]
        pieces += ["\n"] if newline else []
        io.out(_joined(pieces, sum(size_of(x) for x in pieces)))
        return 0
    text = " ".join(args)
    if escapes:
        text, stop = unescape(text)
        if stop:
            newline = False
    io.out(text + ("\n" if newline else ""))
    return 0


def unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes of ``echo -e``/``printf``; the flag is True after ``\\c``."""
    out: list[str] = []
    i = 0
    simple = {"n": "\n", "t": "\t", "\\": "\\", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
              "v": "\v", "e": "\x1b"}
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt == "c":
            return "".join(out), True
        elif nxt == "0" or nxt.isdigit():
            m = re.match(r"0?([0-7]{1,3})", text[i + 1 :])
            if m:
                out.append(chr(int(m.group(1), 8)))
                i += 1 + len(m.group(0))
            else:
                out.append("\\")
                i += 1
        else:
            out.append("\\")
            i += 1
    return "".join(out), False


OUTPUT_CHUNK = 64 * 1024  # what a program writes per write(2) to a pipe (its buffer)
#: CPU a write of one chunk to the container's log costs (stdout pipe, containerd's shim and
#: the log file): 64 KiB per 16 ms is 4 MiB of log per CPU-second.
CHUNK_CPU = 0.016
MAX_PRECISION = 4096


class _Pad:
    """``count`` copies of ``char`` that printf streams out instead of building."""

    __slots__ = ("char", "count")

    def __init__(self, char: str, count: int) -> None:
        self.char = char
        self.count = count


def stream_out(sh: Shell, io: IO, pieces: list[Any]) -> Gen:
    """Write ``pieces`` (text and padding) in pipe-sized chunks, each costing CPU, as a real
    program writes through its stdio buffer: padding is never built in memory. Into a pipe
    or a command substitution the output is one write (the reader takes all of it; padding
    past ``MAX_MATERIALISED`` as a rope), each chunk still costing its CPU."""
    text: list[str] = []

    def joined(parts: list[str]) -> str:
        if any(type(x) is Hollow for x in parts):  # a string too big to build, as a rope
            return _joined(parts, sum(size_of(x) for x in parts))
        return "".join(parts)

    sink = io.stdout
    whole = isinstance(sink, BufferSink)
    for piece in pieces:
        if isinstance(piece, str):
            text.append(piece)
            continue
        if whole:
            before = sink.size + sum(size_of(x) for x in text)  # type: ignore[attr-defined]
            for done in range(0, piece.count, OUTPUT_CHUNK):
                if sink.hold is not None:  # type: ignore[attr-defined]
                    sink.hold(before + done)  # type: ignore[attr-defined]
                yield CpuWork(CHUNK_CPU)
            text.append(from_rope(((piece.char, piece.count),)))
            continue
        io.out(joined(text))
        text = []
        left = piece.count
        chunk = piece.char * OUTPUT_CHUNK
        while left > 0:
            io.out(chunk if left >= OUTPUT_CHUNK else piece.char * left)
            left -= OUTPUT_CHUNK
            yield CpuWork(CHUNK_CPU)
    io.out(joined(text))


def _string(flags: str, width: str, prec: str | None, value: str) -> list[Any]:
    """``%s`` of ``value`` (of any size): cut to the precision, padded to the width (past
    the chunk size, or around a string too big to build, as streamed padding)."""
    if prec:
        cut = int(prec)
        if cut < size_of(value):
            if type(value) is Hollow and value.rope is not None:
                value = from_rope(rope_.sub(value.rope, 0, cut))
            else:
                value = str.__str__(value)[:cut]
    pad = int(width or 0) - size_of(value)
    if pad <= 0:
        return [value]
    if pad <= OUTPUT_CHUNK and type(value) is not Hollow:
        return [("%-*s" if "-" in flags else "%*s") % (int(width), value)]
    return [value, _Pad(" ", pad)] if "-" in flags else [_Pad(" ", pad), value]


_ESCAPE = re.compile(r"\\(?:([ntr\\abfve])|(c)|0?([0-7]{1,3}))?")
_SIMPLE = {"n": "\n", "t": "\t", "\\": "\\", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
           "v": "\v", "e": "\x1b"}


def _unescape_run(text: str) -> tuple[str, bool]:
    """``unescape`` by regular expression (the text between escapes copied whole)."""
    out: list[str] = []
    last = 0
    for m in _ESCAPE.finditer(text):
        out.append(text[last : m.start()])
        simple, stop, octal = m.groups()
        if stop:
            return "".join(out), True
        out.append(_SIMPLE[simple] if simple else chr(int(octal, 8)) if octal else "\\")
        last = m.end()
    out.append(text[last:])
    return "".join(out), False


def _escape_cut(data: str) -> int:
    """Where an escape sequence that may go on in the next piece starts (else the end)."""
    last = data.rfind("\\", max(0, len(data) - 5))
    if last < 0:
        return len(data)
    run = last
    while run > 0 and data[run - 1] == "\\":
        run -= 1
    return last if (last - run) % 2 == 0 else len(data)


def unescape_big(sh: Shell, arg: Hollow) -> Generator[Any, Any, str]:
    """``%b`` of a string too big to build: unchanged without a backslash; else built piece
    by piece from its rope (in the container's memory first), each piece's CPU charged."""
    if arg.rope is None:
        return unescape(arg)[0]
    if not any("\\" in unit for unit, _n in arg.rope):
        return arg
    sh.proc.hold(arg.size)
    ropes: list[rope_.Rope | None] = []
    carry = ""
    pieces = rope_.chunks(arg.rope)
    for chunk in pieces:
        data = carry + chunk
        cut = _escape_cut(data)
        text, stop = _unescape_run(data[:cut])
        carry = data[cut:]
        ropes.append(rope_.of_text(text))
        yield CpuWork(CHUNK_CPU * max(1, len(chunk) // OUTPUT_CHUNK))
        if stop:
            carry = ""
            break
    if carry:
        ropes.append(rope_.of_text(_unescape_run(carry)[0]))
    whole = rope_.concat(ropes)
    if whole is None:
        return unescape(arg)[0]
    return from_rope(whole)


def _padded(spec_flags: str, width: str, prec: str | None, conv: str, value: Any) -> list[Any]:
    """One conversion; a width past the chunk size becomes streamed padding."""
    precision = f".{min(int(prec), MAX_PRECISION)}" if prec else ""
    if not width or int(width) <= OUTPUT_CHUNK:
        return [("%" + spec_flags + width + precision + conv) % value]
    text = ("%" + spec_flags.replace("-", "").replace("0", "") + precision + conv) % value
    pad = int(width) - len(text)
    if pad <= 0:
        return [text]
    if "-" in spec_flags:
        return [text, _Pad(" ", pad)]
    if "0" in spec_flags and conv not in "sc":
        sign = text[:1] if text[:1] in "+- " else ""
        return [sign, _Pad("0", pad), text[len(sign) :]]
    return [_Pad(" ", pad), text]


@builtin("printf")
def b_printf(sh: Shell, io: IO, argv: list[str]) -> Gen:
    if len(argv) < 2:
        return usage(sh, io, "printf", "FORMAT [ARG]...")
    fmt, args = argv[1], argv[2:]
    status = 0
    out: list[Any] = []
    first = True
    while first or args:
        first = False
        consumed = False
        i = 0
        while i < len(fmt):
            c = fmt[i]
            if c == "\\":
                m = re.match(r"\\(0[0-7]{0,3}|.)", fmt[i:], re.S)
                seq = m.group(0) if m else "\\"
                text, stop = unescape(seq)
                if stop:
                    yield from stream_out(sh, io, out)
                    return status
                out.append(text)
                i += len(seq)
                continue
            if c != "%":
                out.append(c)
                i += 1
                continue
            m = re.match(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdiuxXoc%bfeg])", fmt[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            i += len(m.group(0))
            flags, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            consumed = True
            arg = args.pop(0) if args else ""
            if conv in "diuxXoc":
                if conv == "c":
                    out.extend(_padded(flags, width, prec, "s", arg[:1]))
                    continue
                num = _printf_int(arg)
                if num is None:
                    io.err(f"printf: invalid number '{arg}'\n")
                    status = 1
                    num = 0
                out.extend(_padded(flags, width, prec, "d" if conv in "iu" else conv, num))
            elif conv in "feg":
                try:
                    out.extend(_padded(flags, width, prec, conv, float(arg or 0)))
                except ValueError:
                    io.err(f"printf: invalid number '{arg}'\n")
                    status = 1
                    out.extend(_padded(flags, width, prec, conv, 0.0))
            elif conv == "b":
                if type(arg) is Hollow:
                    value = yield from unescape_big(sh, arg)
                else:
                    value = unescape(arg)[0]
                out.extend(_string(flags, width, prec, value))
            else:
                out.extend(_string(flags, width, prec, arg))
        if not consumed:
            break
    yield from stream_out(sh, io, out)
    return status


def _printf_int(arg: str) -> int | None:
    arg = arg.strip()
    if not arg:
        return 0
    if arg[0] in "'\"" and len(arg) > 1:
        return ord(arg[1])
    try:
        return int(arg, 0) if not re.fullmatch(r"[-+]?0\d+", arg) else int(arg, 8)
    except ValueError:
        return None


@builtin("pwd")
def b_pwd(sh: Shell, io: IO, argv: list[str]) -> int:
    io.out(sh.cwd + "\n")
    return 0


@builtin("cd")
def b_cd(sh: Shell, io: IO, argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/")
    if target == "-":
        target = sh.vars.get("OLDPWD", sh.cwd)
    path = sh.path(target)
    if not sh.fs.exists(path):
        io.err(f"sh: cd: can't cd to {target}: No such file or directory\n")
        return 2
    if not sh.fs.is_dir(path):
        io.err(f"sh: cd: can't cd to {target}: Not a directory\n")
        return 2
    sh.vars["OLDPWD"] = sh.cwd
    sh.cwd = path
    sh.vars["PWD"] = path
    return 0


@builtin("export", "readonly")
def b_export(sh: Shell, io: IO, argv: list[str]) -> int:
    if len(argv) == 1 or argv[1] == "-p":
        for key in sorted(sh.exported):
            if key in sh.vars:
                io.out(f"export {key}='{sh.vars[key]}'\n")
        return 0
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if not p._is_name(name):
            io.err(f"sh: {argv[0]}: {name}: bad variable name\n")
            raise ShellExit(2)
        if eq:
            sh.vars[name] = value
        if argv[0] == "export":
            sh.exported.add(name)
    return 0


@builtin("local")
def b_local(sh: Shell, io: IO, argv: list[str]) -> int:
    if not sh.locals:
        io.err("sh: local: not in a function\n")
        return 2
    scope = sh.locals[-1]
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if name not in scope:
            scope[name] = sh.vars.get(name)
        if eq:
            sh.vars[name] = value
    return 0


@builtin("unset")
def b_unset(sh: Shell, io: IO, argv: list[str]) -> int:
    functions = False
    for arg in argv[1:]:
        if arg == "-f":
            functions = True
            continue
        if arg == "-v":
            continue
        if functions:
            sh.functions.pop(arg, None)
        else:
            if arg in sh.vars:
                sh.proc.account(sh.vars[arg], "")  # its memory is free again
            sh.vars.pop(arg, None)
            sh.exported.discard(arg)
    return 0


@builtin("shift")
def b_shift(sh: Shell, io: IO, argv: list[str]) -> int:
    n = parse_number(argv[1]) if len(argv) > 1 else 1
    if n is None or n < 0 or n > len(sh.args):
        io.err("sh: shift: can't shift that many\n")
        return 1 if n is not None else 2
    sh.args = sh.args[n:]
    return 0


@builtin("set")
def b_set(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    if not args:
        for key in sorted(sh.vars):
            io.out(f"{key}='{sh.vars[key]}'\n")
        return 0
    while args and args[0].startswith(("-", "+")) and args[0] not in ("-", "--"):
        flag = args.pop(0)
        if flag == "-o" or flag == "+o":
            if args and args.pop(0) == "errexit":
                sh.errexit = flag == "-o"
            continue
        if "e" in flag:
            sh.errexit = flag.startswith("-")
    if args and args[0] in ("-", "--"):
        args = args[1:]
        sh.args = args
    elif args:
        sh.args = args
    return 0


@builtin("eval")
def b_eval(sh: Shell, io: IO, argv: list[str]) -> Gen:
    source = " ".join(argv[1:])
    try:
        node = p.parse(source)
    except p.ShellSyntaxError as exc:
        io.err(f"sh: {exc}\n")
        raise ShellExit(2) from exc
    return (yield from sh.run(node, io))


@builtin(".", "source")
def b_source(sh: Shell, io: IO, argv: list[str]) -> Gen:
    if len(argv) < 2:
        io.err("sh: .: filename argument required\n")
        return 2
    path = sh.path(argv[1]) if "/" in argv[1] else (sh.find_command(argv[1]) or sh.path(argv[1]))
    try:
        source = sh.fs.read(path)
    except FileSystemError as exc:
        io.err(f"sh: .: can't open '{argv[1]}': {errno_text(exc)}\n")
        raise ShellExit(2) from exc
    try:
        node = p.parse(source)
    except p.ShellSyntaxError as exc:
        io.err(f"sh: {argv[1]}: {exc}\n")
        raise ShellExit(2) from exc
    return (yield from sh.run(node, io))


@builtin("exec")
def b_exec(sh: Shell, io: IO, argv: list[str]) -> Gen:
    if len(argv) == 1:
        return 0
    if sh.is_main:
        # the new program starts with default signal dispositions
        for sig in list(sh.proc.traps):
            sh.proc.set_trap(sig, None)
    status = yield from sh.exec_command(argv[1:], io, {}, replace=True)
    raise ShellExit(status)


@builtin("command")
def b_command(sh: Shell, io: IO, argv: list[str]) -> Gen:
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        for name in args[1:]:
            if name in BUILTINS or name in sh.functions:
                io.out(name + "\n")
                return 0
            found = sh.find_command(name)
            if found:
                io.out(found + "\n")
                return 0
        return 1
    if not args:
        return 0
    return (yield from sh.exec_command(args, io, {}))


@builtin("type")
def b_type(sh: Shell, io: IO, argv: list[str]) -> int:
    status = 0
    for name in argv[1:]:
        if name in sh.functions:
            io.out(f"{name} is a function\n")
        elif name in BUILTINS:
            io.out(f"{name} is a shell builtin\n")
        elif (found := sh.find_command(name)) is not None:
            io.out(f"{name} is {found}\n")
        else:
            io.out(f"{name}: not found\n")
            status = 127
    return status


@builtin("umask", "ulimit", "hash", "alias", "unalias")
def b_noop(sh: Shell, io: IO, argv: list[str]) -> int:
    return 0


@builtin("read")
def b_read(sh: Shell, io: IO, argv: list[str]) -> Gen:
    args = argv[1:]
    raw = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt == "-r":
            raw = True
        elif opt in ("-p", "-t", "-n", "-u") and args:
            value = args.pop(0)
            if opt == "-p":
                io.err(value)
    names = args or ["REPLY"]
    line = io.stdin.readline()
    if line is None:
        for n in names:
            sh.vars[n] = ""
        return 1
    if type(line) is Hollow and line.rope is not None:
        return (yield from _read_big(sh, line, names, raw, bool(args)))
    eof = not line.endswith("\n")
    line = line.rstrip("\n")
    if not raw:
        line = re.sub(r"\\(.)", r"\1", line)
    if names == ["REPLY"] and not args:
        sh.vars["REPLY"] = line
        return 1 if eof and not line else 0
    ifs = sh.vars.get("IFS", " \t\n")
    words = line.split(None) if ifs == " \t\n" else re.split("[" + re.escape(ifs) + "]", line)
    for i, n in enumerate(names):
        if i == len(names) - 1:
            rest = words[i:]
            sh.vars[n] = " ".join(rest) if ifs == " \t\n" else ifs[0].join(rest)
        else:
            sh.vars[n] = words[i] if i < len(words) else ""
    return 0


def _read_big(sh: Shell, line: Hollow, names: list[str], raw: bool, named: bool) -> Gen:
    """``read`` of a line too big to build: from its rope (backslashes removed piece by
    piece, each piece's CPU charged; the words split as the shell splits fields)."""
    text: str = strip_newlines(line) if rope_.last_char(line.rope or ()) == "\n" else line
    rope = rope_of(text)
    if not raw and rope is not None and any("\\" in unit for unit, _n in rope):
        sh.proc.hold(size_of(text))
        ropes: list[rope_.Rope | None] = []
        carry = ""
        for chunk in rope_.chunks(rope):
            data = carry + chunk
            run = len(data) - len(data.rstrip("\\"))
            cut = len(data) - (run % 2)
            ropes.append(rope_.of_text(re.sub(r"\\(.)", r"\1", data[:cut], flags=re.S)))
            carry = data[cut:]
            yield CpuWork(CHUNK_CPU * max(1, len(chunk) // OUTPUT_CHUNK))
        ropes.append(rope_.of_text(carry))
        rope = rope_.concat(ropes)
        text = from_rope(rope) if rope is not None else text
    if names == ["REPLY"] and not named:
        sh.set_var("REPLY", text)
        return 0
    ifs = sh.vars.get("IFS", " \t\n")
    words = sh._split_rope(rope, ifs) if rope is not None and ifs else [text]  # noqa: SLF001
    for i, n in enumerate(names):
        if i == len(names) - 1:
            sep = ifs[:1] or " "
            rest = [x for j, w in enumerate(words[i:]) for x in ((sep, w) if j else (w,))]
            sh.set_var(n, _joined(rest, sum(size_of(x) for x in rest)))
        else:
            sh.set_var(n, words[i] if i < len(words) else "")
    return 0


@builtin("trap")
def b_trap(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    proc = sh.proc
    if not args:
        for sig, action in sorted(proc.traps.items()):
            io.out(f"trap -- '{action}' {SIGNAL_NAMES.get(sig, str(sig))}\n")
        if proc.exit_trap is not None:
            io.out(f"trap -- '{proc.exit_trap}' EXIT\n")
        return 0
    if len(args) == 1:
        action: str | None = None
        names = args
    else:
        action = None if args[0] == "-" else args[0]
        names = args[1:]
        if args[0].isdigit() and len(args) >= 1 and signal_number(args[0]) is not None:
            action = None
            names = args
    status = 0
    for name in names:
        sig = signal_number(name)
        if sig is None:
            io.err(f"sh: trap: {name}: bad trap\n")
            status = 1
            continue
        if sig == 0:
            proc.exit_trap = action
            continue
        if sig == SIGKILL:
            continue
        if not sh.is_main:
            continue
        proc.set_trap(sig, action)
    return status


@builtin("wait")
def b_wait(sh: Shell, io: IO, argv: list[str]) -> Gen:
    proc = sh.proc
    pids: list[int] = []
    for arg in argv[1:]:
        if arg.startswith("%"):
            n = parse_number(arg[1:])
            order = proc.job_order
            if n is None or not 1 <= n <= len(order):
                io.err(f"sh: wait: {arg}: no such job\n")
                return 127
            pids.append(order[n - 1])
            continue
        n = parse_number(arg)
        if n is None:
            io.err(f"sh: wait: Illegal number: {arg}\n")
            return 2
        if n not in proc.jobs:
            return 127
        pids.append(n)
    if not argv[1:]:
        pids = proc.children_of(proc.current)
        if not pids:
            return 0
    result = yield WaitJobs(tuple(pids))
    if isinstance(result, Interrupted):
        return 128 + result.signal
    return 0 if not argv[1:] else int(result)


@builtin("kill")
def b_kill(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    sig = SIGTERM
    if args and args[0] == "-l":
        io.out(" ".join(SIGNAL_NAMES[n] for n in sorted(SIGNAL_NAMES)) + "\n")
        return 0
    if args and args[0] == "-s" and len(args) > 1:
        found = signal_number(args[1])
        if found is None:
            io.err(f"sh: kill: bad signal name '{args[1]}'\n")
            return 1
        sig = found
        args = args[2:]
    elif args and args[0].startswith("-") and args[0] != "--":
        found = signal_number(args[0][1:])
        if found is None:
            io.err(f"sh: kill: bad signal name '{args[0][1:]}'\n")
            return 1
        sig = found
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        io.err("kill: usage: kill [-s sigspec | -signum | -sigspec] [pid | job]... or\n"
               "kill -l [exitstatus]\n")
        return 2
    proc = sh.proc
    status = 0
    for target in args:
        if target.startswith("%"):
            n = parse_number(target[1:])
            if n is None or not 1 <= n <= len(proc.job_order):
                io.err(f"sh: kill: {target}: no such job\n")
                status = 1
                continue
            pid = proc.job_order[n - 1]
        else:
            parsed = parse_number(target)
            if parsed is None:
                io.err(f"sh: kill: illegal number {target}\n")
                status = 1
                continue
            pid = parsed
        if sig == 0:
            alive = pid == proc.pid or (pid in proc.jobs and proc.jobs[pid].status is None)
            if not alive:
                io.err(f"sh: kill: can't kill pid {pid}: No such process\n")
                status = 1
            continue
        if pid == proc.pid:
            proc.deliver(sig)
            continue
        if not proc.kill_job(pid, sig):
            io.err(f"sh: can't kill pid {pid}: No such process\n")
            status = 1
    return status


# --- test / [ -------------------------------------------------------------------------


class _TestError(Exception):
    pass


@builtin("test", "[")
def b_test(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0].rsplit("/", 1)[-1] == "[":  # also /usr/bin/[
        if not args or args[-1] != "]":
            io.err("sh: missing ]\n")
            return 2
        args = args[:-1]
    try:
        return 0 if _test_expr(sh, args) else 1
    except _TestError as exc:
        io.err(f"sh: {exc}\n")
        return 2


def _test_expr(sh: Shell, args: list[str]) -> bool:
    if not args:
        return False
    # -o has the lowest precedence, then -a
    for op in ("-o", "-a"):
        for i in range(len(args) - 1, 0, -1):
            if args[i] == op and i < len(args) - 1:
                left, right = _test_expr(sh, args[:i]), _test_expr(sh, args[i + 1 :])
                return (left or right) if op == "-o" else (left and right)
    if args[0] == "!" and len(args) > 1:
        return not _test_expr(sh, args[1:])
    if args[0] == "(" and args[-1] == ")" and len(args) > 2:
        return _test_expr(sh, args[1:-1])
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        return _test_unary(sh, args[0], args[1])
    if len(args) == 3:
        return _test_binary(args[0], args[1], args[2])
    raise _TestError(f"{args[3] if len(args) > 3 else args[-1]}: unknown operand")


def _test_unary(sh: Shell, op: str, arg: str) -> bool:
    fs = sh.fs
    path = sh.path(arg) if arg else ""
    if op == "-z":
        return arg == ""
    if op == "-n":
        return arg != ""
    if not path and op.startswith("-") and len(op) == 2:
        return False
    if op == "-e":
        return fs.exists(path)
    if op == "-f":
        return fs.exists(path) and not fs.is_dir(path)
    if op == "-d":
        return fs.is_dir(path)
    if op == "-s":
        if not fs.exists(path):
            return False
        return fs.is_dir(path) or bool(fs.read(path))
    if op in ("-r", "-w", "-x"):
        return fs.exists(path)
    if op in ("-L", "-h", "-p", "-S", "-b", "-c"):
        return False
    if op == "-t":
        return False
    raise _TestError(f"{op}: unknown operand")


def _num(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _TestError(f"invalid number '{text}'") from None


def _test_binary(a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    ops = {"-eq": "__eq__", "-ne": "__ne__", "-lt": "__lt__", "-gt": "__gt__",
           "-le": "__le__", "-ge": "__ge__"}
    if op in ops:
        return bool(getattr(_num(a), ops[op])(_num(b)))
    raise _TestError(f"{op}: unknown operand")


# --- time -----------------------------------------------------------------------------


def parse_duration(text: str) -> float | None:
    """busybox sleep's argument: a number with an optional s/m/h/d suffix."""
    if text == "inf" or text == "infinity":
        return math.inf
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", text)
    if not m:
        return None
    factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return float(m.group(1)) * factor


@applet("sleep")
def a_sleep(sh: Shell, io: IO, argv: list[str]) -> Gen:
    if len(argv) < 2:
        return usage(sh, io, "sleep", "[N]...\n\nPause for a time equal to the total of the "
                                      "args given, where each arg can\nhave an optional suffix "
                                      "of (s)econds, (m)inutes, (h)ours, or (d)ays")
    total = 0.0
    for arg in argv[1:]:
        seconds = parse_duration(arg)
        if seconds is None:
            io.err(f"sleep: invalid number '{arg}'\n")
            return 1
        total += seconds
    if total == math.inf:
        yield WaitForever()
    elif total > 0:
        yield Sleep(total)
    return 0


def busybox_date(now: float, fmt: str | None = None) -> str:
    moment = EPOCH + timedelta(seconds=math.floor(now))
    if fmt is None:
        return f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S} UTC {moment.year}"
    fmt = fmt.replace("%s", str(int(moment.timestamp()))).replace("%N", "000000000")
    fmt = fmt.replace("%Z", "UTC").replace("%z", "+0000")
    return moment.strftime(fmt)


@applet("date")
def a_date(sh: Shell, io: IO, argv: list[str]) -> int:
    fmt = None
    for arg in argv[1:]:
        if arg.startswith("+"):
            fmt = arg[1:]
        elif arg in ("-u", "-R", "--utc"):
            continue
        else:
            io.err(f"date: invalid date '{arg}'\n")
            return 1
    io.out(busybox_date(sh.ctx.now, fmt) + "\n")
    return 0


# --- files ----------------------------------------------------------------------------


def _read_inputs(sh: Shell, io: IO, name: str, files: list[str]) -> tuple[list[str], int]:
    """Contents of ``files`` (``-`` or none = stdin) with busybox's error messages."""
    if not files:
        return [io.stdin.read_all()], 0
    out: list[str] = []
    status = 0
    for f in files:
        if f == "-":
            out.append(io.stdin.read_all())
            continue
        try:
            out.append(built(sh.fs.read(sh.path(f))))
        except FileSystemError as exc:
            if exc.kind == "EISDIR":
                io.err(f"{name}: read error: Is a directory\n")
            else:
                io.err(f"{name}: can't open '{f}': {errno_text(exc)}\n")
            status = 1
    return out, status


@applet("cat")
def a_cat(sh: Shell, io: IO, argv: list[str]) -> int:
    files = [a for a in argv[1:] if a == "-" or not a.startswith("-")]
    contents, status = _read_inputs(sh, io, "cat", files)
    for text in contents:
        io.out(text)
    return status


@applet("touch")
def a_touch(sh: Shell, io: IO, argv: list[str]) -> int:
    status = 0
    for f in (a for a in argv[1:] if not a.startswith("-")):
        path = sh.path(f)
        try:
            if not sh.fs.exists(path):
                sh.write_file(path, "")
        except FileSystemError as exc:
            io.err(f"touch: {f}: {errno_text(exc)}\n")
            status = 1
    return status


@applet("rm")
def a_rm(sh: Shell, io: IO, argv: list[str]) -> int:
    force = recursive = False
    files: list[str] = []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not files:
            force |= "f" in a
            recursive |= "r" in a or "R" in a
        else:
            files.append(a)
    if not files and not force:
        return usage(sh, io, "rm", "[-irf] FILE...")
    status = 0
    for f in files:
        path = sh.path(f)
        if not sh.fs.exists(path):
            if not force:
                io.err(f"rm: can't remove '{f}': No such file or directory\n")
                status = 1
            continue
        if sh.fs.is_dir(path) and not recursive:
            io.err(f"rm: '{f}' is a directory\n")
            status = 1
            continue
        try:
            sh.fs.remove(path, recursive=recursive)
        except FileSystemError as exc:
            io.err(f"rm: can't remove '{f}': {errno_text(exc)}\n")
            status = 1
    return status


@applet("mkdir")
def a_mkdir(sh: Shell, io: IO, argv: list[str]) -> int:
    parents = any(a.startswith("-") and "p" in a for a in argv[1:])
    dirs = [a for a in argv[1:] if not a.startswith("-")]
    if not dirs:
        return usage(sh, io, "mkdir", "[-m MODE] [-p] DIRECTORY...")
    status = 0
    for d in dirs:
        try:
            sh.fs.mkdir(sh.path(d), parents=parents)
        except FileSystemError as exc:
            shown = d
            if parents and exc.kind == "ENOSPC":
                shown = _mkdir_failed_prefix(d, sh.path(d), exc.path)
            io.err(f"mkdir: can't create directory '{shown}': {errno_text(exc)}\n")
            status = 1
    return status


def _mkdir_failed_prefix(arg: str, full: str, failed: str) -> str:
    """``mkdir -p`` names the directory it could not make as ``bb_make_directory`` has the
    argument then: cut after that component, with its slash (``/data/a/``)."""
    below = full.count("/") - failed.count("/") if failed != full else 0
    if below <= 0:
        return arg
    text = arg.rstrip("/")
    for _ in range(below):
        text = text[: text.rindex("/")].rstrip("/") if "/" in text else text
    return text + "/"


@applet("ls")
def a_ls(sh: Shell, io: IO, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and len(a) > 1)
    targets = [a for a in argv[1:] if not a.startswith("-") or a == "-"] or ["."]
    show_all = "a" in flags
    long = "l" in flags
    status = 0
    for i, t in enumerate(targets):
        path = sh.path(t)
        if not sh.fs.exists(path):
            io.err(f"ls: {t}: No such file or directory\n")
            status = 1
            continue
        if not sh.fs.is_dir(path):
            io.out(_ls_line(sh, path, t, long) + "\n")
            continue
        if len(targets) > 1:
            io.out(("\n" if i else "") + f"{t}:\n")
        names = sh.fs.listdir(path)
        if show_all:
            names = [".", "..", *names]
        for n in names:
            if n.startswith(".") and not show_all:
                continue
            io.out(_ls_line(sh, normalise_join(path, n), n, long) + "\n")
    return status


def normalise_join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name if name not in (".", "..") else base


def _ls_line(sh: Shell, path: str, name: str, long: bool) -> str:
    if not long:
        return name
    is_dir = sh.fs.is_dir(path)
    size = 4096 if is_dir else len(sh.fs.read(path).encode()) + _uncounted(sh, path)
    mode = "drwxr-xr-x" if is_dir else "-rw-r--r--"
    stamp = f"{EPOCH:%b} {EPOCH.day:2d} {EPOCH:%H:%M}"
    return f"{mode}    {2 if is_dir else 1} root     root    {size:>9} {stamp} {name}"


@applet("tee")
def a_tee(sh: Shell, io: IO, argv: list[str]) -> int:
    append = "-a" in argv[1:]
    files = [a for a in argv[1:] if not a.startswith("-")]
    data = io.stdin.read_all()
    status = 0
    for f in files:
        try:
            sh.write_file(sh.path(f), data, append=append)
        except FileSystemError as exc:
            io.err(f"tee: {f}: {errno_text(exc)}\n")
            status = 1
    io.out(data)
    return status


@applet("cp")
def a_cp(sh: Shell, io: IO, argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) < 2:
        return usage(sh, io, "cp", "[-arPLHpfinlsTu] SOURCE DEST")
    dest = sh.path(args[-1])
    status = 0
    for src in args[:-1]:
        try:
            data = sh.fs.read(sh.path(src))
            target = dest + "/" + src.rsplit("/", 1)[-1] if sh.fs.is_dir(dest) else dest
        except FileSystemError as exc:
            io.err(f"cp: can't stat '{src}': {errno_text(exc)}\n")
            status = 1
            continue
        try:
            sh.write_file(target, data, extra=_uncounted(sh, sh.path(src)))
        except FileSystemError as exc:
            # copy_file: open(O_CREAT) failing is "can't create"; a failed write(2) is
            # bb_copyfd's "write error"
            shown = args[-1] if target == dest else (
                args[-1].rstrip("/") + "/" + src.rsplit("/", 1)[-1])
            if exc.kind == "ENOSPC" and sh.fs.exists(target):
                io.err(f"cp: write error: {errno_text(exc)}\n")
            elif exc.kind == "ENOSPC":
                io.err(f"cp: can't create '{shown}': {errno_text(exc)}\n")
            else:
                io.err(f"cp: can't stat '{src}': {errno_text(exc)}\n")
            status = 1
    return status


@applet("mv")
def a_mv(sh: Shell, io: IO, argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) != 2:
        return usage(sh, io, "mv", "[-fin] SOURCE DEST")
    try:
        data = sh.fs.read(sh.path(args[0]))
        dest = sh.path(args[1])
        if sh.fs.is_dir(dest):
            dest = dest + "/" + args[0].rsplit("/", 1)[-1]
        sh.write_file(dest, data, extra=_uncounted(sh, sh.path(args[0])))
        sh.fs.remove(sh.path(args[0]))
    except FileSystemError as exc:
        io.err(f"mv: can't rename '{args[0]}': {errno_text(exc)}\n")
        return 1
    return 0


# --- text -----------------------------------------------------------------------------


def _n_option(argv: list[str], default: int) -> tuple[int, list[str], bool]:
    n = default
    from_start = False
    rest: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-n" and i + 1 < len(args):
            value = args[i + 1]
            i += 2
        elif a.startswith("-n"):
            value = a[2:]
            i += 1
        elif re.fullmatch(r"-\d+", a):
            value = a[1:]
            i += 1
        elif a in ("-f", "-F", "-q"):
            i += 1
            continue
        else:
            rest.append(a)
            i += 1
            continue
        if value.startswith("+"):
            from_start = True
        n = int(value.lstrip("+-")) if value.lstrip("+-").isdigit() else default
    return n, rest, from_start


@applet("head")
def a_head(sh: Shell, io: IO, argv: list[str]) -> int:
    n, files, _ = _n_option(argv, 10)
    contents, status = _read_inputs(sh, io, "head", files)
    for text in contents:
        io.out("".join(text.splitlines(keepends=True)[:n]))
    return status


@applet("tail")
def a_tail(sh: Shell, io: IO, argv: list[str]) -> Gen:
    n, files, from_start = _n_option(argv, 10)
    follow = any(a in ("-f", "-F") for a in argv[1:])
    if follow and files:
        return (yield from _tail_follow(sh, io, files[0], n))
    contents, status = _read_inputs(sh, io, "tail", files)
    for text in contents:
        lines = text.splitlines(keepends=True)
        io.out("".join(lines[n - 1 :] if from_start else lines[-n:] if n else []))
    return status


def _tail_follow(sh: Shell, io: IO, name: str, n: int) -> Gen:
    """``tail -f``: print the last lines, then poll the file once a second."""
    path = sh.path(name)
    seen = 0
    missing_reported = False
    first = True
    while True:
        try:
            text = sh.fs.read(path)
        except FileSystemError:
            if not missing_reported:
                io.err(f"tail: can't open '{name}': No such file or directory\n")
                missing_reported = True
            text = None
        if text is not None:
            if first:
                lines = text.splitlines(keepends=True)
                io.out("".join(lines[-n:] if n else []))
                first = False
            elif len(text) > seen:
                io.out(text[seen:])
            elif len(text) < seen:
                io.err(f"tail: {name}: file truncated\n")
                io.out(text)
            seen = len(text)
        yield from sh.proc.charge()
        yield Sleep(1.0)


_WORD = re.compile(r"\S+")


@applet("wc")
def a_wc(sh: Shell, io: IO, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    files = [a for a in argv[1:] if not a.startswith("-")]
    contents, status = _read_inputs(sh, io, "wc", files)
    for i, text in enumerate(contents):
        chosen = [k for k in "lwc" if k in flags] or ["l", "w", "c"]
        rope = text.rope if type(text) is Hollow else None
        if rope is not None:  # counted from the rope: the string is too big to build
            counts = {"l": rope_.count(rope, "\n"), "w": rope_.words(rope), "c": text.size}
            suffix = f" {files[i]}" if files else ""
            if len(chosen) == 1:
                io.out(f"{counts[chosen[0]]}{suffix}\n")
            else:
                io.out(" ".join(f"{counts[k]:>9}" for k in chosen) + suffix + "\n")
            continue
        # only what is asked, and without a list of every word of a big file
        counts = {
            "l": text.count("\n") if "l" in chosen else 0,
            "w": sum(1 for _ in _WORD.finditer(text)) if "w" in chosen else 0,
            "c": (len(text) if text.isascii() else len(text.encode())) if "c" in chosen else 0,
        }
        suffix = f" {files[i]}" if files else ""
        if len(chosen) == 1:
            io.out(f"{counts[chosen[0]]}{suffix}\n")
        else:
            io.out(" ".join(f"{counts[k]:>9}" for k in chosen) + suffix + "\n")
    return status


@applet("grep", "egrep", "fgrep")
def a_grep(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    quiet = invert = ignore = count = only_names = False
    fixed = argv[0] == "fgrep"
    pattern: str | None = None
    files: list[str] = []
    options_done = False
    while args:
        a = args.pop(0)
        if not options_done and a == "--":
            options_done = True
        elif not options_done and a == "-e" and args:
            pattern = args.pop(0)
        elif not options_done and a.startswith("-") and len(a) > 1:
            quiet |= "q" in a
            invert |= "v" in a
            ignore |= "i" in a
            count |= "c" in a
            fixed |= "F" in a
            only_names |= "l" in a
        elif pattern is None:
            pattern = a
            options_done = True
        else:
            files.append(a)
    if pattern is None:
        return usage(sh, io, "grep", "[-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] "
                                     "{ PATTERN | -e PATTERN... | -f FILE... } [FILE]...")
    flags = re.IGNORECASE if ignore else 0
    try:
        regex = re.compile(re.escape(pattern) if fixed else _bre_to_python(pattern), flags)
    except re.error:
        io.err(f"grep: bad regex '{pattern}'\n")
        return 2
    contents, status = _read_inputs(sh, io, "grep", files)
    matched = False
    for i, text in enumerate(contents):
        n = 0
        for line in text.splitlines():
            if bool(regex.search(line)) != invert:
                matched = True
                n += 1
                if quiet:
                    return 0
                if not count and not only_names:
                    prefix = f"{files[i]}:" if len(files) > 1 else ""
                    io.out(prefix + line + "\n")
        if count:
            io.out((f"{files[i]}:" if len(files) > 1 else "") + f"{n}\n")
        if only_names and n:
            io.out(f"{files[i] if files else '(standard input)'}\n")
    if status:
        return 2
    return 0 if matched else 1


def _bre_to_python(pattern: str) -> str:
    """Basic/extended regex to Python: ``\\(``/``\\|`` of BRE become groups/alternation."""
    return pattern.replace(r"\(", "(").replace(r"\)", ")").replace(r"\|", "|").replace(
        r"\{", "{").replace(r"\}", "}")


@applet("seq")
def a_seq(sh: Shell, io: IO, argv: list[str]) -> int:
    nums = argv[1:]
    try:
        values = [float(x) for x in nums]
    except ValueError:
        bad = next(x for x in nums if not _is_float(x))
        io.err(f"seq: invalid number '{bad}'\n")
        return 1
    if not 1 <= len(values) <= 3:
        return usage(sh, io, "seq", "[-w] [-s SEP] [FIRST [INC]] LAST")
    first, inc, last = 1.0, 1.0, values[-1]
    if len(values) >= 2:
        first = values[0]
    if len(values) == 3:
        inc = values[1]
    if inc == 0:
        return 0
    integral = all(v == int(v) for v in values)
    out: list[str] = []
    x = first
    count = 0
    while (x <= last if inc > 0 else x >= last) and count < 100_000:
        out.append(str(int(x)) if integral else f"{x:g}")
        x += inc
        count += 1
    io.out("".join(o + "\n" for o in out))
    return 0


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@applet("expr")
def a_expr(sh: Shell, io: IO, argv: list[str]) -> int:
    args = argv[1:]
    try:
        value = _expr(args)
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        msg = "division by zero" if isinstance(exc, ZeroDivisionError) else "syntax error"
        io.err(f"expr: {msg}\n")
        return 2
    io.out(f"{value}\n")
    return 0 if value not in ("", "0", 0) else 1


def _expr(args: list[str]) -> str | int:
    if len(args) == 1:
        return int(args[0]) if re.fullmatch(r"-?\d+", args[0]) else args[0]
    if len(args) == 3:
        a, op, b = args
        if op in ("+", "-", "*", "/", "%"):
            x, y = int(a), int(b)
            if op in ("/", "%") and y == 0:
                raise ZeroDivisionError
            if op == "/":
                return abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
            if op == "%":
                return x - (abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)) * y
            return x + y if op == "+" else x - y if op == "-" else x * y
        if op in ("=", "!=", "<", ">", "<=", ">="):
            if re.fullmatch(r"-?\d+", a) and re.fullmatch(r"-?\d+", b):
                left: Any = int(a)
                right: Any = int(b)
            else:
                left, right = a, b
            return int({"=": left == right, "!=": left != right, "<": left < right,
                        ">": left > right, "<=": left <= right, ">=": left >= right}[op])
        if op == ":":
            m = re.match(_bre_to_python(b), a)
            if not m:
                return 0
            return m.group(1) if m.groups() else len(m.group(0))
    if len(args) == 2 and args[0] == "length":
        return len(args[1])
    raise ValueError("syntax error")


@applet("basename")
def a_basename(sh: Shell, io: IO, argv: list[str]) -> int:
    if len(argv) < 2:
        return usage(sh, io, "basename", "FILE [SUFFIX]")
    name = argv[1].rstrip("/").rsplit("/", 1)[-1] or "/"
    if len(argv) > 2 and name.endswith(argv[2]) and name != argv[2]:
        name = name[: -len(argv[2])]
    io.out(name + "\n")
    return 0


@applet("dirname")
def a_dirname(sh: Shell, io: IO, argv: list[str]) -> int:
    if len(argv) < 2:
        return usage(sh, io, "dirname", "FILENAME")
    path = argv[1].rstrip("/")
    head = path.rsplit("/", 1)[0] if "/" in path else "."
    io.out((head or "/") + "\n")
    return 0


@applet("tr")
def a_tr(sh: Shell, io: IO, argv: list[str]) -> int:
    args = [a for a in argv[1:]]
    delete = args and args[0] == "-d"
    if delete:
        args = args[1:]
    data = io.stdin.read_all()
    if delete and args:
        chars = _tr_set(args[0])
        io.out("".join(c for c in data if c not in chars))
        return 0
    if len(args) < 2:
        return usage(sh, io, "tr", "[-cds] STRING1 [STRING2]")
    src, dst = _tr_set(args[0]), _tr_set(args[1])
    if not dst:
        io.out(data)
        return 0
    dst = dst + dst[-1] * max(0, len(src) - len(dst))
    io.out(data.translate(str.maketrans(src, dst[: len(src)])))
    return 0


def _tr_set(spec: str) -> str:
    spec = spec.replace("[:lower:]", "a-z").replace("[:upper:]", "A-Z").replace("[:digit:]", "0-9")
    spec = unescape(spec)[0]
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


@applet("cut")
def a_cut(sh: Shell, io: IO, argv: list[str]) -> int:
    delim = "\t"
    fields: list[int] = []
    files: list[str] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a.startswith("-d"):
            delim = a[2:] or (args.pop(0) if args else "\t")
        elif a.startswith("-f"):
            spec = a[2:] or (args.pop(0) if args else "")
            for piece in spec.split(","):
                lo, _, hi = piece.partition("-")
                if hi or piece.endswith("-"):
                    fields.extend(range(int(lo or 1), int(hi or 64) + 1))
                elif lo.isdigit():
                    fields.append(int(lo))
        else:
            files.append(a)
    contents, status = _read_inputs(sh, io, "cut", files)
    for text in contents:
        for line in text.splitlines():
            parts = line.split(delim)
            if len(parts) == 1:
                io.out(line + "\n")
                continue
            io.out(delim.join(parts[f - 1] for f in fields if f <= len(parts)) + "\n")
    return status


@applet("sort")
def a_sort(sh: Shell, io: IO, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    files = [a for a in argv[1:] if not a.startswith("-")]
    contents, status = _read_inputs(sh, io, "sort", files)
    lines = "".join(contents).splitlines()
    if "n" in flags:
        lines.sort(key=lambda s: (float(m.group(0)) if (m := re.match(r"\s*-?\d+(\.\d+)?", s))
                                  else 0.0))
    else:
        lines.sort()
    if "r" in flags:
        lines.reverse()
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    io.out("".join(line + "\n" for line in lines))
    return status


@applet("uniq")
def a_uniq(sh: Shell, io: IO, argv: list[str]) -> int:
    contents, status = _read_inputs(sh, io, "uniq", [a for a in argv[1:] if a[:1] != "-"])
    prev = None
    for line in "".join(contents).splitlines():
        if line != prev:
            io.out(line + "\n")
        prev = line
    return status


# --- identity and system --------------------------------------------------------------


@applet("hostname")
def a_hostname(sh: Shell, io: IO, argv: list[str]) -> int:
    if "-i" in argv[1:]:
        io.out(sh.ctx.pod_ip + "\n")
    else:
        io.out(sh.ctx.hostname + "\n")
    return 0


def _user_name(uid: int) -> str | None:
    return {0: "root", 65534: "nobody", 101: "nginx"}.get(uid)


def _group_name(gid: int) -> str | None:
    return {0: "root", 10: "wheel", 65534: "nobody", 101: "nginx"}.get(gid)


@applet("id")
def a_id(sh: Shell, io: IO, argv: list[str]) -> int:
    uid = sh.proc.uid
    gid = int(getattr(sh.proc, "gid", uid))
    groups = tuple(getattr(sh.proc, "groups", ()))
    if not groups:
        # the groups /etc/group gives the user (busybox: root is also in wheel)
        groups = (0, 10) if uid == 0 and gid == 0 else (gid,)
    opts = argv[1:]
    if "-u" in opts:
        io.out(f"{uid}\n")
        return 0
    if "-g" in opts:
        io.out(f"{gid}\n")
        return 0
    if "-G" in opts:
        io.out(" ".join(str(g) for g in groups) + "\n")
        return 0

    def label(number: int, name: str | None) -> str:
        return f"{number}({name})" if name else str(number)

    listed = ",".join(label(g, _group_name(g)) for g in groups)
    io.out(f"uid={label(uid, _user_name(uid))} gid={label(gid, _group_name(gid))} "
           f"groups={listed}\n")
    return 0


@applet("whoami")
def a_whoami(sh: Shell, io: IO, argv: list[str]) -> int:
    name = _user_name(sh.proc.uid)
    if name is None:
        io.err(f"whoami: unknown uid {sh.proc.uid}\n")
        return 1
    io.out(name + "\n")
    return 0


@applet("env", "printenv")
def a_env(sh: Shell, io: IO, argv: list[str]) -> Gen:
    env = sh.env()
    args = argv[1:]
    if argv[0].rsplit("/", 1)[-1] == "printenv":
        if args:
            found = [env[a] for a in args if a in env]
            io.out("".join(v + "\n" for v in found))
            return 0 if len(found) == len(args) else 1
    extra: dict[str, str] = {}
    clear = bool(args) and args[0] in ("-i", "-")
    if clear:  # ``env -i [A=1] [CMD]``: an empty environment plus what is given
        env = {}
        args = args[1:]
    while args and "=" in args[0] and not args[0].startswith("="):
        key, _, value = args.pop(0).partition("=")
        extra[key] = value
    if args:
        if sh.find_command(args[0]) is None:  # env execs: no builtins, no functions
            io.err(f"env: can't execute '{args[0]}': No such file or directory\n")
            return 127
        status = yield from sh.exec_command(args, io, extra, clear_env=clear)
        return int(status)
    env.update(extra)
    io.out("".join(f"{k}={v}\n" for k, v in env.items()))
    return 0


@applet("uname")
def a_uname(sh: Shell, io: IO, argv: list[str]) -> int:
    if "-a" in argv[1:]:
        io.out(f"Linux {sh.ctx.hostname} 6.8.0-podlab #1 SMP x86_64 GNU/Linux\n")
    elif "-r" in argv[1:]:
        io.out("6.8.0-podlab\n")
    elif "-m" in argv[1:]:
        io.out("x86_64\n")
    else:
        io.out("Linux\n")
    return 0


@applet("ps")
def a_ps(sh: Shell, io: IO, argv: list[str]) -> int:
    proc = sh.proc
    io.out("PID   USER     TIME  COMMAND\n")
    io.out(f"{proc.pid:>5} root      0:00 {proc.main.command if proc.main else 'sh'}\n")
    for pid in proc.job_order:
        job = proc.jobs[pid]
        if job.status is None:
            io.out(f"{pid:>5} root      0:00 {job.command or 'sh'}\n")
    return 0


@applet("yes")
def a_yes(sh: Shell, io: IO, argv: list[str]) -> Gen:
    line = (" ".join(argv[1:]) or "y") + "\n"
    chunk = line * max(1, OUTPUT_CHUNK // len(line))
    while True:
        io.out(chunk)
        yield CpuWork(CHUNK_CPU)


SHELL_NAMES = frozenset({"sh", "ash", "bash"})


def sh_main(sh: Shell, io: IO, argv: list[str]) -> Gen:
    """Run ``sh [-c SCRIPT [NAME [ARGS...]] | FILE [ARGS...]]`` in the shell ``sh``."""
    args = argv[1:]
    while args and args[0].startswith("-") and args[0] != "-c" and len(args[0]) > 1:
        if "e" in args[0]:
            sh.errexit = True
        if "c" in args[0][1:]:
            args[0] = "-c"
            break
        args = args[1:]
    if args and args[0] == "-c":
        if len(args) < 2:
            io.err("sh: -c requires an argument\n")
            return 2
        source = args[1]
        sh.name = args[2] if len(args) > 2 else argv[0]
        sh.args = args[3:]
    elif args:
        path = sh.path(args[0])
        try:
            source = sh.fs.read(path)
        except FileSystemError as exc:
            io.err(f"sh: can't open '{args[0]}': {errno_text(exc)}\n")
            return 2
        sh.name = args[0]
        sh.args = args[1:]
    else:
        source = io.stdin.read_all()
    try:
        node = p.parse(source)
    except p.ShellSyntaxError as exc:
        io.err(f"sh: {exc}\n")
        return 2
    return int((yield from sh.run_script(node, io)))


@applet(*SHELL_NAMES)
def a_sh(sh: Shell, io: IO, argv: list[str]) -> Gen:
    """A nested shell: ``sh -c '...'`` or ``sh script`` in a child process."""
    sub = sh.clone()
    sub.functions = {}
    # a new process: its variables are the environment it was given (what was exported,
    # or only the assignments after ``env -i``), not the parent shell's other variables
    env = sh.env()
    sub.vars = {**env, "PWD": sh.vars.get("PWD", sh.cwd), "IFS": " \t\n",
                "PPID": str(sh.proc.pid)}
    sub.exported = set(env)
    if "PATH" not in env:  # ash's default search path when it inherits none
        sub.vars["PATH"] = "/sbin:/usr/sbin:/bin:/usr/bin"
    sub.errexit = False
    return (yield from sh_main(sub, io, argv))


# --- network --------------------------------------------------------------------------


def resolve_host(sh: Shell, host: str) -> str | None:
    """The address for ``host`` in the Pod's network namespace, or None (bad address)."""
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return "127.0.0.1"
    if host == sh.ctx.hostname:
        return sh.ctx.pod_ip
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
        return host
    # A runtime with cluster DNS may give the context ``resolve(name) -> str | None``.
    resolver = getattr(sh.ctx, "resolve", None)
    if callable(resolver):
        found = resolver(host)
        return found if isinstance(found, str) and found else None
    return None


def _wait_delay(sh: Shell, started: float, response: Response, timeout: float) -> Gen:
    """Spend the response's delay (capped at ``timeout``) if the runtime did not already."""
    elapsed = sh.ctx.now - started
    wanted = min(response.delay, timeout)
    if wanted > elapsed:
        yield Sleep(wanted - elapsed)
    return response.delay > timeout


@applet("wget")
def a_wget(sh: Shell, io: IO, argv: list[str]) -> Gen:
    args = argv[1:]
    quiet = spider = False
    output: str | None = None
    timeout = 900.0
    headers: list[tuple[str, str]] = []
    url: str | None = None
    while args:
        a = args.pop(0)
        if a == "--quiet":
            quiet = True
        elif a == "--spider":
            spider = True
        elif a.startswith("--output-document="):
            output = a.split("=", 1)[1]
        elif a.startswith("--timeout="):
            timeout = float(a.split("=", 1)[1])
        elif a == "--header" and args:
            key, _, value = args.pop(0).partition(":")
            headers.append((key.strip(), value.strip()))
        elif a.startswith("--"):
            continue
        elif a.startswith("-") and len(a) > 1:
            # busybox getopt: bundled short options, -O/-T take the rest or the next argument
            i = 1
            while i < len(a):
                c = a[i]
                if c in "OTP":
                    value = a[i + 1 :] or (args.pop(0) if args else "")
                    if c == "O":
                        output = value
                    elif c == "T":
                        try:
                            timeout = float(value)
                        except ValueError:
                            io.err(f"wget: invalid number '{value}'\n")
                            return 1
                    break
                if c == "q":
                    quiet = True
                i += 1
        else:
            url = a
    if url is None:
        return usage(sh, io, "wget", "[-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n"
                                     "\t[--post-data STR | --post-file FILE] [-Y on/off]\n"
                                     "\t[-P DIR] [-U AGENT] [-T SEC] URL...")
    for _ in range(6):  # follow up to five redirects
        if "://" not in url:
            url = "http://" + url
        parts = urlsplit(url)
        if parts.scheme not in ("http",):
            io.err(f"wget: not an http or ftp url: {url}\n")
            return 1
        host = parts.hostname or ""
        port = parts.port or 80
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        address = resolve_host(sh, host)
        if address is None:
            io.err(f"wget: bad address '{host}'\n")
            return 1
        if not quiet:
            io.err(f"Connecting to {host}:{port} ({address}:{port})\n" if parts.port
                   else f"Connecting to {host} ({address}:{port})\n")
        started = sh.ctx.now
        response = yield Connect(
            address,
            Request("http", port, path, "HEAD" if spider else "GET",
                    host=f"{host}:{port}" if parts.port else host,
                    headers=(("User-Agent", "Wget"), *headers)),
        )
        if not isinstance(response, Response) or response.refused:
            io.err(f"wget: can't connect to remote host ({address}): Connection refused\n")
            return 1
        timed_out = yield from _wait_delay(sh, started, response, timeout)
        if timed_out:
            io.err("wget: download timed out\n")
            return 1
        if response.status in (301, 302, 303, 307, 308):
            location = dict(response.headers).get("Location", "/")
            url = location if "://" in location else f"http://{parts.netloc}{location}"
            continue
        if not 200 <= response.status < 300:
            reason = HTTP_REASONS.get(response.status, "")
            io.err(f"wget: server returned error: HTTP/1.1 {response.status} {reason}".rstrip()
                   + "\n")
            return 1
        if spider:
            if not quiet:
                io.err("remote file exists\n")
            return 0
        body = response.body
        if output == "-":
            if not quiet:
                io.err("writing to stdout\n")
            io.out(body)
            if not quiet:
                io.err(f"{'-':<20} 100% |{'*' * 31}| {len(body.encode()):>5}  0:00:00 ETA\n"
                       "written to stdout\n")
            return 0
        name = output or (path.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "index.html")
        target = sh.path(name)
        if output is None and sh.fs.exists(target):
            io.err(f"wget: can't open '{name}': File exists\n")
            return 1
        try:
            sh.write_file(target, body)
        except FileSystemError as exc:
            io.err(f"wget: can't open '{name}': {errno_text(exc)}\n")
            return 1
        if not quiet:
            io.err(f"saving to '{name}'\n"
                   f"{name:<20} 100% |{'*' * 31}| {len(body.encode()):>5}  0:00:00 ETA\n"
                   f"'{name}' saved\n")
        return 0
    io.err("wget: too many redirections\n")
    return 1


@applet("curl")
def a_curl(sh: Shell, io: IO, argv: list[str]) -> Gen:
    """curl: -s -S -f -o FILE -I -L -m SECS -H HEADER -X METHOD URL."""
    args = argv[1:]
    silent = show_errors = fail = head = follow = False
    output: str | None = None
    timeout = 300.0
    method = "GET"
    headers: list[tuple[str, str]] = []
    url: str | None = None
    while args:
        a = args.pop(0)
        if a in ("-o", "--output", "-m", "--max-time", "-H", "--header", "-X", "--request",
                 "--connect-timeout"):
            value = args.pop(0) if args else ""
            if a in ("-o", "--output"):
                output = value
            elif a in ("-m", "--max-time", "--connect-timeout"):
                try:
                    timeout = float(value)
                except ValueError:
                    io.err("curl: option -m: expected a proper numerical parameter\n")
                    return 2
            elif a in ("-H", "--header"):
                key, _, val = value.partition(":")
                headers.append((key.strip(), val.strip()))
            else:
                method = value
        elif a.startswith("--"):
            silent |= a == "--silent"
            fail |= a == "--fail"
            head |= a == "--head"
            follow |= a == "--location"
            show_errors |= a == "--show-error"
        elif a.startswith("-") and len(a) > 1:
            silent |= "s" in a
            show_errors |= "S" in a
            fail |= "f" in a
            head |= "I" in a
            follow |= "L" in a
        else:
            url = a
    if url is None:
        io.err("curl: no URL specified!\ncurl: try 'curl --help' for more information\n")
        return 2

    def error(code: int, text: str) -> int:
        if not silent or show_errors:
            io.err(f"curl: ({code}) {text}\n")
        return code

    for _ in range(10):
        if "://" not in url:
            url = "http://" + url
        parts = urlsplit(url)
        if parts.scheme != "http":
            return error(1, f'Protocol "{parts.scheme}" not supported')
        host = parts.hostname or ""
        port = parts.port or 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        address = resolve_host(sh, host)
        if address is None:
            return error(6, f"Could not resolve host: {host}")
        started = sh.ctx.now
        response = yield Connect(address, Request(
            "http", port, path, "HEAD" if head else method, host=parts.netloc,
            headers=(("User-Agent", "curl/8.5.0"), *headers)))
        if not isinstance(response, Response) or response.refused:
            return error(7, f"Failed to connect to {host} port {port} after 0 ms: "
                            "Couldn't connect to server")
        if (yield from _wait_delay(sh, started, response, timeout)):
            return error(28, f"Operation timed out after {int(timeout * 1000)} milliseconds "
                             "with 0 bytes received")
        location = dict(response.headers).get("Location")
        if follow and response.status in (301, 302, 303, 307, 308) and location:
            url = location if "://" in location else f"http://{parts.netloc}{location}"
            continue
        if fail and response.status >= 400:
            return error(22, f"The requested URL returned error: {response.status}")
        if head:
            reason = HTTP_REASONS.get(response.status, "")
            text = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in response.headers) + "\r\n"
        else:
            text = response.body
        if output is not None and output != "-":
            try:
                sh.write_file(sh.path(output), text)
            except FileSystemError as exc:
                return error(23, f"Failure writing output to destination: {errno_text(exc)}")
        else:
            io.out(text)
        return 0
    return error(47, "Maximum (10) redirects followed")


@applet("sed")
def a_sed(sh: Shell, io: IO, argv: list[str]) -> int:
    """sed with -n, -i, -e and the commands s///[gpI], p, d, each with an optional address
    (a line number, ``$`` or ``/regex/``)."""
    args = argv[1:]
    quiet = in_place = False
    scripts: list[str] = []
    files: list[str] = []
    while args:
        a = args.pop(0)
        if a == "-e" and args:
            scripts.append(args.pop(0))
        elif a.startswith("-") and len(a) > 1 and not files and (scripts or a != "-"):
            quiet |= "n" in a
            in_place |= "i" in a
            if "e" in a and args:
                scripts.append(args.pop(0))
        elif not scripts:
            scripts.append(a)
        else:
            files.append(a)
    if not scripts:
        return usage(sh, io, "sed", "[-i[SFX]] [-nrE] [-f FILE]... [-e CMD]... [FILE]...")
    try:
        commands = [_sed_parse(c.strip()) for s in scripts for c in _sed_split(s) if c.strip()]
    except ValueError as exc:
        io.err(f"sed: {exc}\n")
        return 1
    if in_place:
        status = 0
        for f in files:
            try:
                text = sh.fs.read(sh.path(f))
                sh.write_file(sh.path(f), _sed_run(commands, text, quiet))
            except FileSystemError as exc:
                io.err(f"sed: {f}: {errno_text(exc)}\n")
                status = 4
        return status
    contents, status = _read_inputs(sh, io, "sed", files)
    io.out(_sed_run(commands, "".join(contents), quiet))
    return 2 if status else 0


def _sed_split(script: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(script):
        c = script[i]
        if c == "s" and (not buf or "".join(buf).strip() == "" or buf[-1] in "/$0123456789"):
            delim = script[i + 1] if i + 1 < len(script) else "/"
            count = 0
            j = i + 2
            while j < len(script) and count < 2:
                if script[j] == "\\":
                    j += 2
                    continue
                if script[j] == delim:
                    count += 1
                j += 1
            while j < len(script) and script[j] not in ";\n":
                j += 1
            buf.append(script[i:j])
            i = j
            continue
        if c in ";\n":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    parts.append("".join(buf))
    return parts


def _sed_parse(command: str) -> tuple[Any, str, Any]:
    address: Any = None
    m = re.match(r"(\d+|\$|/((?:[^/\\]|\\.)*)/)\s*", command)
    if m:
        if m.group(1) == "$":
            address = "$"
        elif m.group(1).isdigit():
            address = int(m.group(1))
        else:
            address = re.compile(_bre_to_python(m.group(2)))
        command = command[m.end():]
    if not command:
        raise ValueError("missing command")
    op = command[0]
    if op in "pd":
        return address, op, None
    if op == "s" and len(command) > 1:
        delim = command[1]
        pieces = re.split(r"(?<!\\)" + re.escape(delim), command[2:])
        if len(pieces) < 3:
            raise ValueError(f"unmatched '{op}'")
        pattern, replacement, flags = pieces[0], pieces[1], pieces[2]
        regex = re.compile(_bre_to_python(pattern), re.IGNORECASE if "I" in flags else 0)
        replacement = re.sub(r"\\(\d)", r"\\g<\1>", replacement.replace("&", "\\g<0>"))
        return address, "s", (regex, replacement, "g" in flags, "p" in flags)
    raise ValueError(f"unknown command: '{op}'")


def _sed_run(commands: list[tuple[Any, str, Any]], text: str, quiet: bool) -> str:
    lines = text.splitlines()
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        deleted = False
        for address, op, arg in commands:
            if address == "$" and number != len(lines):
                continue
            if isinstance(address, int) and address != number:
                continue
            if isinstance(address, re.Pattern) and not address.search(line):
                continue
            if op == "d":
                deleted = True
                break
            if op == "p":
                out.append(line)
            elif op == "s":
                regex, replacement, every, show = arg
                new, n = regex.subn(replacement, line, count=0 if every else 1)
                line = new
                if n and show:
                    out.append(line)
        if not deleted and not quiet:
            out.append(line)
    return "".join(line + "\n" for line in out)


@applet("nc")
def a_nc(sh: Shell, io: IO, argv: list[str]) -> Gen:
    args = argv[1:]
    listen = zero = verbose = False
    port: int | None = None
    timeout = 900.0
    rest: list[str] = []
    while args:
        a = args.pop(0)
        if a == "-p" and args:
            port = parse_number(args.pop(0))
        elif a == "-w" and args:
            timeout = float(parse_number(args.pop(0)) or 0)
        elif a.startswith("-") and len(a) > 1:
            listen |= "l" in a
            zero |= "z" in a
            verbose |= "v" in a
        else:
            rest.append(a)
    if listen:
        if port is None and rest:
            port = parse_number(rest[-1])
        if port is None:
            return usage(sh, io, "nc", "[OPTIONS] HOST PORT  - connect\n"
                                       "nc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen")
        body = io.stdin.read_all()

        def handler(request: Request, now: float) -> Response:
            if request.kind == "tcp":
                return Response(status=0)
            if request.kind == "http":
                return Response(status=200, body=body)
            return Response(grpc_status="UNIMPLEMENTED")

        if not sh.proc.listen(port, "tcp", handler):
            io.err("nc: bind: Address in use\n")
            return 1
        if verbose:
            io.err(f"listening on [::]:{port} ...\n")
        yield WaitForever()
        return 0
    if len(rest) < 2 or parse_number(rest[1]) is None:
        return usage(sh, io, "nc", "[OPTIONS] HOST PORT  - connect\n"
                                   "nc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen")
    host, port = rest[0], parse_number(rest[1])
    address = resolve_host(sh, host)
    if address is None:
        io.err(f"nc: bad address '{host}'\n")
        return 1
    started = sh.ctx.now
    response = yield Connect(address, Request("tcp", int(port or 0), host=host))
    if not isinstance(response, Response) or response.refused:
        if verbose or not zero:
            io.err(f"nc: {address} ({address}:{port}): Connection refused\n")
        return 1
    timed_out = yield from _wait_delay(sh, started, response, timeout)
    if timed_out:
        io.err("nc: timeout\n")
        return 1
    if verbose:
        io.err(f"{host} ({address}:{port}) open\n")
    if not zero:
        io.out(response.body)
    return 0


DNS_SERVER = "10.96.0.10"


@applet("nslookup")
def a_nslookup(sh: Shell, io: IO, argv: list[str]) -> int:
    """busybox nslookup; 1.28 and older print the classic format the Kubernetes docs show."""
    names = [a for a in argv[1:] if not a.startswith("-")]
    if not names:
        return usage(sh, io, "nslookup", "[-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]")
    name = names[0]
    address = resolve_host(sh, name)
    major, _, rest = sh.proc.busybox_version.partition(".")
    classic = (int(major), int(rest.split(".")[0] or 0)) < (1, 29) if major.isdigit() else False
    if classic:
        io.out(f"Server:    {DNS_SERVER}\n"
               f"Address 1: {DNS_SERVER} kube-dns.kube-system.svc.cluster.local\n\n")
        if address is None:
            io.err(f"nslookup: can't resolve '{name}'\n")
            return 1
        io.out(f"Name:      {name}\nAddress 1: {address} {name}\n")
        return 0
    io.out(f"Server:\t\t{DNS_SERVER}\nAddress:\t{DNS_SERVER}:53\n\n")
    if address is None:
        io.out(f"** server can't find {name}: NXDOMAIN\n\n" * 2)
        return 1
    io.out(f"Name:\t{name}\nAddress: {address}\n\n")
    return 0


@applet("free")
def a_free(sh: Shell, io: IO, argv: list[str]) -> int:
    io.out("              total        used        free      shared  buff/cache   available\n"
           "Mem:        8146916      912344     5120428        1560     2114144     6966244\n"
           "Swap:             0           0           0\n")
    return 0



# Shell builtins that busybox also installs as applets (``/bin/echo``, ``/usr/bin/[``): run by
# path or by ``env``/``xargs`` they behave as the builtin does.
for _name in ("echo", "printf", "test", "[", "true", "false", "kill", "pwd"):
    APPLETS.setdefault(_name, BUILTINS[_name])
