"""``kubectl get`` views: HumanDuration, every STATUS rule of printPod, READY, RESTARTS, tables."""

from __future__ import annotations

from typing import Any

import pytest

from podlab.engine.core.version import timestamp
from podlab.engine.kubectl.duration import human_duration, rfc1123z, since
from podlab.engine.kubectl.get import (
    PodWatch,
    get_events,
    get_namespaces,
    get_nodes,
    get_pods,
    get_serviceaccounts,
    get_services,
    summarize_pod,
)
from podlab.engine.kubectl.jsonfmt import go_json, pod_list
from podlab.engine.kubectl.tabwriter import align


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-2, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (119.9, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (599, "9m59s"),
        (600, "10m"),
        (15 * 60, "15m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (2.5 * 3600 + 3 * 3600, "5h30m"),
        (8 * 3600, "8h"),
        (30 * 3600, "30h"),
        (48 * 3600, "2d"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (8 * 86400, "8d"),
        (60 * 86400, "60d"),
        (2 * 365 * 86400, "2y"),
        (3 * 365 * 86400 + 5 * 86400, "3y5d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: float, text: str) -> None:
    assert human_duration(seconds=seconds) == text


def test_since_and_rfc1123z() -> None:
    assert since(value=None, now=10) == "<unknown>"
    assert since(value=timestamp(5), now=65) == "60s"
    assert rfc1123z(value=timestamp(5)) == "Wed, 01 Jan 2025 00:00:05 +0000"
    assert rfc1123z(value="2025-03-10T13:04:05Z") == "Mon, 10 Mar 2025 13:04:05 +0000"


def running(started: float = 0) -> dict[str, Any]:
    return {"running": {"startedAt": timestamp(started)}}


def waiting(reason: str = "") -> dict[str, Any]:
    return {"waiting": {"reason": reason} if reason else {}}


def terminated(code: int, reason: str = "", signal: int = 0, finished: float = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"exitCode": code, "finishedAt": timestamp(finished),
                            "startedAt": timestamp(0)}
    if reason:
        body["reason"] = reason
    if signal:
        body["signal"] = signal
    return {"terminated": body}


def cstatus(name: str, state: dict[str, Any], *, ready: bool = False, restarts: int = 0,
            last: dict[str, Any] | None = None, started: bool | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"name": name, "state": state, "ready": ready,
                              "restartCount": restarts, "lastState": last or {}}
    if started is not None:
        status["started"] = started
    return status


def make_pod(
    *,
    containers: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    app: list[str] | None = None,
    init_specs: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    reason: str = "",
    deletion: bool = False,
    name: str = "demo",
) -> dict[str, Any]:
    app = app or ["app"]
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": timestamp(0)},
        "spec": {"containers": [{"name": n, "image": "busybox"} for n in app]},
        "status": {"phase": phase, "conditions": conditions or []},
    }
    if init_specs:
        pod["spec"]["initContainers"] = init_specs
    if containers is not None:
        pod["status"]["containerStatuses"] = containers
    if init is not None:
        pod["status"]["initContainerStatuses"] = init
    if reason:
        pod["status"]["reason"] = reason
    if deletion:
        pod["metadata"]["deletionTimestamp"] = timestamp(100)
        pod["metadata"]["deletionGracePeriodSeconds"] = 30
    return pod


def row(pod: dict[str, Any], now: float = 60) -> tuple[str, str, str]:
    s = summarize_pod(pod=pod, now=now)
    return s.ready, s.status, s.restarts


INITS = [{"name": "init-a", "image": "busybox"}, {"name": "init-b", "image": "busybox"}]


class TestWorkedExamples:
    """Reference §11.5, one row each."""

    def test_pending_unscheduled(self) -> None:
        assert row(make_pod(phase="Pending")) == ("0/1", "Pending", "0")

    def test_container_creating(self) -> None:
        pod = make_pod(phase="Pending", containers=[cstatus("app", waiting("ContainerCreating"))])
        assert row(pod) == ("0/1", "ContainerCreating", "0")

    def test_first_of_two_inits_running(self) -> None:
        pod = make_pod(phase="Pending", init_specs=INITS,
                       init=[cstatus("init-a", running()),
                             cstatus("init-b", waiting("PodInitializing"))],
                       containers=[cstatus("app", waiting("PodInitializing"))])
        assert row(pod) == ("0/1", "Init:0/2", "0")

    def test_second_init_crashing(self) -> None:
        init = [cstatus("init-a", terminated(0, "Completed")),
                cstatus("init-b", waiting("CrashLoopBackOff"), restarts=3,
                        last={"terminated": terminated(1, "Error", finished=15)["terminated"]})]
        pod = make_pod(phase="Pending", init_specs=INITS, init=init,
                       containers=[cstatus("app", waiting("PodInitializing"))])
        assert row(pod) == ("0/1", "Init:CrashLoopBackOff", "3 (45s ago)")
        init[1]["state"] = terminated(1, "Error", finished=50)
        assert row(pod)[1] == "Init:Error"

    def test_init_failed_never(self) -> None:
        pod = make_pod(phase="Failed", init_specs=INITS[:1],
                       init=[cstatus("init-a", terminated(1, "Error"))],
                       containers=[cstatus("app", waiting("PodInitializing"))])
        assert row(pod) == ("0/1", "Init:Error", "0")

    def test_running_not_ready(self) -> None:
        assert row(make_pod(containers=[cstatus("app", running())])) == ("0/1", "Running", "0")

    def test_crash_loop_back_off(self) -> None:
        last = {"terminated": terminated(1, "Error", finished=15)["terminated"]}
        pod = make_pod(containers=[cstatus("app", waiting("CrashLoopBackOff"), restarts=3,
                                           last=last)])
        assert row(pod) == ("0/1", "CrashLoopBackOff", "3 (45s ago)")

    def test_oom_killed(self) -> None:
        pod = make_pod(containers=[cstatus("app", terminated(137, "OOMKilled"), restarts=1)])
        assert row(pod) == ("0/1", "OOMKilled", "1")

    def test_job_done(self) -> None:
        pod = make_pod(phase="Succeeded", containers=[cstatus("app", terminated(0, "Completed"))])
        assert row(pod) == ("0/1", "Completed", "0")

    def test_sidecar_and_app_ready(self) -> None:
        sidecar = [{"name": "log", "image": "alpine", "restartPolicy": "Always"}]
        pod = make_pod(init_specs=sidecar,
                       init=[cstatus("log", running(), ready=True, started=True)],
                       containers=[cstatus("app", running(), ready=True)],
                       conditions=[{"type": "Initialized", "status": "True"}])
        assert row(pod) == ("2/2", "Running", "0")

    def test_being_deleted(self) -> None:
        pod = make_pod(containers=[cstatus("app", running(), ready=True)], deletion=True)
        assert row(pod) == ("1/1", "Terminating", "0")

    def test_deadline_exceeded_overridden_by_container_reason(self) -> None:
        pod = make_pod(phase="Failed", reason="DeadlineExceeded",
                       containers=[cstatus("app", terminated(137, "Error"))])
        assert row(pod)[1] == "Error"
        pod["status"]["containerStatuses"][0]["state"] = running()
        assert row(pod)[1] == "DeadlineExceeded"


class TestStatusRules:
    def test_status_reason_replaces_phase(self) -> None:
        assert row(make_pod(phase="Failed", reason="Evicted"))[1] == "Evicted"

    def test_scheduling_gated(self) -> None:
        cond = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
        assert row(make_pod(phase="Pending", conditions=cond))[1] == "SchedulingGated"

    def test_init_signal_and_exit_code(self) -> None:
        base = dict(phase="Pending", init_specs=INITS[:1])
        pod = make_pod(**base, init=[cstatus("init-a", terminated(137, signal=9))])
        assert row(pod)[1] == "Init:Signal:9"
        pod = make_pod(**base, init=[cstatus("init-a", terminated(3))])
        assert row(pod)[1] == "Init:ExitCode:3"

    def test_init_waiting_reason(self) -> None:
        pod = make_pod(phase="Pending", init_specs=INITS[:1],
                       init=[cstatus("init-a", waiting("ImagePullBackOff"))])
        assert row(pod)[1] == "Init:ImagePullBackOff"

    def test_init_waiting_pod_initializing_counts_as_progress(self) -> None:
        init = [cstatus("init-a", terminated(0, "Completed")),
                cstatus("init-b", waiting("PodInitializing"))]
        pod = make_pod(phase="Pending", init_specs=INITS, init=init)
        assert row(pod)[1] == "Init:1/2"

    def test_app_signal_and_exit_code(self) -> None:
        assert row(make_pod(containers=[cstatus("app", terminated(2))]))[1] == "ExitCode:2"
        assert row(make_pod(containers=[cstatus("app", terminated(0, signal=15))]))[1] == \
            "Signal:15"

    def test_first_container_has_final_say(self) -> None:
        pod = make_pod(app=["a", "b"], containers=[
            cstatus("a", waiting("ErrImagePull")), cstatus("b", waiting("CrashLoopBackOff"))])
        assert row(pod)[1] == "ErrImagePull"

    def test_completed_with_running_ready_container(self) -> None:
        statuses = [cstatus("a", terminated(0, "Completed")), cstatus("b", running(), ready=True)]
        pod = make_pod(app=["a", "b"], containers=statuses)
        assert row(pod)[1] == "NotReady"
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
        assert row(pod)[1] == "Running"

    def test_node_lost_being_deleted_is_unknown(self) -> None:
        pod = make_pod(reason="NodeLost", containers=[cstatus("app", running())], deletion=True)
        assert row(pod)[1] == "Unknown"

    def test_terminal_phase_not_terminating(self) -> None:
        pod = make_pod(phase="Succeeded", deletion=True,
                       containers=[cstatus("app", terminated(0, "Completed"))])
        assert row(pod)[1] == "Completed"

    def test_initialized_condition_lets_app_containers_speak(self) -> None:
        sidecar = [{"name": "log", "image": "alpine", "restartPolicy": "Always"}]
        pod = make_pod(init_specs=sidecar,
                       init=[cstatus("log", waiting("CrashLoopBackOff"), restarts=2,
                                     last={"terminated": terminated(1, "Error",
                                                                    finished=40)["terminated"]})],
                       containers=[cstatus("app", running(), ready=True, restarts=1,
                                           last={"terminated": terminated(
                                               1, "Error", finished=30)["terminated"]})],
                       conditions=[{"type": "Initialized", "status": "True"}])
        # The init walk already set the reason; a running app container does not reset it.
        assert row(pod) == ("1/2", "Init:CrashLoopBackOff", "3 (20s ago)")
        pod["status"]["conditions"] = []
        assert row(pod) == ("0/2", "Init:CrashLoopBackOff", "2 (20s ago)")

    def test_restarts_without_finish_time_show_plain_count(self) -> None:
        pod = make_pod(containers=[cstatus("app", running(), ready=True, restarts=4)])
        assert row(pod) == ("1/1", "Running", "4")


def test_get_pods_table_alignment_and_wide() -> None:
    a = make_pod(name="liveness-exec", containers=[cstatus("app", running(), ready=True)])
    b = make_pod(name="b", phase="Pending")
    text = get_pods(pods=[a, b], now=75)
    assert text == (
        "NAME            READY   STATUS    RESTARTS   AGE\n"
        "b               0/1     Pending   0          75s\n"
        "liveness-exec   1/1     Running   0          75s\n"
    )
    a["spec"]["nodeName"] = "node01"
    a["status"]["podIPs"] = [{"ip": "10.244.0.5"}]
    wide = get_pods(pods=[a], now=75, wide=True)
    assert wide == (
        "NAME            READY   STATUS    RESTARTS   AGE   IP           NODE     "
        "NOMINATED NODE   READINESS GATES\n"
        "liveness-exec   1/1     Running   0          75s   10.244.0.5   node01   "
        "<none>           <none>\n"
    )
    assert get_pods(pods=[], now=0) == ""


def test_tabwriter_blocks_and_minwidth() -> None:
    assert align(text="a\tb\nlonger\tc", minwidth=0, padding=2) == "a       b\nlonger  c"
    # A line without a tab ends the column block.
    assert align(text="a\tb\nplain\nxyz\tc", minwidth=0, padding=2) == "a  b\nplain\nxyz  c"
    assert align(text="a\tb", minwidth=6, padding=3) == "a     b"


def test_watch_prints_header_once_and_widens_columns() -> None:
    watch = PodWatch()
    pod = make_pod(phase="Pending")
    first = watch.line(pod=pod, now=0)
    assert first == ("NAME   READY   STATUS    RESTARTS   AGE\n"
                     "demo   0/1     Pending   0          0s\n")
    pod["status"]["containerStatuses"] = [cstatus("app", waiting("ContainerCreating"))]
    assert watch.line(pod=pod, now=1) == "demo   0/1     ContainerCreating   0          1s\n"
    pod["status"]["containerStatuses"] = [cstatus("app", running(), ready=True)]
    pod["status"]["phase"] = "Running"
    assert watch.line(pod=pod, now=3) == "demo   1/1     Running             0          3s\n"


def event(name: str, reason: str, message: str, *, first: float, last: float, count: int = 1,
          kind: str = "Pod", etype: str = "Normal") -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": kind, "name": "liveness-exec", "namespace": "default"},
        "reason": reason, "message": message, "type": etype,
        "firstTimestamp": timestamp(first), "lastTimestamp": timestamp(last), "count": count,
        "source": {"component": "kubelet", "host": "node01"},
    }


def test_get_events_in_name_order() -> None:
    events = [
        event("liveness-exec.0000000000000002", "Unhealthy",
              "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory",
              first=35, last=45, count=3, etype="Warning"),
        event("liveness-exec.0000000000000001", "Scheduled",
              "Successfully assigned default/liveness-exec to node01", first=0, last=0),
    ]
    assert get_events(events=events, now=60) == (
        "LAST SEEN   TYPE      REASON      OBJECT              MESSAGE\n"
        "60s         Normal    Scheduled   pod/liveness-exec   "
        "Successfully assigned default/liveness-exec to node01\n"
        "15s         Warning   Unhealthy   pod/liveness-exec   Liveness probe failed: cat: "
        "can't open '/tmp/healthy': No such file or directory\n"
    )


def test_nodes_and_services() -> None:
    node = {"metadata": {"name": "node01", "creationTimestamp": timestamp(0),
                         "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.34.0"}}}
    assert get_nodes(nodes=[node], now=300) == (
        "NAME     STATUS   ROLES           AGE   VERSION\n"
        "node01   Ready    control-plane   5m    v1.34.0\n"
    )
    svc = {"metadata": {"name": "web", "creationTimestamp": timestamp(0)},
           "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10",
                    "ports": [{"port": 80, "protocol": "TCP"}]}}
    assert get_services(services=[svc], now=60) == (
        "NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\n"
        "web    ClusterIP   10.96.0.10   <none>        80/TCP    60s\n"
    )


def test_go_json_escapes_and_sorts() -> None:
    text = go_json(obj=pod_list(pods=[{"b": "<a&b>", "a": "中"}]))
    assert text == (
        '{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "a": "中",\n'
        '            "b": "\\u003ca\\u0026b\\u003e"\n        }\n    ],\n    "kind": "List",\n'
        '    "metadata": {\n        "resourceVersion": ""\n    }\n}'
    )


def test_get_namespaces_prints_name_phase_and_age() -> None:
    # kubectl's printNamespace: NAME, STATUS (status.phase), AGE; sorted by name
    namespaces = [
        {"metadata": {"name": "team-a", "creationTimestamp": timestamp(100)},
         "status": {"phase": "Terminating"}},
        {"metadata": {"name": "default", "creationTimestamp": timestamp(0)},
         "status": {"phase": "Active"}},
    ]
    assert get_namespaces(namespaces=namespaces, now=3600) == (
        "NAME      STATUS        AGE\n"
        "default   Active        60m\n"
        "team-a    Terminating   58m\n")
    assert get_namespaces(namespaces=[], now=0) == ""


def test_get_serviceaccounts_counts_the_listed_secrets() -> None:
    # kubectl's printServiceAccount: NAME, SECRETS (len(secrets)), AGE
    accounts = [
        {"metadata": {"name": "default", "namespace": "default",
                      "creationTimestamp": timestamp(0)}},
        {"metadata": {"name": "builder", "namespace": "default",
                      "creationTimestamp": timestamp(50)},
         "secrets": [{"name": "builder-token"}, {"name": "registry"}]},
    ]
    assert get_serviceaccounts(accounts=accounts, now=90) == (
        "NAME      SECRETS   AGE\n"
        "builder   2         40s\n"
        "default   0         90s\n")
    assert get_serviceaccounts(accounts=[], now=0) == ""
