"""Server images described as data (``data/servers.json``), run by one small interpreter.

An entry says, for an image family: its executables and entrypoint wrappers, the environment
or flags it refuses to start without (log lines and exit code), its start-up log and time,
its ready log, the ports it listens on, the answers of its HTTP paths (before and after it is
ready), a periodic log line, and what it does on each signal (log lines, time, exit code).
``go_signals`` marks a Go program without signal handling: as PID 1 it exits with 2 on
SIGTERM/SIGINT/SIGHUP/SIGQUIT. ``exits`` is a program that logs and ends at once (``php -a``
without a terminal).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from podlab.engine.runtime import behaviours, nginx_entrypoint
from podlab.engine.runtime.libc import is_musl
from podlab.engine.runtime.process import (
    CLF_FORMAT,
    SIGHUP,
    SIGINT,
    SIGQUIT,
    SIGTERM,
    Connect,
    Handler,
    ProcessContext,
    Program,
    Request,
    Response,
    Signalled,
    Sleep,
    TimeText,
    WaitForever,
    join_pieces,
)
from podlab.engine.runtime.shell.applets import EPOCH

#: a TCP connection accepted (responses are never changed: one object serves every probe)
TCP_ACCEPTED = Response(status=0)

DATA = Path(__file__).with_name("data") / "servers.json"
_SIGNALS = {"TERM": SIGTERM, "INT": SIGINT, "QUIT": SIGQUIT, "HUP": SIGHUP}
MiB = 1024 * 1024


@functools.cache
def families() -> dict[str, dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        loaded: dict[str, dict[str, Any]] = json.load(fh)["families"]
    for name, entry in list(loaded.items()):
        if "extends" in entry:  # ["agnhost", "liveness"]: that program's subcommand
            parent, sub = entry["extends"]
            base = loaded[parent]
            common = {k: v for k, v in base.items()
                      if k not in ("subcommands", "no_subcommand", "unknown_subcommand",
                                   "executables", "entry", "files", "version_flags")}
            own = {k: v for k, v in entry.items() if k != "extends"}
            loaded[name] = {**common, **base["subcommands"][sub], **own}
    return loaded


@functools.lru_cache(maxsize=1024)
def _split_path(path: str) -> tuple[str, dict[str, list[str]]]:
    # cached (probes ask for the same paths over and over): callers must not change the dict
    parts = urlsplit(path)
    return unquote(parts.path) or "/", parse_qs(parts.query, keep_blank_values=True)


def spec(family: str) -> dict[str, Any] | None:
    return families().get(family)


def files(family: str, version: str = "") -> dict[str, str]:
    """The programs a family's image holds (paths → a binary marker) and its other files
    (``text_files``: path → text, ``{version}`` filled in)."""
    entry = spec(family) or {}
    paths: list[str] = []
    for table in ("executables", "entry"):
        paths.extend((entry.get(table) or {}).values())
    paths.extend(entry.get("files") or [])
    paths.extend(str(t["path"]) for t in (entry.get("tools") or {}).values() if t.get("path"))
    found = dict.fromkeys(paths, "\x7fELF (simulated binary)\n")
    for path, text in (entry.get("text_files") or {}).items():
        found[path] = str(text).replace("{version}", version)
    return found


def strip_wrappers(family: str, argv: list[str]) -> list[str]:
    """The command line after entrypoint wrappers (``docker-entrypoint.sh``, ``tini --``)."""
    wrappers = (spec(family) or {}).get("entry") or {}
    rest = list(argv)
    while rest and rest[0].rsplit("/", 1)[-1] in wrappers:
        rest = rest[1:]
        if rest and rest[0] == "--":
            rest = rest[1:]
    return rest


def program(family: str) -> Callable[[ProcessContext, list[str], str], Program]:
    """The interpreter bound to ``family``'s entry (check with :func:`handles` first)."""
    entry = spec(family) or {}

    def run(ctx: ProcessContext, args: list[str], version: str) -> Program:
        return (yield from _serve(ctx, entry, args, version))

    run.__name__ = family.replace("-", "_")
    return run


def handles(family: str, argv: list[str]) -> bool:
    """True when ``argv`` (after wrappers) starts the family's server (one of its
    ``executables``; ``tools`` and ``files`` are other programs)."""
    entry = spec(family)
    if entry is None:
        return False
    rest = strip_wrappers(family, argv)
    return bool(rest) and rest[0].rsplit("/", 1)[-1] in (entry.get("executables") or {})


ToolProgram = Callable[[ProcessContext, list[str], str], Program]


def tool(family: str, argv: list[str]) -> ToolProgram | None:
    """A client tool of the image (``pg_isready``) for ``argv``, or None."""
    tools = (spec(family) or {}).get("tools") or {}
    entry = tools.get(argv[0].rsplit("/", 1)[-1]) if argv else None
    if entry is None:
        return None

    def run(ctx: ProcessContext, args: list[str], version: str) -> Program:
        return (yield from _probe_tool(ctx, entry, args, version))

    return run


def _probe_tool(ctx: ProcessContext, entry: dict[str, Any], argv: list[str], version: str
                ) -> Program:
    host, port = str(entry["default_host"]), int(entry["default_port"])
    args = argv[1:]
    for i, arg in enumerate(args):
        for flag, kind in ((entry.get("host_flag"), "host"), (entry.get("port_flag"), "port")):
            if not flag or not arg.startswith(flag):
                continue
            value = arg[len(flag):] or (args[i + 1] if i + 1 < len(args) else "")
            if kind == "host":
                host = value.lstrip("=")
            elif value.lstrip("=").isdigit():
                port = int(value.lstrip("="))
    address = _resolve(ctx, "localhost" if host.startswith("/") else host)
    accepted = False
    if address is not None:
        answer = yield Connect(address, Request("tcp", port))
        accepted = isinstance(answer, Response) and not answer.refused and answer.status == 0
    outcome = "accepting" if accepted else "no_response"
    for stream, template in entry.get(outcome) or []:
        text = template.replace("{host}", host).replace("{port}", str(port))
        (ctx.stderr if stream == "stderr" else ctx.stdout)(_text(text, ctx, version) + "\n")
    return int(entry.get(f"{outcome}_exit", 0))


def _resolve(ctx: ProcessContext, host: str) -> str | None:
    if host in ("localhost", "127.0.0.1"):
        return "127.0.0.1"
    if host == ctx.hostname:
        return ctx.pod_ip
    if all(part.isdigit() for part in host.split(".")) and host.count(".") == 3:
        return host
    resolver = getattr(ctx, "resolve", None)
    found = resolver(host) if callable(resolver) else None
    return found if isinstance(found, str) and found else None


# --- templates: compiled once, rendered per line ---------------------------------------------
#
# A template is text with ``{name}`` fields (``{{`` and ``}}`` are literal braces): ``{t:FMT}``
# the simulated time through strftime, ``{rand:A,B}`` one of the choices and
# ``{randint:LOW:HIGH}`` a number LOW <= n < HIGH (both drawn from the process's seeded
# random source, in the order they appear), any other name a value (the ``extra`` values a
# caller passes, else the process's own: ``version``, ``version_mm``, ``pod_ip``,
# ``hostname``, ``pid``, ``epoch``, ``ms``, ``us``, ``eaddrinuse``; unknown names are empty).
# Requests render templates all the time (probes every few seconds), so each template is
# parsed once into its parts and only the values it names are worked out.

_LITERAL, _TIME, _RAND, _RANDINT, _VALUE = range(5)
Part = tuple[int, Any]


@functools.lru_cache(maxsize=4096)
def _compile(template: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        if template.startswith("{{", i):
            literal.append("{")
            i += 2
            continue
        if template.startswith("}}", i):
            literal.append("}")
            i += 2
            continue
        if template[i] == "{":
            end = template.index("}", i)  # an unclosed field is an error, as it always was
            name = template[i + 1 : end]
            if literal:
                parts.append((_LITERAL, "".join(literal)))
                literal = []
            if name.startswith("t:"):
                parts.append((_TIME, name[2:]))
            elif name.startswith("rand:"):  # {rand:GET,POST}: one of them, seeded
                parts.append((_RAND, tuple(name[5:].split(","))))
            elif name.startswith("randint:"):  # {randint:200:600}: low <= n < high
                low, high = name[8:].split(":")
                parts.append((_RANDINT, (int(low), int(high))))
            else:
                parts.append((_VALUE, name))
            i = end + 1
            continue
        literal.append(template[i])
        i += 1
    if literal:
        parts.append((_LITERAL, "".join(literal)))
    return tuple(parts)


def _moment(now: float) -> datetime:
    return EPOCH + timedelta(seconds=now)


def _own_value(name: str, ctx: ProcessContext, version: str, now: float) -> str:
    """The value of ``{name}`` a process gives itself (without ``extra``)."""
    if name == "version":
        return version
    if name == "version_mm":
        return ".".join(version.split(".")[:2])
    if name == "pod_ip":
        return ctx.pod_ip
    if name == "hostname":
        return ctx.hostname
    if name == "pid":
        return "1" if ctx.is_pid1 else "7"
    if name == "epoch":
        return str(int(_moment(now).timestamp()))
    if name == "ms":
        return f"{_moment(now).microsecond // 1000:03d}"
    if name == "us":
        return f"{_moment(now).microsecond:06d}"
    if name == "eaddrinuse":
        # strerror(EADDRINUSE) as the image's C library words it: glibc "Address already in
        # use", musl (Alpine) "Address in use" (musl src/errno/__strerror.h; glibc
        # sysdeps/gnu/errlist). httpd prints it as "(98)<strerror>: AH00072: ..." (server/log.c
        # puts "(%d)" and apr_strerror before the message of server/listen.c make_sock).
        return "Address in use" if is_musl(getattr(ctx, "fs", None)) else "Address already in use"
    return ""


def _resolve_parts(parts: tuple[Part, ...], ctx: ProcessContext, version: str,
                   extra: dict[str, object], now: float) -> list[Any]:
    """Each part as a string, except times, left as :class:`TimeText` for
    :func:`join_pieces` to fill in (an ``extra`` value may be one too: ``clf``). Random
    fields draw now, in order, whenever the text is made."""
    out: list[Any] = []
    for kind, arg in parts:
        if kind == _LITERAL:
            out.append(arg)
        elif kind == _VALUE:
            if arg in extra:
                value = extra[arg]
                out.append(value if type(value) is TimeText else str(value))
            else:
                out.append(_own_value(arg, ctx, version, now))
        elif kind == _TIME:
            out.append(TimeText(arg, now))
        elif kind == _RAND:
            out.append(arg[ctx.rng.randrange(len(arg))])
        else:
            out.append(str(ctx.rng.randrange(arg[0], arg[1])))
    return out


#: values that change while a process runs (the others are the process's own constants)
_MOVING_VALUES = frozenset({"epoch", "ms", "us"})


@functools.lru_cache(maxsize=4096)
def _fixed(template: str) -> bool:
    """True when ``template`` without ``extra`` values renders the same every time for one
    process: no times, no random fields, no clock values."""
    return all(kind == _LITERAL or (kind == _VALUE and arg not in _MOVING_VALUES)
               for kind, arg in _compile(template))


def _text(template: str, ctx: ProcessContext, version: str, **extra: object) -> str:
    parts = _compile(template)
    if len(parts) == 1 and parts[0][0] == _LITERAL:
        return parts[0][1]
    if not parts:
        return ""
    return join_pieces(tuple(_resolve_parts(parts, ctx, version, extra, ctx.now)))


def _log(ctx: ProcessContext, lines: list[list[str]], version: str, **extra: object) -> None:
    for stream, template in lines:
        text = _text(template, ctx, version, **extra)
        (ctx.stderr if stream == "stderr" else ctx.stdout)(text + "\n")


def _flag_names(args: list[str]) -> set[str]:
    names: set[str] = set()
    for arg in args:
        if arg.startswith("-"):
            names.add(arg.lstrip("-").split("=", 1)[0])
    return names


def _flag_value(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1 :]
    return None


_SIGNAL_TEXT = {SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGHUP: "SIGHUP"}


def _client(request: Request) -> str:
    return _client_of(request.host)


@functools.lru_cache(maxsize=1024)
def _client_of(host_header: str) -> str:
    host = host_header.split(":")[0]
    return "127.0.0.1" if host in ("localhost", "127.0.0.1") else "10.244.0.1"


@functools.lru_cache(maxsize=1024)
def _user_agent(headers: tuple[tuple[str, str], ...]) -> str:
    """The User-Agent of a request's headers, ``-`` without one (access logs). Cached: a
    probe sends the same headers every period."""
    return next((v for k, v in headers if k.lower() == "user-agent"), "") or "-"


@functools.lru_cache(maxsize=256)
def _utf8_size(body: str) -> int:
    """Bytes of ``body`` in UTF-8 (an answer's size in the access log). Cached: a server
    sends the same few bodies over and over."""
    return len(body.encode())


#: the Common Log Format's time, ``01/Jan/2025:00:00:05 +0000``: always 26 characters
_CLF_FORMAT = CLF_FORMAT
_CLF_LENGTH = 26


def _clf(now: float) -> TimeText:
    """The ``{clf}`` value of an access-log line at ``now`` (whole seconds), for
    :func:`join_pieces` to format when the line is read."""
    return _clf_at(int(now))


@functools.lru_cache(maxsize=64)
def _clf_at(second: int) -> TimeText:
    # one object for all the lines of a second (a log keeps its lines' pieces)
    return TimeText(_CLF_FORMAT, second)


#: ``str`` of an answer's status or size, one object per distinct value (a log keeps its
#: lines' pieces: a thousand "200"s need not be a thousand strings)
_decimal = functools.lru_cache(maxsize=4096)(str)


@functools.lru_cache(maxsize=256)
def _extra_names(template: str) -> tuple[str, ...] | None:
    """The values ``template`` names when it is only literals and such values (no times,
    random fields or clock values of its own), else None."""
    names: list[str] = []
    for kind, arg in _compile(template):
        if kind == _VALUE:
            names.append(arg)
        elif kind != _LITERAL:
            return None
    return tuple(names)


#: access-log lines by their template and values but the time: (pieces with the time's
#: places, those places, size). A probe's lines differ only in their second.
_LINE_SHAPES: dict[tuple[object, ...], tuple[tuple[Any, ...], tuple[int, ...], int]] = {}


#: an access-log line's shape: its pieces (the time's places hold any time), those places,
#: and its size
LineShape = tuple[tuple[Any, ...], tuple[int, ...], int]


def _write_shape(later: Callable[[str, int, tuple[Any, ...]], None], stream: str, shape: LineShape,
                 second: int) -> None:
    """Write a line of a known shape with its time in the time's places: the ``int``
    second, which ``join_pieces`` formats as a Common Log Format time (a line of strings
    and ints is a tuple the garbage collector soon stops following)."""
    line, places, size = shape
    if places:
        parts = list(line)
        for i in places:
            parts[i] = second
        line = tuple(parts)
    later(stream, size, line)


def _access_log(ctx: ProcessContext, stream: str, template: str, version: str,
                extra: dict[str, object]) -> LineShape | None:
    """Write one access-log line. Its values (and random fields) are settled now; the text
    is made only when something reads the log (most lines of a long-lived server never
    are), where the context can take it later (``output_later``). A line made of values
    and literals only is put together from the last line of the same shape, which is
    returned (None for a line made part by part)."""
    later = getattr(ctx, "output_later", None)
    names = _extra_names(template) if later is not None else None
    if names is not None:
        key: list[object] = [template]
        clf: object = None
        for name in names:
            value = extra.get(name)
            if type(value) is str:
                key.append(value)
            elif type(value) is TimeText and value.format is _CLF_FORMAT and (
                    clf is None or value == clf):
                clf = value
                key.append(TimeText)
            else:  # missing, or a value of another kind: the line is made part by part
                break
        else:
            shape_key = tuple(key)
            shape = _LINE_SHAPES.get(shape_key)
            if shape is None:
                pieces = _resolve_parts(_compile(template), ctx, version, extra, ctx.now)
                pieces.append("\n")
                places = tuple(i for i, piece in enumerate(pieces) if piece is clf)
                size = sum(_CLF_LENGTH if type(piece) is TimeText else len(piece)
                           for piece in pieces)
                if len(_LINE_SHAPES) >= 4096:
                    _LINE_SHAPES.clear()
                shape = _LINE_SHAPES[shape_key] = (tuple(pieces), places, size)
            _write_shape(later, stream, shape, clf.seconds)  # type: ignore[attr-defined]
            return shape
    pieces = _resolve_parts(_compile(template), ctx, version, extra, ctx.now)
    pieces.append("\n")
    later = getattr(ctx, "output_later", None)
    if later is None:
        (ctx.stderr if stream == "stderr" else ctx.stdout)(join_pieces(tuple(pieces)))
        return None
    size = 0
    for i, piece in enumerate(pieces):
        if type(piece) is TimeText:
            if piece.format is _CLF_FORMAT:
                size += _CLF_LENGTH
                continue
            piece = pieces[i] = _moment(piece.seconds).strftime(piece.format)
        size += len(piece)
    later(stream, size, tuple(pieces))
    return None


def _select(entry: dict[str, Any], args: list[str]
            ) -> tuple[dict[str, Any], list[str], dict[str, Any] | None, str]:
    """A program with ``subcommands`` (agnhost): the chosen subcommand's entry (on top of
    the program's common keys) and its arguments, or the refusal to log."""
    subs: dict[str, dict[str, Any]] | None = entry.get("subcommands")
    if not subs:
        return entry, args, None, ""
    common = {k: v for k, v in entry.items()
              if k not in ("subcommands", "no_subcommand", "unknown_subcommand")}
    if not args or args[0].startswith("-") and args[0] in (entry.get("version_flags") or {}):
        return entry, args, entry.get("no_subcommand") or {"log": [], "exit": 0}, ""
    sub = subs.get(args[0])
    if sub is None:
        return entry, args, entry.get("unknown_subcommand") or {"log": [], "exit": 1}, args[0]
    return {**common, **sub}, args[1:], None, args[0]


def _listeners(entry: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The entry's listeners: ``[port, proto]`` pairs or objects with ``port`` (a number or
    expression), ``ports`` (a list parameter), ``proto``, ``only`` (``grpc``: refuses HTTP),
    ``answer`` (a fixed body for any request, UDP echo servers) and ``if``."""
    out: list[dict[str, Any]] = []
    for item in entry.get("listen") or []:
        if isinstance(item, list):
            item = {"port": item[0], "proto": item[1]}
        if "if" in item and not behaviours.truthy(item["if"], params):
            continue
        if "ports" in item:
            ports = params.get(str(item["ports"]).lstrip("$")) or []
        else:
            ports = [behaviours.number(item["port"], params)]
        for port in ports:
            if port is not None:
                out.append({**item, "port": int(port), "proto": str(item.get("proto", "tcp"))})
    return out


def _serve(ctx: ProcessContext, entry: dict[str, Any], argv: list[str], version: str) -> Program:
    started = ctx.now
    entry, args, refusal, sub = _select(entry, argv[1:])
    for flag, lines in (entry.get("version_flags") or {}).items():
        if flag in args:
            _log(ctx, lines, version)
            return 0
    if refusal is not None:
        _log(ctx, refusal.get("log") or [], version, sub=sub)
        return int(refusal.get("exit", 0))
    try:
        params = behaviours.parse_params(entry, args, ctx.env)
    except behaviours.ParamError as refused:
        _log(ctx, refused.lines, version, **refused.values)
        return refused.exit_code
    values = behaviours.template_values(params, argv)
    ctx.set_memory(behaviours.start_memory(entry, params))
    exits = entry.get("exits")
    if exits is not None:
        _log(ctx, exits.get("log") or [], version)
        return int(exits.get("exit", 0))
    required = entry.get("requires_env")
    if required is not None and not any(ctx.env.get(n) for n in required.get("any") or []):
        _log(ctx, required.get("log") or [], version)
        return int(required.get("exit", 1))
    flags = entry.get("requires_flags")
    if flags is not None and not set(flags.get("all") or []) <= _flag_names(args):
        _log(ctx, flags.get("log") or [], version)
        return int(flags.get("exit", 1))

    listeners = _listeners(entry, params)
    chosen = _flag_value(args, entry["port_flag"]) if entry.get("port_flag") else None
    if chosen is not None and chosen.isdigit() and listeners:
        listeners[0] = {**listeners[0], "port": int(chosen)}
    port = listeners[0]["port"] if listeners else 0
    values.setdefault("port", str(port))

    def log(lines: list[list[Any]], **extra: object) -> None:
        # a third element holds options: {"if": "$x"} logs only when x is set,
        # {"repeat": "$n"} logs the line n times
        plain: list[list[Any]] = []
        for line in lines:
            options = line[2] if len(line) > 2 else {}
            if "if" in options and not behaviours.truthy(options["if"], params):
                continue
            times = behaviours.number(options.get("repeat", 1), params) or 0
            plain += [list(line[:2])] * int(times)
        if entry.get("error_log_level_from"):  # nginx: lines below error_log's level drop
            plain = nginx_entrypoint.filter_level(plain, getattr(ctx, "fs", None),
                                                  str(entry["error_log_level_from"]))
        _log(ctx, plain, version, **{**values, **extra})

    stops: dict[int, dict[str, Any]] = {}
    listed: list[tuple[str, dict[str, Any]]] = [
        (key, entry[key]) for key in ("stop", "also_stop", "reload") if entry.get(key)
    ]
    listed += [("stops", stop) for stop in entry.get("stops") or []]
    for key, stop in listed:
        for name in stop.get("signals") or []:
            stops[_SIGNALS[name]] = {**stop, "reload": key == "reload"}
    for sig in stops:
        ctx.handle_signal(sig, True)
    if entry.get("go_signals") and ctx.is_pid1:
        for sig in (SIGTERM, SIGINT, SIGHUP, SIGQUIT):
            ctx.handle_signal(sig, True)

    state: dict[str, bool] = {"ready": False, **(entry.get("state") or {})}
    answers: dict[str, Any] = entry.get("http") or {}
    before: dict[str, Any] = entry.get("not_ready") or {}
    served: dict[str, Any] | None = entry.get("http_files")
    access: list[str] | None = entry.get("access_log")
    on_http: dict[str, Any] | None = entry.get("on_http")
    grpc: dict[str, Any] = entry.get("grpc") or {}

    fixed_headers: list[tuple[tuple[str, str], ...]] = []
    #: answers from files by path, each with the file system's generation it was read at:
    #: valid while nothing in the tree (or a tree mounted in it) changed
    file_answers: dict[str, tuple[tuple[int, ...], Response]] = {}

    def from_files(request: Request) -> tuple[Response, str, tuple[int, ...] | None]:
        """The answer to ``request`` from the served files, the path it was looked up at and
        the generation the answer holds for (None: made anew for every request)."""
        assert served is not None  # noqa: S101 - only called with http_files
        root = str(served["root"])
        path = request.path.split("?", 1)[0] or "/"
        target = root + (path if path.startswith("/") else "/" + path)
        generation: tuple[int, ...] | None = None
        if fixed_headers:
            headers = fixed_headers[0]
            generation_under = getattr(ctx.fs, "generation_under", None)
            generation = generation_under(target) if generation_under is not None else None
            if generation is not None:
                known = file_answers.get(target)
                if known is not None and known[0] == generation:
                    return known[1], target, generation
        else:
            server = str(served.get("server", ""))
            headers = (("Server", _text(server, ctx, version)),)
            if served.get("content_type"):
                headers += (("Content-Type", str(served["content_type"])),)
            if _fixed(server):  # the same for every request of this process
                fixed_headers.append(headers)
        not_found = str(served.get("not_found", ""))
        try:
            found = target
            if ctx.fs.is_dir(found):
                found = found.rstrip("/") + "/" + str(served.get("index", "index.html"))
            response = Response(200, ctx.fs.read(found), headers)
        except Exception:  # noqa: BLE001 - any file system error is a 404
            response = Response(404, _text(not_found, ctx, version), headers)
            if not _fixed(not_found):  # random or timed parts: made anew for each request
                return response, target, None
        if generation is not None:
            if len(file_answers) >= 64:
                file_answers.clear()
            file_answers[target] = (generation, response)
        return response, target, generation

    def answer(request: Request, now: float) -> Response:
        path, query = _split_path(request.path)
        table = answers if state["ready"] else {**answers, **before}
        found = table.get(path, table.get("*", [404, "404 page not found\n"]))
        uptime = now - started
        if isinstance(found, list):
            chosen: dict[str, Any] = {"status": found[0], "body": found[1]}
        else:
            chosen = next((case for case in found.get("cases") or []
                           if behaviours.holds(case.get("when"), params=params, uptime=uptime,
                                               state=state, path=request.path)), found)
        for key, flag in (chosen.get("set") or {}).items():
            state[key] = bool(flag)
        extra: dict[str, object] = {
            **values, "uptime_go": behaviours.go_duration(uptime), "client": _client(request),
            "path": request.path,
            **{f"q:{k}": v[0] for k, v in query.items()},
        }
        for name in re.findall(r"\{hq:([\w-]+)\}", json.dumps(chosen)):
            wanted = query.get(name, [""])[0].lower()
            extra[f"hq:{name}"] = next(
                (v for k, v in request.headers if k.lower() == wanted), "")
        headers = tuple((k, _text(str(v), ctx, version, **extra))
                        for k, v in chosen.get("headers") or [])
        return Response(int(chosen.get("status", 200)),
                        _text(str(chosen.get("body", "")), ctx, version, **extra), headers)

    def grpc_answer(request: Request, now: float) -> Response:
        chosen = next((case for case in grpc.get("cases") or []
                       if behaviours.holds(case.get("when"), params=params,
                                           uptime=now - started, state=state,
                                           service=request.service)), grpc)
        return Response(status=0, grpc_status=str(chosen.get("status", "UNIMPLEMENTED")))

    def handler_for(listener: dict[str, Any]) -> Handler:
        fixed = listener.get("answer")
        only = listener.get("only")
        #: the last answer from files and its access-log line: (request, answer given,
        #: line shape, path looked up, generation). The same request (a probe sends one
        #: Request object every period) gets the same answer and logs a line of the same
        #: shape while nothing under that path changed.
        last: list[Any] = [None, None, None, None, None]

        def handler(request: Request, now: float) -> Response:
            if last[0] is request and ctx.fs.generation_under(last[3]) == last[4]:  # type: ignore[attr-defined]
                _write_shape(ctx.output_later, access[0], last[2], int(now))  # type: ignore[attr-defined,index]
                return last[1]  # type: ignore[no-any-return]
            if fixed is not None:
                return Response(0, _text(str(fixed), ctx, version, **values))
            if request.kind == "tcp":
                return TCP_ACCEPTED
            if request.kind == "grpc":
                if only == "http":
                    return Response(status=0, grpc_status="UNIMPLEMENTED")
                return grpc_answer(request, now)
            if only == "grpc":
                return Response(status=0, refused=True)
            if on_http is not None:
                _log(ctx, on_http.get("log") or [], version)
                return Response(status=0, refused=True)
            target: str | None = None
            generation: tuple[int, ...] | None = None
            if served is not None:
                response, target, generation = from_files(request)
            elif answers:
                response = answer(request, now)
            else:
                return Response(status=0, refused=True)  # not an HTTP server
            head = request.method == "HEAD"
            if access is not None:
                stream, template = access
                try:
                    agent = _user_agent(request.headers)
                except TypeError:  # headers that cannot be a cache key (lists)
                    agent = _user_agent.__wrapped__(request.headers)
                shape = _access_log(ctx, stream, template, version, {
                    "client": _client(request), "clf": _clf(now), "method": request.method,
                    "path": request.path, "status": _decimal(response.status),
                    "size": _decimal(0 if head else _utf8_size(response.body)), "agent": agent})
                if head:
                    response = Response(response.status, "", response.headers)
                if shape is not None and generation is not None:
                    last[:] = (request, response, shape, target, generation)
                return response
            if head:
                return Response(response.status, "", response.headers)
            return response

        return handler

    handlers = [handler_for(listener) for listener in listeners]
    bound: list[tuple[int, str]] = []

    def bind() -> bool:
        for listener, handler in zip(listeners, handlers, strict=True):
            p, proto = listener["port"], listener["proto"]
            if not ctx.listen(p, proto, handler):
                lines = entry.get("bind_error") or [
                    ["stderr", f"listen {proto} 0.0.0.0:{p}: bind: address already in use"]]
                log(lines, port=p)
                return False
            bound.append((p, proto))
            log(listener.get("log") or [], port=p)
        return True

    def bind_with_retries() -> Program:
        """nginx binds before it forks: ``attempts`` tries ``interval`` apart. -1: bound,
        0: gave up, else the signal that came while waiting."""
        retries = entry["bind_retries"]
        first = listeners[0]
        for _attempt in range(int(retries["attempts"])):
            if ctx.listen(first["port"], first["proto"], handlers[0]):
                bound.append((first["port"], first["proto"]))
                return -1
            log(retries.get("log") or [], port=port)
            came = yield from _wait(ctx, float(retries["interval"]))
            if came is not None:
                return int(came)
        log(retries.get("final") or [], port=port)
        return 0

    try:
        log(nginx_entrypoint.adjust(entry.get("start_log") or [], ctx), port=port)
        if entry.get("listen_at_start") and not bind():
            return 1
        delay = behaviours.number(entry.get("start_seconds", 0), params) or 0.0
        signal = yield from _wait(ctx, delay)
        if signal is None:
            outcome = -1
            if entry.get("bind_retries"):
                outcome = yield from bind_with_retries()
                if outcome == 0:
                    return 1
            elif not entry.get("listen_at_start") and not bind():
                return 1
            if outcome == -1:
                state["ready"] = True
                log(entry.get("ready_log") or [], port=port)
            else:
                signal = outcome
        while True:
            if signal is None:
                what, code = yield from behaviours.live(ctx, entry, params, started=started,
                                                        log=log)
                if what == "exit":
                    return code
                signal = code
            stop = stops.get(signal)
            if stop is None:
                return 2  # a Go program's runtime handler as PID 1 (go_signals)
            name = _SIGNAL_TEXT.get(signal, str(signal))
            if stop.get("ignore_if") and behaviours.truthy(stop["ignore_if"], params):
                log(stop.get("ignored_log") or [], sig=name, port=port, signum=signal)
                signal = None
                continue
            log(stop.get("log") or [], sig=name, port=port, signum=signal)
            if stop["reload"]:
                signal = None
                continue
            if stop.get("state"):
                state[str(stop["state"])] = True
            seconds = behaviours.number(stop.get("seconds", 0), params) or 0.0
            until = ctx.now + seconds
            while ctx.now < until - 1e-9:  # later signals do not hurry the shutdown
                yield from _wait(ctx, until - ctx.now)
            log(stop.get("after_log") or entry.get("after_stop_log") or [], sig=name,
                port=port, signum=signal)
            if not ctx.is_pid1 and stop.get("exit_if_not_pid1") == "signal":
                return 128 + signal
            return int(behaviours.number(stop.get("exit", 0), params) or 0)
    finally:
        for p, proto in bound:
            ctx.unlisten(p, proto)


def _wait(ctx: ProcessContext, seconds: float | None) -> Program:
    """Wait ``seconds`` (None: for ever); the signal that came, or None."""
    try:
        if seconds is None:
            yield WaitForever()
        elif seconds > 0:
            yield Sleep(seconds)
    except Signalled as sig:
        return sig.signal
    return None


__all__ = ["families", "files", "handles", "program", "spec", "strip_wrappers", "tool"]
