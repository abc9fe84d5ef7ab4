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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from podlab.engine.runtime import nginx_entrypoint
from podlab.engine.runtime.libc import is_musl
from podlab.engine.runtime.process import (
    SIGHUP,
    SIGINT,
    SIGQUIT,
    SIGTERM,
    Connect,
    ProcessContext,
    Program,
    Request,
    Response,
    Signalled,
    Sleep,
    WaitForever,
)
from podlab.engine.runtime.shell.applets import EPOCH

DATA = Path(__file__).with_name("data") / "servers.json"
_SIGNALS = {"TERM": SIGTERM, "INT": SIGINT, "QUIT": SIGQUIT, "HUP": SIGHUP}
MiB = 1024 * 1024


@functools.cache
def families() -> dict[str, dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        loaded: dict[str, dict[str, Any]] = json.load(fh)["families"]
    return loaded


def spec(family: str) -> dict[str, Any] | None:
    return families().get(family)


def files(family: str) -> dict[str, str]:
    """The programs a family's image holds (paths → a binary marker)."""
    entry = spec(family) or {}
    paths: list[str] = []
    for table in ("executables", "entry"):
        paths.extend((entry.get(table) or {}).values())
    paths.extend(entry.get("files") or [])
    paths.extend(str(t["path"]) for t in (entry.get("tools") or {}).values() if t.get("path"))
    return dict.fromkeys(paths, "\x7fELF (simulated binary)\n")


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


def _text(template: str, ctx: ProcessContext, version: str, **extra: object) -> str:
    moment = EPOCH + timedelta(seconds=ctx.now)
    values = {
        "version": version,
        "pod_ip": ctx.pod_ip,
        "hostname": ctx.hostname,
        "epoch": str(int(moment.timestamp())),
        "ms": f"{moment.microsecond // 1000:03d}",
        # strerror(EADDRINUSE) as the image's C library words it: glibc "Address already in
        # use", musl (Alpine) "Address in use" (musl src/errno/__strerror.h; glibc
        # sysdeps/gnu/errlist). httpd prints it as "(98)<strerror>: AH00072: ..." (server/log.c
        # puts "(%d)" and apr_strerror before the message of server/listen.c make_sock).
        "eaddrinuse": (
            "Address in use" if is_musl(getattr(ctx, "fs", None)) else "Address already in use"
        ),
        **{k: str(v) for k, v in extra.items()},
    }
    out: list[str] = []
    i = 0
    while i < len(template):
        if template.startswith("{{", i):
            out.append("{")
            i += 2
            continue
        if template.startswith("}}", i):
            out.append("}")
            i += 2
            continue
        if template[i] == "{":
            end = template.index("}", i)
            name = template[i + 1 : end]
            if name.startswith("t:"):
                out.append(moment.strftime(name[2:]))
            else:
                out.append(values.get(name, ""))
            i = end + 1
            continue
        out.append(template[i])
        i += 1
    return "".join(out)


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
    host = request.host.split(":")[0]
    return "127.0.0.1" if host in ("localhost", "127.0.0.1") else "10.244.0.1"


def _clf(now: float) -> str:
    return (EPOCH + timedelta(seconds=int(now))).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _serve(ctx: ProcessContext, entry: dict[str, Any], argv: list[str], version: str) -> Program:
    args = argv[1:]
    for flag, lines in (entry.get("version_flags") or {}).items():
        if flag in args:
            _log(ctx, lines, version)
            return 0
    ctx.set_memory(int(float(entry.get("memory_mib", 8)) * MiB))
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

    ports = [(int(p), str(proto)) for p, proto in entry.get("listen") or []]
    chosen = _flag_value(args, entry["port_flag"]) if entry.get("port_flag") else None
    if chosen is not None and chosen.isdigit() and ports:
        ports[0] = (int(chosen), ports[0][1])
    port = ports[0][0] if ports else 0

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

    state = {"ready": False}
    answers: dict[str, list[Any]] = entry.get("http") or {}
    before: dict[str, list[Any]] = entry.get("not_ready") or {}
    served: dict[str, Any] | None = entry.get("http_files")
    access: list[str] | None = entry.get("access_log")
    on_http: dict[str, Any] | None = entry.get("on_http")

    def from_files(request: Request) -> Response:
        assert served is not None  # noqa: S101 - only called with http_files
        root = str(served["root"])
        path = request.path.split("?", 1)[0] or "/"
        target = root + (path if path.startswith("/") else "/" + path)
        headers: tuple[tuple[str, str], ...] = (
            ("Server", _text(str(served.get("server", "")), ctx, version)),
        )
        if served.get("content_type"):
            headers += (("Content-Type", str(served["content_type"])),)
        try:
            if ctx.fs.is_dir(target):
                target = target.rstrip("/") + "/" + str(served.get("index", "index.html"))
            return Response(200, ctx.fs.read(target), headers)
        except Exception:  # noqa: BLE001 - any file system error is a 404
            return Response(404, _text(str(served.get("not_found", "")), ctx, version), headers)

    def handler(request: Request, now: float) -> Response:
        if request.kind == "tcp":
            return Response(status=0)
        if request.kind == "grpc":
            return Response(status=0, grpc_status="UNIMPLEMENTED")
        if on_http is not None:
            _log(ctx, on_http.get("log") or [], version)
            return Response(status=0, refused=True)
        if served is not None:
            response = from_files(request)
        elif answers:
            path = request.path.split("?", 1)[0]
            table = answers if state["ready"] else {**answers, **before}
            status, body = table.get(path, [404, "404 page not found\n"])
            response = Response(int(status), _text(str(body), ctx, version))
        else:
            return Response(status=0, refused=True)  # not an HTTP server
        head = request.method == "HEAD"
        if access is not None:
            stream, template = access
            agent = next((v for k, v in request.headers if k.lower() == "user-agent"), "") or "-"
            line = _text(template, ctx, version, client=_client(request), clf=_clf(now),
                         method=request.method, path=request.path, status=response.status,
                         size=0 if head else len(response.body.encode()), agent=agent)
            (ctx.stderr if stream == "stderr" else ctx.stdout)(line + "\n")
        if head:
            return Response(response.status, "", response.headers)
        return response

    bound: list[tuple[int, str]] = []

    def bind() -> bool:
        for p, proto in ports:
            if not ctx.listen(p, proto, handler):
                lines = entry.get("bind_error") or [
                    ["stderr", f"listen {proto} 0.0.0.0:{p}: bind: address already in use"]]
                _log(ctx, lines, version, port=p)
                return False
            bound.append((p, proto))
        return True

    def bind_with_retries() -> Program:
        """nginx binds before it forks: ``attempts`` tries ``interval`` apart. -1: bound,
        0: gave up, else the signal that came while waiting."""
        retries = entry["bind_retries"]
        for _attempt in range(int(retries["attempts"])):
            if ctx.listen(ports[0][0], ports[0][1], handler):
                bound.append(ports[0])
                return -1
            _log(ctx, retries.get("log") or [], version, port=port)
            came = yield from _wait(ctx, float(retries["interval"]))
            if came is not None:
                return int(came)
        _log(ctx, retries.get("final") or [], version, port=port)
        return 0

    try:
        start_log = entry.get("start_log") or []
        _log(ctx, nginx_entrypoint.adjust(start_log, getattr(ctx, "fs", None)), version, port=port)
        if entry.get("listen_at_start") and not bind():
            return 1
        signal = yield from _wait(ctx, float(entry.get("start_seconds", 0)))
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
                _log(ctx, entry.get("ready_log") or [], version, port=port)
            else:
                signal = outcome
        tick = entry.get("tick")
        while True:
            while signal is None:
                signal = yield from _wait(ctx, float(tick["seconds"]) if tick else None)
                if signal is None and tick:
                    _log(ctx, tick.get("log") or [], version)
            stop = stops.get(signal)
            if stop is None:
                return 2  # a Go program's runtime handler as PID 1 (go_signals)
            name = _SIGNAL_TEXT.get(signal, str(signal))
            _log(ctx, stop.get("log") or [], version, sig=name, port=port, signum=signal)
            if stop["reload"]:
                signal = None
                continue
            yield Sleep(float(stop.get("seconds", 0)))
            _log(ctx, stop.get("after_log") or entry.get("after_stop_log") or [], version,
                 sig=name, port=port, signum=signal)
            return int(stop.get("exit", 0))
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
