"""The generic pieces a ``data/servers.json`` entry is built from, beyond a plain server.

* **Parameters** (``params``): values read from the command line (Go/cobra flags, getopt
  options, positional arguments) or the environment, typed (``int``, ``count``, ``number``,
  ``seconds``, ``go_duration``, ``stress_duration``, ``bytes``, ``bool``, ``string``,
  ``url_ports``), with defaults and the program's own refusal when a value does not parse.
* **Expressions**: a number, ``"$name"``, or ``$a * $b + 5570560`` (``+ - * /``, and
  ``uptime``); a missing (null) parameter makes the whole expression null.
* **Conditions** (``when``): ``uptime_at_least``, ``uptime_over``, ``uptime_below``,
  ``at_least`` (``[a, b]``: a >= b), ``state``,
  ``not_state``, ``param`` (truthy), ``path_prefix``, ``service_not_in``; all must hold.
* **The life of a running program** (:func:`live`): memory at start, growing per second or
  ramping up in steps, CPU burnt per second, periodic log lines, generated log lines, and timed
  exits (``ends``). It returns when a handled signal arrives or an exit is due.

Nothing here knows an image; ``servers.py`` runs the entries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Generator
from typing import Any

from podlab.engine.runtime.process import CpuWork, ProcessContext, Signalled, Sleep, WaitForever

MiB = 1024 * 1024
Lines = list[list[Any]]
LogFn = Callable[..., None]


class ParamError(Exception):
    """A parameter the program refuses: its log lines (with values) and exit code."""

    def __init__(self, lines: Lines, exit_code: int, values: dict[str, str]) -> None:
        super().__init__(exit_code)
        self.lines = lines
        self.exit_code = exit_code
        self.values = values


# --- values -----------------------------------------------------------------------------

_BINARY_UNITS = {"": 1, "B": 1, "b": 1, "K": 1024, "k": 1024, "Ki": 1024, "M": MiB, "m": MiB,
                 "Mi": MiB, "G": 1024 * MiB, "g": 1024 * MiB, "Gi": 1024 * MiB}
_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0,
            "": 1.0}


def _parse(kind: str, raw: str, spec: dict[str, Any]) -> Any:
    """``raw`` as a value of ``kind``; raises ValueError when it does not parse."""
    text = raw.strip()
    if kind == "string":
        return raw
    if kind == "bool":
        return text.lower() in ("1", "true", "yes", "on")
    if kind == "int" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind == "count" and re.fullmatch(r"\d+", text):
        return int(text)
    if kind == "number" and re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return float(text)
    patterns = {
        "seconds": r"(\d+(?:\.\d+)?)(ms|s|m|h)?",
        "go_duration": r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)?",
        "stress_duration": r"(\d+)([smhd]?)",
    }
    if kind in patterns:
        m = re.fullmatch(patterns[kind], text)
        if m:
            return float(m.group(1)) * _SECONDS[m.group(2) or ""]
    if kind == "bytes":
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-zA-Z]*)", text)
        if m and m.group(2) in _BINARY_UNITS:
            return int(float(m.group(1)) * _BINARY_UNITS[m.group(2)])
    if kind == "url_ports":
        default = int(spec.get("default_port", 0))
        ports: list[int] = []
        for url in filter(None, text.split(",")):
            m = re.fullmatch(r"[a-z]+://(\[[^]]*\]|[^:/]*)(?::(\d+))?/?", url)
            if not m:
                raise ValueError(raw)
            ports.append(int(m.group(2)) if m.group(2) else default)
        return sorted(set(ports))
    raise ValueError(raw)


def fmt(value: Any) -> str:
    """How a value is written in a log line: ``1.5``, ``10``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(fmt(v) for v in value)
    return "" if value is None else str(value)


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration`` text for whole and fractional seconds (``10.5``)."""
    text = repr(round(seconds, 9))
    return text[:-2] if text.endswith(".0") else text


def _names(spec: dict[str, Any]) -> list[str]:
    flag = spec.get("flag")
    return [flag] if isinstance(flag, str) else list(flag or [])


def parse_params(entry: dict[str, Any], args: list[str], env: dict[str, str]
                 ) -> dict[str, Any]:
    """The entry's parameters from ``args`` and ``env`` (defaults where absent).

    Raises :class:`ParamError` with the program's own message for a value that does not
    parse, is out of range, or (``options.strict``) for an option it does not know."""
    specs: dict[str, dict[str, Any]] = entry.get("params") or {}
    options: dict[str, Any] = entry.get("options") or {}
    by_flag = {name: key for key, spec in specs.items() for name in _names(spec)}
    switches = set(options.get("switches") or [])
    given: dict[str, tuple[str, str]] = {}  # key -> (raw, option as written)
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional += args[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            i += 1
            continue
        name, has_value, value = arg.lstrip("-").partition("=")
        key = by_flag.get(name)
        wants_value = key is not None and specs[key].get("type", "string") != "bool"
        if name in switches:
            i += 1
            continue
        if key is None and options.get("strict"):
            raise ParamError(options.get("unknown") or [], int(options.get("unknown_exit", 1)),
                             {"option": arg})
        if not has_value:
            if wants_value and (options.get("strict") or i + 1 < len(args)):
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 1
            elif key is None and i + 1 < len(args) and not args[i + 1].startswith("-"):
                i += 1  # a Go flag we do not model takes the next word
            else:
                value = "true"
        if key is not None:
            given[key] = (value, arg)
        i += 1
    params: dict[str, Any] = {}
    for key, spec in specs.items():
        raw: str | None = None
        shown = ""
        if key in given:
            raw, shown = given[key]
        elif spec.get("env") and env.get(spec["env"], "").strip():
            raw, shown = env[spec["env"]], spec["env"]
        elif "positional" in spec and int(spec["positional"]) < len(positional):
            raw = shown = positional[int(spec["positional"])]
        if raw is None:
            params[key] = spec.get("default")
            params["raw:" + key] = str(spec.get("default_text", fmt(spec.get("default"))))
            continue
        values = {"raw": raw, "option": shown, "name": spec.get("env") or shown,
                  "flag": shown.lstrip("-").split("=", 1)[0],
                  "want": str(spec.get("want", ""))}
        try:
            value = _parse(str(spec.get("type", "string")), raw, spec)
        except ValueError:
            refusal = spec.get("invalid") or entry.get("invalid_param") or {}
            raise ParamError(refusal.get("log") or [], int(refusal.get("exit", 1)),
                             values) from None
        low, high = spec.get("min"), spec.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            refusal = spec.get("out_of_range") or entry.get("invalid_param") or {}
            raise ParamError(refusal.get("log") or [], int(refusal.get("exit", 1)),
                             {**values, "want": str(spec.get("range_want", values["want"]))})
        params[key] = value
        params["raw:" + key] = raw
    return params


def template_values(params: dict[str, Any], argv: list[str]) -> dict[str, str]:
    """What log templates may name: every parameter, ``raw:NAME``, ``NAME.0`` for lists,
    ``argv_json`` (the command line as a JSON list body)."""
    values = {key: fmt(value) for key, value in params.items()}
    for key, value in params.items():
        if isinstance(value, list) and value:
            values[key + ".0"] = fmt(value[0])
    values["argv_json"] = json.dumps(argv, separators=(",", ":"))[1:-1]
    return values


# --- expressions and conditions -----------------------------------------------------------

_TOKEN = re.compile(r"\s*(\$[\w:]+|uptime|\d+(?:\.\d+)?|[-+*/])")


def number(expr: Any, params: dict[str, Any], uptime: float = 0.0) -> float | None:
    """The value of a number or an expression over parameters; None when one is null."""
    if expr is None or isinstance(expr, bool):
        return None if expr is None else float(expr)
    if isinstance(expr, int | float):
        return float(expr)
    tokens = _TOKEN.findall(str(expr))
    if "".join(tokens).replace(" ", "") != str(expr).replace(" ", ""):
        raise ValueError(f"bad expression {expr!r}")

    def atom(word: str) -> float | None:
        if word == "uptime":
            return uptime
        if word.startswith("$"):
            value = params.get(word[1:])
            if value is None:
                return None
            if isinstance(value, list):
                return float(len(value))
            return float(value)
        return float(word)

    # terms joined by + and -, each a product of atoms joined by * and /
    total: float | None = 0.0
    sign = 1.0
    product: float | None = None
    op = "*"
    for word in tokens:
        if word in ("+", "-"):
            if product is None or total is None:
                return None
            total += sign * product
            sign, product, op = (1.0 if word == "+" else -1.0), None, "*"
        elif word in ("*", "/"):
            op = word
        else:
            value = atom(word)
            if value is None:
                return None
            if product is None:
                product = value
            elif op == "*":
                product *= value
            else:
                product = product / value if value else 0.0
    if product is None or total is None:
        return None
    return total + sign * product


def truthy(expr: Any, params: dict[str, Any]) -> bool:
    if isinstance(expr, str) and expr.startswith("$") and " " not in expr:
        value = params.get(expr[1:])
        return bool(value)
    value = number(expr, params)
    return bool(value)


def holds(when: dict[str, Any] | None, *, params: dict[str, Any], uptime: float,
          state: dict[str, bool], path: str = "", service: str = "") -> bool:
    """True when every condition of ``when`` holds (a null bound never holds)."""
    for key, expr in (when or {}).items():
        if key in ("uptime_at_least", "uptime_over", "uptime_below"):
            bound = number(expr, params)
            if bound is None:
                return False
            met = {"uptime_at_least": uptime >= bound, "uptime_over": uptime > bound,
                   "uptime_below": uptime < bound}[key]
            if not met:
                return False
        elif key == "at_least":
            low, high = (number(e, params) for e in expr)
            if low is None or high is None or low < high:
                return False
        elif key == "state":
            if not state.get(str(expr)):
                return False
        elif key == "not_state":
            if state.get(str(expr)):
                return False
        elif key == "param":
            if not truthy(expr, params):
                return False
        elif key == "path_prefix":
            if not path.startswith(str(expr)):
                return False
        elif key == "service_not_in":
            names = {fmt(params.get(n[1:])) if n.startswith("$") else n for n in expr}
            if service in names:
                return False
        else:
            raise ValueError(f"unknown condition {key!r}")
    return True


# --- the life of a running program -------------------------------------------------------


def start_memory(entry: dict[str, Any], params: dict[str, Any]) -> int:
    memory = entry.get("memory")
    if memory is None:
        return int(float(entry.get("memory_mib", 8)) * MiB)
    return int(number(memory.get("start", 0), params) or 0)


def live(ctx: ProcessContext, entry: dict[str, Any], params: dict[str, Any], *,
         started: float, log: LogFn) -> Generator[Any, object, tuple[str, int]]:
    """Run the entry's timeline until a handled signal (``("signal", n)``) or a timed exit
    (``("exit", code)``). ``log(lines, **extra)`` writes log lines."""
    anchor = ctx.now
    events: list[tuple[float, str, int]] = []  # (when, what, n)

    memory = entry.get("memory") or {}
    base_memory = start_memory(entry, params)
    growth = number(memory.get("growth_per_second"), params) or 0.0
    ramp = memory.get("ramp")
    ramp_value = 0.0
    steps = 0
    if ramp is not None:
        amount = number(ramp.get("amount"), params) or 0.0
        every = number(ramp.get("every"), params) or 0.0
        if "step" in ramp:
            chunk = number(ramp["step"], params) or amount or 1.0
            steps = math.ceil(amount / chunk) if amount else 0
        else:
            steps = int(number(ramp.get("steps"), params) or 0) if amount else 0
        if steps > 200:  # report in at most 200 steps over the same time
            every, steps = every * steps / 200, 200
        ramp_base = number(ramp.get("base"), params)
        first = 0 if ramp.get("immediate") else 1  # allocate, then sleep (vish/stress)
        for k in range(1, steps + 1):
            events.append((anchor + (k - 1 + first) * every, "ramp", k))
    if growth:
        events.append((started + 1, "grow", 1))
    tick = entry.get("tick")
    tick_every = number(tick.get("seconds"), params) if tick else None
    if tick and tick_every:
        origin = started if tick.get("from_start") else anchor
        events.append((origin + tick_every, "tick", 1))
    lines = entry.get("log_lines")
    line_count = int(number(lines.get("count"), params) or 0) if lines else 0
    line_step = (number(lines.get("over"), params) or 0.0) / max(line_count, 1) if lines else 0.0
    if lines:
        events.append((anchor, "line", 0))
    for index, end in enumerate(entry.get("ends") or []):
        after = number(end.get("after"), params)
        if after is not None:
            events.append((started + after, "end", index))
    cpu = number(entry.get("cpu"), params) or 0.0

    def current_memory(now: float) -> int:
        base = base_memory if ramp is None or ramp_value == 0 else (ramp_base or 0) + ramp_value
        return int(base + growth * (now - started))

    while True:
        now = ctx.now
        events.sort()
        while events and events[0][0] <= now + 1e-9:
            _, what, n = events.pop(0)
            if what == "ramp" and ramp is not None:
                ramp_value = (number(ramp.get("amount"), params) or 0.0) * n / steps
                ctx.set_memory(current_memory(now))
                if n == steps:
                    log(ramp.get("done_log") or [])
            elif what == "grow":
                ctx.set_memory(current_memory(now))
                events.append((started + n + 1, "grow", n + 1))
            elif what == "tick" and tick is not None and tick_every:
                log(tick.get("log") or [], tick=n, uptime=fmt(round(now - started, 6)))
                origin = started if tick.get("from_start") else anchor
                events.append((origin + (n + 1) * tick_every, "tick", n + 1))
            elif what == "line" and lines is not None:
                if n >= line_count:
                    return ("exit", int(lines.get("exit", 0)))
                log([lines["line"]], i=n)
                events.append((anchor + (n + 1) * line_step, "line", n + 1))
            elif what == "end":
                end = (entry.get("ends") or [])[n]
                log(end.get("log") or [], uptime_int=int(now - started + 1e-9))
                return ("exit", int(number(end.get("exit", 0), params) or 0))
            events.sort()
        until = events[0][0] if events else None
        try:
            if cpu > 0:
                chunk = 1.0 if until is None else max(1e-6, min(1.0, until - now))
                yield CpuWork(cpu * chunk)
            elif until is None:
                yield WaitForever()
            else:
                yield Sleep(max(0.0, until - now))
        except Signalled as sig:
            return ("signal", sig.signal)


__all__ = ["ParamError", "fmt", "go_duration", "holds", "live", "number", "parse_params",
           "start_memory", "template_values", "truthy"]
