"""The ``podsim`` command line: arguments, outputs, exit codes, with a scripted simulation."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from podlab.engine import cli
from podlab.engine.core.version import timestamp

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "echo hello; sleep 3600"]
"""


class FakeSimulation:
    """Scripted stand-in: each applied Pod is Pending at once and Running two seconds later."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.now = 0.0
        self.calls: list[tuple[Any, ...]] = []
        self._pods: dict[str, dict[str, Any]] = {}
        self._start: dict[str, float] = {}
        self._events: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []

    def apply(self, objects: list[dict[str, Any]]) -> None:
        self.calls.append(("apply", self.now, [o["metadata"]["name"] for o in objects]))
        for obj in objects:
            name = obj["metadata"]["name"]
            pod = json.loads(json.dumps(obj))
            pod["metadata"]["creationTimestamp"] = timestamp(self.now)
            pod["metadata"]["namespace"] = "default"
            pod["status"] = {"phase": "Pending"}
            self._pods[name] = pod
            self._start[name] = self.now + 2
            self.records.append({"t": self.now, "kind": "Pod", "type": "ADDED",
                                 "object": json.loads(json.dumps(pod))})

    def run_until(self, t: float) -> None:
        for name, start in sorted(self._start.items()):
            if self.now < start <= t:
                pod = self._pods[name]
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{
                        "name": "app", "ready": True, "restartCount": 0, "lastState": {},
                        "containerID": "containerd://1",
                        "state": {"running": {"startedAt": timestamp(start)}}}],
                }
                self.records.append({"t": start, "kind": "Pod", "type": "MODIFIED",
                                     "object": json.loads(json.dumps(pod))})
                event = {
                    "metadata": {"name": f"{name}.{int(start):016x}", "namespace": "default"},
                    "involvedObject": {"kind": "Pod", "name": name, "namespace": "default"},
                    "type": "Normal", "reason": "Started", "message": "Started container app",
                    "firstTimestamp": timestamp(start), "lastTimestamp": timestamp(start),
                    "count": 1, "source": {"component": "kubelet"},
                }
                self._events.append(event)
                self.records.append({"t": start, "kind": "Event", "object": event})
        self.now = t

    def delete_pod(self, name: str, grace_period: int | None = None) -> None:
        self.calls.append(("delete", self.now, name, grace_period))
        self._pods[name]["metadata"]["deletionTimestamp"] = timestamp(self.now + 30)

    def pods(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(p)) for p in self._pods.values()]

    def events(self) -> list[dict[str, Any]]:
        return list(self._events)

    def logs(self, pod: str, container: str, previous: bool = False) -> str:
        return "hello\n"


def run(argv: list[str], *, stdin: str = "") -> tuple[int, str, str, list[FakeSimulation]]:
    made: list[FakeSimulation] = []

    def factory(seed: int) -> FakeSimulation:
        sim = FakeSimulation(seed)
        made.append(sim)
        return sim

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err, stdin=io.StringIO(stdin), factory=factory)
    return code, out.getvalue(), err.getvalue(), made


@pytest.fixture
def pod_file(tmp_path: Path) -> Path:
    path = tmp_path / "pod.yaml"
    path.write_text(POD_YAML.format(name="web"), encoding="utf-8")
    return path


def test_help_documents_every_option() -> None:
    code, out, err, _ = run(["--help"])
    assert code == 0 and err == ""
    for word in ("--until", "--delete-at", "--grace-period", "--seed", "-o", "FILE[@SECONDS]",
                 "table", "wide", "describe", "events", "logs", "jsonl", "2025-01-01T00:00:00Z",
                 "--watch", "--container", "--previous", "FILE:LINE:COL"):
        assert word in out


def test_default_table_at_until(pod_file: Path) -> None:
    code, out, err, sims = run([str(pod_file), "--until", "60"])
    assert code == 0, err
    assert out == ("NAME   READY   STATUS    RESTARTS   AGE\n"
                   "web    1/1     Running   0          60s\n")
    assert sims[0].now == 60 and sims[0].seed == 0


def test_wide_and_seed(pod_file: Path) -> None:
    code, out, _, sims = run([str(pod_file), "-o", "wide", "--seed", "7", "--until", "1"])
    assert code == 0
    assert out.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP",
                                           "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    assert "Pending" in out and sims[0].seed == 7


def test_file_at_seconds_applies_later(tmp_path: Path, pod_file: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(POD_YAML.format(name="late"), encoding="utf-8")
    code, out, _, sims = run([f"{other}@30", str(pod_file), "--until", "40"])
    assert code == 0
    assert sims[0].calls == [("apply", 0.0, ["web"]), ("apply", 30.0, ["late"])]
    assert out.splitlines()[1].split()[0] == "late"
    assert out.splitlines()[1].split()[-1] == "10s"


def test_delete_at_with_grace_period(pod_file: Path) -> None:
    code, out, _, sims = run([str(pod_file), "--delete-at", "20", "--grace-period", "5",
                              "--until", "21"])
    assert code == 0
    assert ("delete", 20.0, "web", 5) in sims[0].calls
    assert "Terminating" in out


def test_stdin(pod_file: Path) -> None:
    code, out, _, _ = run(["-", "--until", "5"], stdin=pod_file.read_text(encoding="utf-8"))
    assert code == 0 and "web" in out


def test_jsonl_records_in_time_order(pod_file: Path) -> None:
    code, out, _, _ = run([str(pod_file), "-o", "jsonl", "--until", "10"])
    assert code == 0
    lines = out.splitlines()
    first = json.loads(lines[0])
    assert list(first) == ["t", "kind", "type", "object"]
    assert (first["t"], first["kind"], first["type"]) == (0, "Pod", "ADDED")
    assert lines[0].startswith('{"t":0,"kind":"Pod","type":"ADDED","object":{"apiVersion":"v1"')
    kinds = [(json.loads(line)["kind"], json.loads(line).get("type")) for line in lines]
    assert kinds == [("Pod", "ADDED"), ("Pod", "MODIFIED"), ("Event", None)]


def test_json_list(pod_file: Path) -> None:
    code, out, _, _ = run([str(pod_file), "-o", "json", "--until", "10"])
    assert code == 0
    assert out.startswith('{\n    "apiVersion": "v1",\n    "items": [\n')
    assert out.endswith('    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n'
                        "    }\n}\n")
    assert json.loads(out)["items"][0]["metadata"]["name"] == "web"


def test_events_describe_and_watch(pod_file: Path) -> None:
    code, out, _, _ = run([str(pod_file), "-o", "events", "--until", "10"])
    assert out == ("LAST SEEN   TYPE     REASON    OBJECT    MESSAGE\n"
                   "8s          Normal   Started   pod/web   Started container app\n")
    code, out, _, _ = run([str(pod_file), "-o", "describe", "--until", "10"])
    assert out.startswith("Name:") and "  Normal  Started  8s    kubelet  Started" in out
    code, out, _, _ = run([str(pod_file), "-w", "--until", "10"])
    assert out == ("NAME   READY   STATUS    RESTARTS   AGE\n"
                   "web    0/1     Pending   0          0s\n"
                   "web    1/1     Running   0          2s\n")


def test_logs_outputs(pod_file: Path) -> None:
    code, out, err, _ = run([str(pod_file), "-o", "logs", "--until", "10"])
    assert (code, out, err) == (0, "[pod/web/app] hello\n", "")
    code, out, _, _ = run([str(pod_file), "-o", "logs", "-c", "app", "--until", "10"])
    assert out == "hello\n"
    code, out, err, _ = run([str(pod_file), "-o", "logs", "--previous", "--until", "10"])
    assert code == 1 and out == ""
    assert err == ('Error from server (BadRequest): previous terminated container "app" in pod '
                   '"web" not found\n')


def test_no_pods_prints_kubectl_notice(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    code, out, err, _ = run([str(empty)])
    assert (code, out, err) == (0, "", "No resources found in default namespace.\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pod.yaml@400"], "pod.yaml@400 is after --until 300"),
        (["pod.yaml", "--grace-period", "3"], "--grace-period needs --delete-at"),
        (["pod.yaml", "--delete-at", "301"], "--delete-at is after --until"),
        (["pod.yaml", "-w", "-o", "json"], "-w works with -o table or -o wide"),
        (["pod.yaml", "--previous"], "--container and --previous work with -o logs"),
        (["pod.yaml", "--until", "-1"],
         "--until must be a number of seconds from 0 to 86400 (a day)"),
        (["-", "-"], "standard input ('-') can be given only once"),
        (["pod.yaml", "-o", "yaml"], "argument -o/--output: invalid choice"),
        ([], "the following arguments are required"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str) -> None:
    code, out, err, sims = run(argv)
    assert code == 2 and out == "" and not sims
    assert err.startswith("usage: podsim")
    assert f"podsim: error: {message}" in err


def test_missing_file_exits_1() -> None:
    code, _, err, _ = run(["/nonexistent/pod.yaml"])
    assert code == 1
    assert err == 'error: the path "/nonexistent/pod.yaml" does not exist\n'


def test_invalid_manifest_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n"
        "  - name: app\n    image: busybox\n    imagePullPolicy: Sometimes\n"
        "    ports:\n    - containerPort: 70000\n",
        encoding="utf-8",
    )
    code, out, err, sims = run([str(bad)])
    assert code == 2 and out == "" and not sims
    lines = err.splitlines()
    assert lines[0] == (f"{bad}:9:22: spec.containers[0].imagePullPolicy: Unsupported value: "
                        '"Sometimes": supported values: "Always", "IfNotPresent", "Never"')
    assert lines[1].startswith(f"{bad}:11:22: spec.containers[0].ports[0].containerPort: "
                               "Invalid value: 70000")
    assert lines[2] == 'The Pod "bad" is invalid: '
    assert lines[3].startswith("* spec.containers[0].imagePullPolicy: Unsupported value")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: [\n", encoding="utf-8")
    code, _, err, _ = run([str(bad)])
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith(f"{bad}:")
    assert f"error: error parsing {bad}: error converting YAML to JSON" in err


def test_same_inputs_give_identical_bytes(pod_file: Path) -> None:
    runs = [run([str(pod_file), "-o", output, "--until", "30"])[1]
            for output in ("jsonl", "describe") for _ in range(2)]
    assert runs[0] == runs[1] and runs[2] == runs[3]


def test_management_command_passes_arguments_through(pod_file: Path, capsys: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from podlab.core.management.commands.podsim import Command

    monkeypatch.setattr(cli, "_default_factory", FakeSimulation)
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "podsim", str(pod_file), "-o", "bogus"])
    assert exited.value.code == 2
    Command().run_from_argv(["manage.py", "podsim", str(pod_file), "--until", "3"])
    captured = capsys.readouterr()
    assert captured.out == ("NAME   READY   STATUS    RESTARTS   AGE\n"
                            "web    1/1     Running   0          3s\n")


def test_logs_refused_by_the_simulation(pod_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: FakeSimulation, pod: str, container: str, previous: bool = False) -> str:
        raise LookupError(f'container "{container}" in pod "{pod}" is waiting to start: '
                          "ContainerCreating")

    monkeypatch.setattr(FakeSimulation, "logs", refuse)
    code, out, err, _ = run([str(pod_file), "-o", "logs", "--until", "10"])
    assert (code, out) == (1, "")
    assert err == ('Error from server (BadRequest): container "app" in pod "web" is waiting to '
                   "start: ContainerCreating\n")


def test_namespaces_and_serviceaccounts_outputs(tmp_path: Path) -> None:
    path = tmp_path / "ns.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\n"
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n",
                    encoding="utf-8")
    runs = {}
    for output in ("namespaces", "serviceaccounts"):
        out, err = io.StringIO(), io.StringIO()
        assert cli.main([str(path), "--until", "90", "-o", output], out, err,
                        stdin=io.StringIO("")) == 0, err.getvalue()
        runs[output] = out.getvalue()
    assert runs["namespaces"] == (
        "NAME              STATUS   AGE\n"
        "default           Active   90s\n"
        "kube-node-lease   Active   90s\n"
        "kube-public       Active   90s\n"
        "kube-system       Active   90s\n"
        "team-a            Active   90s\n")
    assert runs["serviceaccounts"] == (
        "NAME      SECRETS   AGE\n"
        "builder   0         90s\n"
        "default   0         90s\n")
