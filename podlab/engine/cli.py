"""``podsim``: simulate manifests on PodLab's node and print what kubectl would show.

Run it as ``python manage.py podsim FILE [FILE@SECONDS ...] [options]``. The contract (options,
output formats, exit codes) is documented in ``docs/podsim.md`` and in ``--help``; outside
checks rely on it, so keep it stable. This module imports nothing from Django.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from podlab.engine.kubectl.describe import describe_pods
from podlab.engine.kubectl.get import (
    POD_COLUMNS,
    PodWatch,
    get_deployments,
    get_endpoints,
    get_events,
    get_jobs,
    get_namespaces,
    get_pods,
    get_replicasets,
    get_serviceaccounts,
    get_services,
    pod_cells,
)
from podlab.engine.kubectl.jsonfmt import go_json, pod_list
from podlab.engine.kubectl.logs import LogsError, check_readable, container_names, prefixed
from podlab.engine.kubectl.tabwriter import table

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID = 2

DEFAULT_UNTIL = 300.0
#: the furthest ``--until`` (a day): a runaway length is refused, not simulated for hours
MAX_UNTIL = 86400.0
#: what podsim reads of one manifest: the YAML loader takes no more (yamlload.MAX_BYTES), so
#: a larger input (/dev/zero, a pipe that never ends) is refused without being read to its end
MAX_INPUT_BYTES = 256 * 1024
#: the most Pods one run may ask for (Pods, and the replicas of Deployments and ReplicaSets
#: and the parallelism of Jobs of every file, or a --scale): about 2 s of CPU for 300 s;
#: 100,000 replicas took minutes, 10**20 for ever
MAX_PODS = 1000
OUTPUTS = (
    "table", "wide", "describe", "events", "logs", "json", "jsonl",
    "services", "endpoints", "deployments", "replicasets", "jobs", "all", "nodes",
    "namespaces", "serviceaccounts", "describe-nodes",
)
#: Kinds besides Pods that ``-o json`` lists, in ``kubectl get all`` order.
JSON_KINDS = ("Service", "Deployment", "ReplicaSet", "Job")
NO_RESOURCES = "No resources found in default namespace."

DESCRIPTION = """\
Simulate Kubernetes manifests on PodLab's simulated node (Kubernetes 1.34) and print what
kubectl would show. The simulated clock starts at t = 0, which is 2025-01-01T00:00:00Z; every
timestamp in the output is RFC 3339 on that clock. The same inputs and seed always give
byte-identical output.
"""

EPILOG = """\
outputs (-o):
  table     kubectl get pods at the end (the default)
  wide      kubectl get pods -o wide at the end
  describe  kubectl describe pods at the end
  events    kubectl get events at the end
  logs      kubectl logs of every container, lines prefixed [pod/NAME/CONTAINER]
            (no prefix when --container names one container of a single Pod)
  json      kubectl get pods -o json at the end: a v1 List, 4-space indent; Pods
            first, then any Services, Deployments, ReplicaSets and Jobs, then the
            Nodes when the run uses the cluster (--cluster, a node action or a
            kind: Node document)
  services  kubectl get services (NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE)
  endpoints kubectl get endpoints (NAME ENDPOINTS AGE)
  deployments  kubectl get deployments (NAME READY UP-TO-DATE AVAILABLE AGE)
  replicasets  kubectl get replicasets (NAME DESIRED CURRENT READY AGE)
  jobs      kubectl get jobs (NAME STATUS COMPLETIONS DURATION AGE)
  all       kubectl get all: pods, services, deployments, replicasets, jobs
  nodes     kubectl get nodes at the end (NAME STATUS ROLES AGE VERSION)
  namespaces   kubectl get namespaces (NAME STATUS AGE; Terminating while one is
            being deleted)
  serviceaccounts  kubectl get serviceaccounts in the default namespace (NAME
            SECRETS AGE)
  jsonl     one JSON object per line, in time order:
              {"t": SECONDS, "kind": "Pod", "type": "ADDED"|"MODIFIED"|"DELETED",
               "object": <v1 Pod>}
              {"t": SECONDS, "kind": "Event", "object": <v1 Event>}
            Services, EndpointSlices, Endpoints, Deployments, ReplicaSets and Jobs
            come as lines like the Pod's, with their own kind; so do changes of
            Nodes (added by a document, cordoned, uncordoned, NotReady, tainted,
            Ready again, untainted)

cluster (3 nodes unless --cluster FILE says otherwise: control-plane, tainted
node-role.kubernetes.io/control-plane:NoSchedule, and workers node-1 and node-2;
kind: Node documents in FILE arguments add or change nodes at their time):
  --cordon NODE@SECONDS        kubectl cordon NODE
  --uncordon NODE@SECONDS      kubectl uncordon NODE
  --drain NODE@SECONDS         kubectl drain NODE --force --ignore-daemonsets
  --lose-node NODE@SECONDS     the node stops reporting; NotReady after 50 s, its
                               Pods are deleted after their toleration (300 s)
  --restore-node NODE@SECONDS  the node reports again
  --static-pod FILE:NODE@SECONDS      put a static Pod manifest on NODE; the API
                                      shows the mirror Pod NAME-NODE
  --remove-static-pod NAME:NODE@SECONDS  remove that manifest from NODE
  all of these may be repeated; at the same second they run after the files
  and --delete-at, in the order given

exit status:
  0  success
  1  a file could not be read, or kubectl would have refused a logs request
  2  usage error, or a manifest is invalid: every problem is printed to stderr as
     FILE:LINE:COL: message, followed by the error line kubectl itself prints

examples:
  podsim pod.yaml
  podsim pod.yaml --until 120 -o describe
  podsim pod.yaml service.yaml@30 -o events
  podsim pod.yaml --delete-at 60 --grace-period 5 -w
  podsim myapp-pod.yaml services.yaml@60 --until 90
  podsim deployment.yaml --scale deployment/web=5@30 -o all
  cat pod.yaml | podsim - -o jsonl
  podsim pod.yaml --lose-node node-1@60 --until 500 -o wide
  podsim pod.yaml --static-pod web.yaml:node-2@0 -o nodes
"""


class SimulationLike(Protocol):
    """The part of ``podlab.engine.simulation.Simulation`` the command line uses."""

    now: float

    def apply(self, objects: list[dict[str, Any]]) -> Any: ...

    def run_until(self, t: float) -> Any: ...

    def delete_pod(self, name: str, grace_period: int | None = None) -> Any: ...

    def pods(self) -> list[dict[str, Any]]: ...

    def events(self) -> list[dict[str, Any]]: ...

    def logs(self, pod: str, container: str, previous: bool = False) -> str: ...

    @property
    def records(self) -> Sequence[Any]: ...


SimulationFactory = Callable[[int], SimulationLike]
#: ``parse(text, filename, seed) -> result`` with ``.objects``, ``.problems`` and
#: ``.documents`` like ``podlab.engine.apiserver.manifest.ManifestResult``.
ManifestParser = Callable[[str, str, int], Any]


class UsageError(Exception):
    """Bad command line; ``str()`` is the message after ``podsim: error: ``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


@dataclass(frozen=True)
class Source:
    """One manifest file and the simulated second it is applied at."""

    path: str
    at: float
    label: str


NODE_ACTIONS = (
    ("--cordon", "NODE@SECONDS", "at that second mark NODE unschedulable"),
    ("--uncordon", "NODE@SECONDS", "at that second mark NODE schedulable again"),
    ("--drain", "NODE@SECONDS", "at that second cordon NODE and evict its Pods"),
    ("--lose-node", "NODE@SECONDS", "at that second NODE stops reporting"),
    ("--restore-node", "NODE@SECONDS", "at that second NODE reports again"),
    ("--static-pod", "FILE:NODE@SECONDS", "at that second put the manifest FILE on NODE"),
    ("--remove-static-pod", "NAME:NODE@SECONDS", "at that second remove static Pod NAME from NODE"),
)


@dataclass(frozen=True)
class NodeAction:
    """One ``--cordon``/``--drain``/... request: what, on which node, when."""

    kind: str
    node: str
    at: float
    item: str = ""  # the static Pod file or name


def parse_node_actions(options: argparse.Namespace) -> list[NodeAction]:
    """Every node action of the command line, in the order of NODE_ACTIONS then given."""
    out = []
    for flag, meta, _ in NODE_ACTIONS:
        for value in getattr(options, flag.lstrip("-").replace("-", "_"), None) or []:
            head, sep, tail = value.rpartition("@")
            at = _seconds(tail) if sep else None
            item = ""
            node = head
            if ":" in meta:
                item, colon, node = head.rpartition(":")
                if not colon or not item:
                    node = ""
            if at is None or at < 0 or not node:
                raise UsageError(f"{flag} {value!r}: expected {meta}")
            out.append(NodeAction(kind=flag.lstrip("-"), node=node, at=at, item=item))
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, also used to render ``--help``."""
    parser = _Parser(
        prog="podsim",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE[@SECONDS]",
        help="manifest file ('-' for stdin); FILE is applied at t = 0, FILE@SECONDS at that "
        "simulated second",
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    parser.add_argument(
        "--until", type=float, default=DEFAULT_UNTIL, metavar="SECONDS",
        help="simulate up to this second and print the views at that time (default: 300)",
    )
    parser.add_argument(
        "--delete-at", type=float, default=None, metavar="SECONDS",
        help="delete every Pod at this second, as kubectl delete pod does",
    )
    parser.add_argument(
        "--grace-period", type=int, default=None, metavar="N",
        help="grace period in seconds for --delete-at (default: each Pod's "
        "terminationGracePeriodSeconds)",
    )
    parser.add_argument(
        "--scale", action="append", default=[], metavar="KIND/NAME=N@SECONDS",
        help="at that second set the replicas of deployment/NAME or replicaset/NAME to N, "
        "as kubectl scale does (repeatable)",
    )
    parser.add_argument(
        "--cluster", default=None, metavar="FILE",
        help="kind: Node documents that replace the default cluster",
    )
    for flag, meta, text in NODE_ACTIONS:
        parser.add_argument(
            flag, action="append", default=[], metavar=meta, help=text + " (repeatable)"
        )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N",
        help="random seed (default: 0); the same inputs and seed give the same output",
    )
    parser.add_argument(
        "-o", "--output", choices=OUTPUTS, default="table", metavar="FORMAT",
        help="one of: " + ", ".join(OUTPUTS) + " (default: table)",
    )
    parser.add_argument(
        "-w", "--watch", action="store_true",
        help="with -o table or wide: print kubectl get pods -w lines, a header then the "
        "Pod's row at every change, instead of the final table",
    )
    parser.add_argument(
        "-c", "--container", default=None, metavar="NAME",
        help="with -o logs: only this container",
    )
    parser.add_argument(
        "-p", "--previous", action="store_true",
        help="with -o logs: the previous (terminated) instance of each container",
    )
    return parser


def _seconds(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def split_sources(files: Sequence[str]) -> list[Source]:
    """``FILE`` and ``FILE@SECONDS`` arguments, in the order given."""
    sources = []
    for argument in files:
        path, sep, tail = argument.rpartition("@")
        at = _seconds(tail) if sep else None
        if sep and path and at is not None:
            if at < 0:
                raise UsageError(f"time in {argument!r} must not be negative")
            sources.append(Source(path=path, at=at, label="STDIN" if path == "-" else path))
        else:
            label = "STDIN" if argument == "-" else argument
            sources.append(Source(path=argument, at=0.0, label=label))
    if sum(1 for s in sources if s.path == "-") > 1:
        raise UsageError("standard input ('-') can be given only once")
    return sources


@dataclass(frozen=True)
class Scale:
    """One ``--scale KIND/NAME=N@SECONDS``."""

    target: str
    replicas: int
    at: float


def parse_scales(values: Sequence[str]) -> list[Scale]:
    scales = []
    for value in values:
        head, sep, tail = value.rpartition("@")
        at = _seconds(tail) if sep else None
        target, eq, number = head.rpartition("=")
        kind = target.partition("/")[0].lower()
        if (
            at is None or at < 0 or not eq or not number.isdigit()
            or kind not in ("deployment", "deployments", "deploy", "replicaset",
                            "replicasets", "rs")
            or not target.partition("/")[2]
        ):
            raise UsageError(
                f"--scale {value!r}: expected deployment/NAME=N@SECONDS or "
                "replicaset/NAME=N@SECONDS"
            )
        digits = number.lstrip("0")
        if not digits.isascii() or len(digits) > len(str(MAX_PODS)) or int(
                digits or 0) > MAX_PODS:
            raise UsageError(f"--scale {value!r}: podsim runs at most {MAX_PODS} Pods")
        scales.append(Scale(target=target, replicas=int(digits or 0), at=at))
    return scales


def _check_times(options: argparse.Namespace, sources: list[Source]) -> None:
    if not math.isfinite(options.until) or not 0 <= options.until <= MAX_UNTIL:
        raise UsageError(
            f"--until must be a number of seconds from 0 to {_number(MAX_UNTIL)} (a day)")
    for source in sources:
        if source.at > options.until:
            raise UsageError(
                f"{source.label}@{_number(source.at)} is after --until {_number(options.until)}"
            )
    for scale in parse_scales(options.scale):
        if scale.at > options.until:
            raise UsageError(f"--scale {scale.target} at {_number(scale.at)} is after --until")
    for node_action in parse_node_actions(options):
        if node_action.at > options.until:
            raise UsageError(
                f"--{node_action.kind} {node_action.node}@{_number(node_action.at)} is "
                "after --until"
            )
    if options.delete_at is not None:
        if not math.isfinite(options.delete_at) or options.delete_at < 0:
            raise UsageError("--delete-at must be a number of seconds >= 0")
        if options.delete_at > options.until:
            raise UsageError("--delete-at is after --until")
    elif options.grace_period is not None:
        raise UsageError("--grace-period needs --delete-at")
    if options.grace_period is not None and options.grace_period < 0:
        raise UsageError("--grace-period must be >= 0")
    if options.watch and options.output not in ("table", "wide"):
        raise UsageError("-w works with -o table or -o wide")
    if (options.container or options.previous) and options.output != "logs":
        raise UsageError("--container and --previous work with -o logs")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _default_factory(seed: int) -> SimulationLike:
    from podlab.engine.simulation import Simulation

    return Simulation(seed=seed)


def _default_parse(text: str, filename: str, seed: int) -> Any:
    from podlab.engine.apiserver.manifest import parse_manifests

    return parse_manifests(text, filename=filename, seed=seed)


class InputTooLarge(Exception):
    """A manifest longer than ``MAX_INPUT_BYTES``."""


def _read(source: Source, stdin: TextIO) -> str:
    if source.path == "-":
        raw = getattr(stdin, "buffer", None)
        # text (a test's StringIO) has no bytes to count: its characters are at least as many
        data = (raw if raw is not None else stdin).read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputTooLarge
        return data.decode("utf-8") if isinstance(data, bytes) else data
    return _read_path(source.path)


def _read_path(path: str) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLarge
    return data.decode("utf-8")


def _read_error(path: str, error: Exception) -> tuple[str, int]:
    """What podsim says when ``path`` cannot be read, and its exit status."""
    if isinstance(error, InputTooLarge):
        return (f'error: the path "{path}" holds more than {MAX_INPUT_BYTES} bytes: a '
                "manifest may have at most 256 KiB\n", EXIT_INVALID)
    if isinstance(error, FileNotFoundError):
        return f'error: the path "{path}" does not exist\n', EXIT_ERROR
    return f'error: the path "{path}" cannot be read: {error}\n', EXIT_ERROR


def report_problems(
    *, label: str, problems: Sequence[Any], documents: dict[int, tuple[str, str]],
    stderr: TextIO,
) -> None:
    """``FILE:LINE:COL: message`` for every problem, then kubectl's error line per object."""
    from podlab.engine.apiserver.validation import kubectl_error

    for problem in problems:
        where = f"{label}:{problem.line}:{problem.column}"
        stderr.write(f"{where}: {problem.kubectl_line()}\n")
    by_document: dict[int, list[Any]] = {}
    for problem in problems:
        by_document.setdefault(int(getattr(problem, "document", 0) or 0), []).append(problem)
    for index in sorted(by_document):
        kind, name = documents.get(index, ("Pod", ""))
        line = kubectl_error(by_document[index], kind=kind, name=name, filename=label)
        if line:
            stderr.write(line + "\n")


def _record_fields(record: Any) -> tuple[float, str, str | None, dict[str, Any]]:
    if isinstance(record, dict):
        return record["t"], record["kind"], record.get("type"), record["object"]
    return record.t, record.kind, getattr(record, "type", None), record.object


def jsonl_line(*, t: float, kind: str, type_: str | None, obj: dict[str, Any]) -> str:
    """One ``-o jsonl`` line: t, kind, type (Pods only), object; object keys sorted."""
    fields = [("t", _number(t)), ("kind", kind)]
    if kind != "Event" and type_ is not None:
        fields.append(("type", type_))
    fields.append(("object", obj))
    body = ",".join(f'"{key}":{go_json(obj=value, indent=None)}' for key, value in fields)
    return "{" + body + "}\n"


def _write_logs(
    *, sim: SimulationLike, pods: list[dict[str, Any]], options: argparse.Namespace,
    stdout: TextIO, stderr: TextIO,
) -> int:
    status = EXIT_OK
    ordered = sorted(pods, key=lambda p: (p.get("metadata") or {}).get("name") or "")
    plain = options.container is not None and len(ordered) == 1
    for pod in ordered:
        pod_name = (pod.get("metadata") or {}).get("name") or ""
        names = container_names(pod=pod)
        if options.container is not None:
            names = [options.container]
        for name in names:
            try:
                check_readable(pod=pod, container=name, previous=options.previous)
            except LogsError as error:
                stderr.write(f"{error}\n")
                status = EXIT_ERROR
                continue
            try:
                text = sim.logs(pod_name, name, previous=options.previous)
            except LookupError as error:
                message = str(error.args[0]) if error.args else str(error)
                stderr.write(f"{LogsError(message)}\n")
                status = EXIT_ERROR
                continue
            if plain:
                stdout.write(text)
            else:
                stdout.write(prefixed(pod_name=pod_name, container=name, text=text))
    return status


def _node_step(
    sim: Any, action: NodeAction, static: dict[str, list[dict[str, Any]]], stderr: TextIO
) -> Callable[[], None]:
    """The simulation call for one node action; kubectl's complaint when it fails."""

    def step() -> None:
        if action.kind == "static-pod":
            ok = False
            for manifest in static.get(action.item, []):
                ok = sim.add_static_pod(manifest, action.node) is not None or ok
        elif action.kind == "remove-static-pod":
            ok = sim.remove_static_pod(action.item, action.node)
        else:
            method = getattr(sim, action.kind.replace("-", "_"), None)
            ok = bool(method(action.node)) if method is not None else False
        if not ok:
            stderr.write(f'Error from server (NotFound): nodes "{action.node}" not found\n')

    return step


def _pods_asked(results: Sequence[Any]) -> int:
    """The Pods the manifests ask for at once: each Pod, the replicas of each Deployment
    and ReplicaSet, the parallelism of each Job (a re-applied object counts again)."""
    asked = 0
    for result in results:
        for obj in getattr(result, "objects", None) or []:
            kind, spec = obj.get("kind"), obj.get("spec") or {}
            field = {"Pod": None, "Deployment": "replicas", "ReplicaSet": "replicas",
                     "Job": "parallelism"}
            if kind not in field:
                continue
            count = 1 if field[kind] is None else spec.get(field[kind], 1)
            asked += count if isinstance(count, int) and not isinstance(count, bool) else 1
    return asked


def run(
    *, options: argparse.Namespace, sources: list[Source], texts: list[str],
    results: list[Any], stdout: TextIO, stderr: TextIO, factory: SimulationFactory,
) -> int:
    """Simulate the parsed manifests and print the chosen view."""
    sim = factory(options.seed)
    actions: list[tuple[float, int, int, Callable[[], None]]] = []
    for order, (source, result) in enumerate(zip(sources, results, strict=True)):
        objects = list(result.objects)
        actions.append((source.at, 0, order, lambda objects=objects: sim.apply(objects)))

    if options.delete_at is not None:

        def delete_all() -> None:
            for pod in sorted(sim.pods(), key=lambda p: p["metadata"]["name"]):
                if (pod.get("metadata") or {}).get("deletionTimestamp"):
                    continue
                sim.delete_pod(pod["metadata"]["name"], grace_period=options.grace_period)

        actions.append((options.delete_at, 1, 0, delete_all))
    for order, scale in enumerate(parse_scales(options.scale)):

        def do_scale(scale: Scale = scale) -> None:
            scaler = getattr(sim, "scale", None)
            if scaler is None or not scaler(scale.target, scale.replicas):
                stderr.write(f'Error from server (NotFound): {scale.target} not found\n')

        actions.append((scale.at, 2, order, do_scale))
    for order, node_action in enumerate(parse_node_actions(options)):
        actions.append((node_action.at, 5, order, _node_step(
            sim, node_action, getattr(options, 'static_objects', {}), stderr)))
    cluster_nodes = getattr(options, 'cluster_nodes', None)
    control = getattr(sim, 'control', None)
    if cluster_nodes is not None and control is not None:
        control.replace(cluster_nodes)
    for at, _, _, action in sorted(actions, key=lambda a: a[:3]):
        sim.run_until(at)
        action()
    sim.run_until(options.until)
    now = float(options.until)

    output = options.output
    if options.watch:
        watch = PodWatch(wide=output == "wide")
        for record in sim.records:
            t, kind, _, obj = _record_fields(record)
            if kind == "Pod":
                stdout.write(watch.line(pod=obj, now=t))
        return EXIT_OK
    if output == "jsonl":
        for record in sim.records:
            t, kind, type_, obj = _record_fields(record)
            stdout.write(jsonl_line(t=t, kind=kind, type_=type_, obj=obj))
        return EXIT_OK
    pods = sim.pods()
    lister = getattr(sim, "list_objects", None)

    def objects(kind: str) -> list[dict[str, Any]]:
        return list(lister(kind)) if lister is not None else []

    if output == "json":
        items = sorted(pods, key=lambda p: (p.get("metadata") or {}).get("name") or "")
        for kind in JSON_KINDS:
            items += objects(kind)
        node_lister = getattr(sim, "nodes", None)
        if node_lister is not None and uses_cluster(options, results):
            items += list(node_lister())
        stdout.write(go_json(obj=pod_list(pods=items)) + "\n")
        return EXIT_OK
    if output == "logs":
        return _write_logs(sim=sim, pods=pods, options=options, stdout=stdout, stderr=stderr)
    if output == "events":
        text = get_events(events=sim.events(), now=now)
    elif output == "nodes":
        from podlab.engine.kubectl.get import get_nodes

        text = get_nodes(nodes=sim.nodes(), now=now)
    elif output == "services":
        text = get_services(services=objects("Service"), now=now)
    elif output == "endpoints":
        text = get_endpoints(endpoints=objects("Endpoints"), now=now)
    elif output == "deployments":
        text = get_deployments(deployments=objects("Deployment"), now=now)
    elif output == "replicasets":
        text = get_replicasets(replicasets=objects("ReplicaSet"), now=now)
    elif output == "jobs":
        text = get_jobs(jobs=objects("Job"), now=now)
    elif output == "namespaces":
        text = get_namespaces(namespaces=objects("Namespace"), now=now)
        if not text:  # cluster-scoped: kubectl names no namespace
            stderr.write("No resources found\n")
            return EXIT_OK
    elif output == "serviceaccounts":
        text = get_serviceaccounts(accounts=[
            a for a in objects("ServiceAccount")
            if (a.get("metadata") or {}).get("namespace", "default") == "default"], now=now)
    elif output == "all":
        text = get_all(pods=pods, objects=objects, now=now)
    elif output == "describe":
        text = describe_pods(pods=pods, events=sim.events(), now=now) if pods else ""
    elif output == "describe-nodes":
        text = describe_nodes(sim, pods, now)
    else:
        text = get_pods(pods=pods, now=now, wide=output == "wide")
    if text:
        stdout.write(text)
    else:
        stderr.write(NO_RESOURCES + "\n")
    return EXIT_OK


def describe_nodes(sim: Any, pods: list[dict[str, Any]], now: float) -> str:
    """``kubectl describe nodes`` of the simulation's nodes."""
    from podlab.engine.kubectl.describe import describe_nodes as describe

    nodes = sim.nodes()
    renewed = {n["metadata"]["name"]: sim.lease_renewed(n["metadata"]["name"]) for n in nodes}
    return describe(nodes=nodes, pods=pods, events=sim.events(), now=now, renewed=renewed)


def uses_cluster(options: argparse.Namespace, results: Sequence[Any]) -> bool:
    """Whether the run involves nodes: ``--cluster``, a node action, or a ``kind: Node``
    document. Only then does ``-o json`` list the Nodes, so Pod-only runs print what they
    always printed."""
    if getattr(options, "cluster", None) or parse_node_actions(options):
        return True
    return any(
        obj.get("kind") == "Node" for result in results for obj in getattr(result, "objects", [])
    )


def get_all(
    *, pods: list[dict[str, Any]], objects: Callable[[str], list[dict[str, Any]]], now: float
) -> str:
    """``kubectl get all``: one table per kind that has objects, names as ``kind/name``,
    a blank line between tables."""
    parts = []
    if pods:
        ordered = sorted(pods, key=lambda p: (p.get("metadata") or {}).get("name") or "")
        rows = []
        for pod in ordered:
            cells = pod_cells(pod=pod, now=now)
            rows.append(["pod/" + cells[0], *cells[1:]])
        parts.append(table(header=POD_COLUMNS, rows=rows))
    parts.append(get_services(services=objects("Service"), now=now, prefix="service/"))
    parts.append(get_deployments(
        deployments=objects("Deployment"), now=now, prefix="deployment.apps/"))
    parts.append(get_replicasets(
        replicasets=objects("ReplicaSet"), now=now, prefix="replicaset.apps/"))
    parts.append(get_jobs(jobs=objects("Job"), now=now, prefix="job.batch/"))
    return "\n".join(part for part in parts if part)


def main(
    argv: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    stdin: TextIO | None = None,
    factory: SimulationFactory | None = None,
    parse: ManifestParser | None = None,
) -> int:
    """Run ``podsim`` with ``argv`` (without the program name); returns the exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    source_in = stdin if stdin is not None else sys.stdin
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "-h" in arguments or "--help" in arguments:
        out.write(parser.format_help())
        return EXIT_OK
    try:
        options = parser.parse_args(arguments)
        sources = split_sources(options.files)
        _check_times(options, sources)
    except UsageError as error:
        err.write(parser.format_usage())
        err.write(f"podsim: error: {error}\n")
        return EXIT_INVALID

    texts: list[str] = []
    for source in sources:
        try:
            texts.append(_read(source, source_in))
        except (OSError, UnicodeDecodeError, InputTooLarge) as error:
            message, status = _read_error(source.path, error)
            err.write(message)
            return status

    parse_fn = parse if parse is not None else _default_parse
    results = []
    invalid = False
    for source, text in zip(sources, texts, strict=True):
        result = parse_fn(text, source.label, options.seed)
        if result.problems:
            invalid = True
            report_problems(
                label=source.label, problems=result.problems,
                documents=dict(getattr(result, "documents", {}) or {}), stderr=err,
            )
        results.append(result)
    extra = [(options.cluster, "cluster")] if options.cluster else []
    extra += [
        (a.item, "static") for a in parse_node_actions(options) if a.kind == "static-pod"
    ]
    options.static_objects = {}
    for path, role in extra:
        try:
            text = _read_path(path)
        except (OSError, UnicodeDecodeError, InputTooLarge) as error:
            message, status = _read_error(path, error)
            err.write(message)
            return status
        result = parse_fn(text, path, options.seed)
        if result.problems:
            invalid = True
            report_problems(
                label=path, problems=result.problems,
                documents=dict(getattr(result, "documents", {}) or {}), stderr=err,
            )
            continue
        wanted = "Node" if role == "cluster" else "Pod"
        if any(obj.get("kind") != wanted for obj in result.objects):
            err.write(f"podsim: error: {path} may only hold {wanted} objects\n")
            return EXIT_INVALID
        if role == "cluster":
            options.cluster_nodes = list(result.objects)
        else:
            options.static_objects[path] = list(result.objects)
    if invalid:
        return EXIT_INVALID
    asked = _pods_asked(results)
    if asked > MAX_PODS:
        err.write(f"podsim: error: the manifests ask for {asked} Pods (counting the replicas "
                  f"of Deployments and ReplicaSets and the parallelism of Jobs): podsim "
                  f"runs at most {MAX_PODS}\n")
        return EXIT_INVALID

    return run(
        options=options, sources=sources, texts=texts, results=results, stdout=out,
        stderr=err, factory=factory if factory is not None else _default_factory,
    )


if __name__ == "__main__":
    raise SystemExit(main())
