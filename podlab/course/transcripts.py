"""Console transcripts produced by the engine, so a lesson's output cannot drift from the lab.

A lesson writes, on a line of its own::

    [[kubectl:EXAMPLE@SECONDS COMMAND]]
    [[kubectl:EXAMPLE@SECONDS COMMAND | PODSIM OPTIONS]]

``EXAMPLE`` is a lesson example id, ``SECONDS`` the simulated moment after the example was
applied, ``COMMAND`` what a learner would type after ``kubectl`` (``get pod NAME``,
``get pods -w``, ``describe pod NAME``, ``logs NAME -c C --previous``, ``get events``, ...).
The optional part after `` | `` holds ``podsim`` options for what happens meanwhile
(``--delete-at 10``, ``--lose-node node-1@60``, another example as ``+EXAMPLE@SECONDS``),
``show=events`` to print only the Events part of a ``describe``, and ``tail=N`` for the last N
lines (shown as ``| tail -n N``).

The transcript is what ``podsim`` (``podlab.engine.cli``) prints for that run: the engine's own
output, whatever the engine currently says. Runs are cached per process.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .content import CourseError, Example

TRANSCRIPT_RE = re.compile(
    r"^\[\[kubectl:(?P<example>[a-z0-9][a-z0-9-]*)@(?P<at>\d+(?:\.\d+)?)\s+"
    r"(?P<command>.+?)(?:\s+\|\s+(?P<options>.*?))?\s*\]\]\s*$"
)
HANDWRITTEN_RE = re.compile(r"^\[\[handwritten\]\]\s*$")

GET_OUTPUTS = {
    "pod": "table", "pods": "table", "po": "table",
    "events": "events", "event": "events", "ev": "events",
    "services": "services", "service": "services", "svc": "services",
    "endpoints": "endpoints", "ep": "endpoints",
    "deployments": "deployments", "deployment": "deployments", "deploy": "deployments",
    "replicasets": "replicasets", "replicaset": "replicasets", "rs": "replicasets",
    "jobs": "jobs", "job": "jobs",
    "all": "all",
    "nodes": "nodes", "node": "nodes", "no": "nodes",
    "namespaces": "namespaces", "namespace": "namespaces", "ns": "namespaces",
    "serviceaccounts": "serviceaccounts", "serviceaccount": "serviceaccounts",
    "sa": "serviceaccounts",
}


@dataclass(frozen=True)
class Transcript:
    """One directive: the example, the moment, the kubectl command and the engine options."""

    example: str
    at: float
    command: str
    options: tuple[str, ...] = ()
    extra: tuple[tuple[str, float], ...] = ()
    show: str = ""
    tail: int = 0
    static: str = ""  # NODE@SECONDS: the example is a static Pod manifest put on NODE
    unstatic: str = ""  # NODE@SECONDS: that manifest is removed again

    @property
    def key(self) -> str:
        return f"{self.example}@{_number(self.at)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_directive(line: str) -> Transcript | None:
    """The transcript a directive line asks for, or None when the line is not one."""
    match = TRANSCRIPT_RE.match(line.strip())
    if not match:
        return None
    options: list[str] = []
    extra: list[tuple[str, float]] = []
    show = ""
    tail = 0
    static = unstatic = ""
    for word in shlex.split(match["options"] or ""):
        if word.startswith("+"):
            name, _, at = word[1:].partition("@")
            try:
                extra.append((name, float(at or 0)))
            except ValueError:
                raise CourseError(f"{line.strip()}: bad extra example {word!r}") from None
        elif word.startswith("show="):
            show = word.removeprefix("show=")
        elif word.startswith("static="):
            static = word.removeprefix("static=")
        elif word.startswith("unstatic="):
            unstatic = word.removeprefix("unstatic=")
        elif word.startswith("tail=") and word.removeprefix("tail=").isdigit():
            tail = int(word.removeprefix("tail="))
        else:
            options.append(word)
    return Transcript(
        example=match["example"],
        at=float(match["at"]),
        command=" ".join(match["command"].split()),
        options=tuple(options),
        extra=tuple(extra),
        show=show,
        tail=tail,
        static=static,
        unstatic=unstatic,
    )


@dataclass(frozen=True)
class _View:
    argv: tuple[str, ...]
    name: str = ""  # only this object's rows or section
    kind: str = "table"
    template: str = ""  # -o jsonpath=TEMPLATE


def _name_in(words: list[str], skip: int) -> str:
    names = [w for i, w in enumerate(words) if i != skip and not w.startswith("-") and w != "-o"]
    if len(names) != 1:
        raise CourseError("kubectl get ... -o jsonpath: name exactly one Pod")
    return names[0]


JSONPATH_STEP_RE = re.compile(
    r"\.(?P<field>[A-Za-z0-9_]+)|\[(?P<index>\d+|\*)\]"
    r"|\[\?\(@\.(?P<key>[A-Za-z0-9_]+)==\"(?P<value>[^\"]*)\"\)\]"
)


def _walk(values: list, path: str) -> list:
    position = 0
    while position < len(path):
        step = JSONPATH_STEP_RE.match(path, position)
        if not step:
            raise CourseError(f"jsonpath: unsupported expression {path!r}")
        position = step.end()
        nxt = []
        for value in values:
            if step["field"] is not None and isinstance(value, dict) and step["field"] in value:
                nxt.append(value[step["field"]])
            elif step["index"] == "*" and isinstance(value, list):
                nxt.extend(value)
            elif step["index"] not in (None, "*") and isinstance(value, list):
                if int(step["index"]) < len(value):
                    nxt.append(value[int(step["index"])])
            elif step["key"] is not None and isinstance(value, list):
                nxt.extend(v for v in value if isinstance(v, dict)
                           and str(v.get(step["key"])) == step["value"])
        values = nxt
    return values


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def jsonpath(obj: dict, template: str) -> str:
    """The subset of kubectl's JSONPath the lessons use: fields, [N], [*], [?(@.k=="v")],
    quoted literals and one level of {range}...{end}."""
    template = template.strip("'")
    out: list[str] = []
    parts = re.split(r"(\{[^{}]*\})", template)
    i = 0

    def expand(expr: str, scope: object) -> str:
        expr = expr.strip()
        if expr.startswith('"') and expr.endswith('"'):
            return expr[1:-1].encode().decode("unicode_escape")
        if expr == "@":
            return _scalar(scope)
        if expr.startswith("@"):
            expr = expr[1:]
        values = _walk([scope], expr)
        return " ".join(_scalar(v) for v in values)

    while i < len(parts):
        part = parts[i]
        if part.startswith("{range "):
            items = _walk([obj], part[len("{range "):-1].strip())
            body = []
            i += 1
            while i < len(parts) and parts[i] != "{end}":
                body.append(parts[i])
                i += 1
            for item in items:
                for piece in body:
                    out.append(expand(piece[1:-1], item) if piece.startswith("{") else piece)
        elif part.startswith("{"):
            out.append(expand(part[1:-1], obj))
        else:
            out.append(part)
        i += 1
    return "".join(out)


def _view(command: str) -> _View:
    """Translate a kubectl command line into podsim's output options."""
    words = shlex.split(command)
    if not words:
        raise CourseError("empty kubectl command")
    verb, rest = words[0], words[1:]
    if verb == "get":
        if not rest or rest[0] not in GET_OUTPUTS:
            raise CourseError(f"kubectl {command}: unsupported resource")
        output = GET_OUTPUTS[rest[0]]
        name = ""
        argv: list[str] = []
        watch = False
        words_after = rest[1:]
        for index, word in enumerate(words_after):
            if word.startswith("custom-columns="):
                names = [w for i, w in enumerate(words_after)
                         if i != index and not w.startswith("-")]
                return _View(argv=("-o", "json"), name=names[0] if names else "",
                             kind="custom-columns", template=word.split("=", 1)[1])
            if word.startswith("-o=jsonpath=") or word.startswith("jsonpath="):
                template = word.split("jsonpath=", 1)[1]
                return _View(argv=("-o", "json"), name=_name_in(words_after, index),
                             kind="jsonpath", template=template)
        for word in rest[1:]:
            if word in ("-w", "--watch"):
                watch = True
            elif word in ("-o", "wide"):
                if word == "wide":
                    if output != "table":
                        raise CourseError(f"kubectl {command}: -o wide only for pods")
                    output = "wide"
            elif word == "-owide":
                output = "wide"
            elif word == "--sort-by=.lastTimestamp" and output == "events":
                pass  # the rows are sorted after the run
            elif word == "--sort-by=.lastTimestamp":
                raise CourseError(f"kubectl {command}: --sort-by only for events")
            elif word.startswith("-"):
                raise CourseError(f"kubectl {command}: unsupported flag {word}")
            else:
                name = word
        argv += ["-o", output]
        if watch:
            if output not in ("table", "wide"):
                raise CourseError(f"kubectl {command}: -w only for pods")
            argv.append("-w")
        sort = "--sort-by=.lastTimestamp" in rest
        return _View(argv=tuple(argv), name=name,
                     kind="watch" if watch else ("events-sorted" if sort else output))
    if verb == "describe":
        if not rest or rest[0] not in ("pod", "pods", "po"):
            raise CourseError(f"kubectl {command}: only pods can be described")
        name = rest[1] if len(rest) > 1 else ""
        return _View(argv=("-o", "describe"), name=name, kind="describe")
    if verb == "logs":
        argv = ["-o", "logs"]
        name = ""
        it = iter(rest)
        for word in it:
            if word in ("-c", "--container"):
                argv += ["-c", next(it, "")]
            elif word in ("-p", "--previous"):
                argv.append("-p")
            elif word.startswith("-"):
                raise CourseError(f"kubectl {command}: unsupported flag {word}")
            else:
                name = word
        return _View(argv=tuple(argv), name=name, kind="logs")
    raise CourseError(f"kubectl {command}: unsupported command")


def _only_rows(text: str, name: str) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    head, rows = lines[0], lines[1:]
    kept = [row for row in rows if row.split()[:1] == [name]
            or row.split()[:1] == [f"pod/{name}"]]
    if not kept:
        raise CourseError(f"no row named {name!r} in:\n{text}")
    return head + "".join(kept)


def _only_section(text: str, name: str) -> str:
    """The part of a multi-Pod ``describe`` about Pod ``name``."""
    sections = re.split(r"\n\n(?=Name:)", text)
    for section in sections:
        if re.match(rf"Name:\s+{re.escape(name)}\n", section):
            return section if section.endswith("\n") else section + "\n"
    raise CourseError(f"no Pod named {name!r} to describe")


LOG_PREFIX_RE = re.compile(r"^\[pod/(?P<pod>[^/\]]+)/(?P<container>[^\]]+)\] ?")


def _one_pod_logs(text: str, name: str) -> str:
    """podsim prefixes each line with its Pod and container; ``kubectl logs POD`` does not."""
    lines = text.splitlines(keepends=True)
    matches = [LOG_PREFIX_RE.match(line) for line in lines]
    if not any(matches):
        return text  # already one container's log (-c)
    kept = [(m, line) for m, line in zip(matches, lines, strict=True) if m and m["pod"] == name]
    containers = {m["container"] for m, _ in kept}
    if len(containers) > 1:
        raise CourseError(f"kubectl logs {name}: name a container with -c")
    return "".join(line[m.end():] for m, line in kept)


def _describe_section(text: str, name: str, key: str) -> str:
    """One top-level section of a ``describe`` (``show=conditions``: ``Conditions:`` and its
    indented lines), between ``...`` marks."""
    lines = text.splitlines(keepends=True)
    heading = name.capitalize() + ":"
    for index, line in enumerate(lines):
        if line.startswith(heading):
            end = index + 1
            while end < len(lines) and lines[end].startswith(" "):
                end += 1
            tail = "...\n" if end < len(lines) else ""
            return "...\n" + "".join(lines[index:end]) + tail
    raise CourseError(f"transcript {key}: no {heading} section to show")


def _seconds_ago(age: str) -> int:
    total = 0
    for amount, unit in re.findall(r"(\d+)([dhms])", age):
        total += int(amount) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    return total


def _sorted_by_last_seen(text: str) -> str:
    """``kubectl get events --sort-by=.lastTimestamp``: oldest last-seen first."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    rows = sorted(lines[1:], key=lambda row: -_seconds_ago(row.split()[0]))
    return lines[0] + "".join(rows)


def _events_part(text: str) -> str:
    index = text.find("\nEvents:")
    return "...\n" + text[index + 1 :] if index >= 0 else text


def _execute(argv: tuple[str, ...]) -> tuple[int, str, str]:
    from podlab.engine import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


def podsim_argv(transcript: Transcript, examples: dict[str, Example]) -> tuple[str, ...]:
    """The ``podsim`` command line that produces ``transcript``."""
    example = examples.get(transcript.example)
    if example is None:
        raise CourseError(f"transcript: unknown example {transcript.example!r}")
    files = [str(Path(example.path))]
    static: list[str] = []
    if transcript.static:
        # A static Pod is not applied through the API: podsim reads it from the node.
        import yaml

        files = ["-"]
        static = ["--static-pod", f"{example.path}:{transcript.static}"]
        if transcript.unstatic:
            name = (yaml.safe_load(example.text()) or {}).get("metadata", {}).get("name", "")
            static += ["--remove-static-pod", f"{name}:{transcript.unstatic}"]
    for name, at in transcript.extra:
        other = examples.get(name)
        if other is None:
            raise CourseError(f"transcript: unknown example {name!r}")
        files.append(f"{other.path}@{_number(at)}")
    view = _view(transcript.command)
    return (*files, "--until", _number(transcript.at), *view.argv, *static,
            *transcript.options)


def engine_output(transcript: Transcript, examples: dict[str, Example], *,
                  cached: bool = True) -> str:
    """What kubectl shows for ``transcript``, as the engine computes it.

    Raises CourseError when the engine rejects the run (a content bug the tests catch).
    """
    argv = podsim_argv(transcript, examples)
    # Key the cache on the manifests' text too: an edited example is a new run.
    texts = tuple(Path(a.split(".yaml", 1)[0] + ".yaml").read_text(encoding="utf-8")
                  for a in argv if ".yaml" in a)
    code, out, err = _run_keyed(argv, texts) if cached else _execute(argv)
    if code == 2:
        raise CourseError(f"transcript {transcript.key} ({transcript.command}): {err.strip()}")
    view = _view(transcript.command)
    text = out
    if view.kind == "custom-columns":
        import json

        from podlab.engine.kubectl.tabwriter import table

        pods = sorted((item for item in json.loads(out).get("items", [])
                       if item.get("kind") == "Pod"
                       and (not view.name or item["metadata"]["name"] == view.name)),
                      key=lambda item: item["metadata"]["name"])
        columns = [spec.split(":", 1) for spec in view.template.split(",")]
        if not pods or any(len(column) != 2 for column in columns):
            raise CourseError(f"transcript {transcript.key}: bad custom-columns or no Pods")
        rows = [[jsonpath(pod, "{" + expr + "}") or "<none>" for _, expr in columns]
                for pod in pods]
        text = table(header=[name for name, _ in columns], rows=rows)
    elif view.kind == "jsonpath":
        import json

        items = [item for item in json.loads(out).get("items", [])
                 if item.get("kind") == "Pod" and item["metadata"]["name"] == view.name]
        if not items:
            raise CourseError(f"transcript {transcript.key}: no Pod named {view.name!r}")
        text = jsonpath(items[0], view.template)
    elif view.name and view.kind in ("table", "wide") and not out:
        # kubectl's own answer when the named Pod does not exist (any more).
        text, err = "", f'Error from server (NotFound): pods "{view.name}" not found\n'
    elif view.name and view.kind in ("table", "wide", "watch", "services", "endpoints",
                                     "deployments", "replicasets", "jobs", "nodes",
                                     "namespaces", "serviceaccounts"):
        text = _only_rows(text, view.name)
    elif view.name and view.kind == "describe":
        text = _only_section(text, view.name)
    elif view.kind == "logs":
        text = _one_pod_logs(text, view.name)
    if transcript.show == "events":
        text = _events_part(text)
    elif transcript.show:
        text = _describe_section(text, transcript.show, transcript.key)
    if view.kind == "events-sorted":
        text = _sorted_by_last_seen(text)
    if transcript.tail:
        text = "".join(text.splitlines(keepends=True)[-transcript.tail:])
    if err and view.kind != "describe":
        # kubectl prints refusals ("No resources found", a logs error) on stderr: show them too.
        text += err
    if not text.strip():
        raise CourseError(f"transcript {transcript.key} ({transcript.command}): no output")
    return text


@lru_cache(maxsize=512)
def _run_keyed(argv: tuple[str, ...], texts: tuple[str, ...]) -> tuple[int, str, str]:
    return _execute(argv)


def shown_command(transcript: Transcript) -> str:
    tail = f" | tail -n {transcript.tail}" if transcript.tail else ""
    return f"kubectl {transcript.command}{tail}"


def moment(seconds: float) -> str:
    """A simulated moment the way kubectl writes durations (45s, 2m35s, 10m)."""
    total = int(seconds)
    if total < 120:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 10:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{minutes}m"
