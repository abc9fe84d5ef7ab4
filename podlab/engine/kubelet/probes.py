"""Probe workers (``pkg/kubelet/prober/worker.go``) and probe execution (``prober.go``).

One ``ProbeWorker`` per (Pod, container, probe type) ticks every ``periodSeconds`` from the
moment the kubelet first synced the Pod. Each tick follows the worker rules of the reference
(§5.2): initial results per new container ID, ``initialDelaySeconds`` measured in whole
seconds since the container started, startup gating, thresholds on consecutive results, and
the on-hold rule after a liveness/startup failure. Every failed attempt records an
``Unhealthy`` event before thresholds are applied (§5.4).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from podlab.engine.core import events as ev
from podlab.engine.core.loop import PRIORITY_KUBELET, Timer
from podlab.engine.core.version import KUBERNETES_VERSION
from podlab.engine.runtime.process import Request, Response
from podlab.engine.runtime.runtime import ExecResult

HISTORY = 10  # probe results kept per worker for the lab's meters
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")

if TYPE_CHECKING:
    from podlab.engine.kubelet.kubelet import PodWorker, Slot

LIVENESS = "liveness"
READINESS = "readiness"
STARTUP = "startup"
PROBE_FIELDS = {LIVENESS: "livenessProbe", READINESS: "readinessProbe", STARTUP: "startupProbe"}

SUCCESS = "Success"
FAILURE = "Failure"
UNKNOWN = "Unknown"
INITIAL = {LIVENESS: SUCCESS, READINESS: FAILURE, STARTUP: UNKNOWN}
MAX_REDIRECTS = 10
MAX_BODY = 10 * 1024
MAX_EXEC_OUTPUT = 10 * 1024
USER_AGENT = f"kube-probe/{KUBERNETES_VERSION}"


def probe_int(probe: dict[str, Any], name: str, default: int) -> int:
    value = probe.get(name)
    if value is None or (name != "initialDelaySeconds" and value <= 0):
        return default
    return int(value)


def resolve_port(port: Any, container: dict[str, Any]) -> int | None:
    """A numeric port, or a named ``containerPort`` of the container."""
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        for spec in container.get("ports") or []:
            if spec.get("name") == port:
                return int(spec.get("containerPort", 0))
    return None


class ProbeOutcome:
    __slots__ = ("output", "result", "warning")

    def __init__(self, result: str, output: str = "", warning: str = "") -> None:
        self.result = result
        self.output = output
        self.warning = warning


#: the outcome of every plain success (outcomes are read, never changed)
SUCCEEDED = ProbeOutcome(SUCCESS)


def http_headers(headers: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    """The request headers of an httpGet probe: the kubelet's defaults, then the Pod's
    (canonical names; an empty ``User-Agent`` or ``Accept`` removes the default)."""
    request_headers: dict[str, str] = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for header in headers:
        name = header.get("name", "")
        value = header.get("value", "")
        canonical = "-".join(part.capitalize() for part in name.split("-"))
        if canonical in ("User-Agent", "Accept") and value == "":
            request_headers.pop(canonical, None)
            continue
        request_headers[canonical] = value
    return tuple(request_headers.items())


def http_probe(
    connect: Callable[[str, Request], Response],
    host: str,
    port: int,
    path: str,
    scheme: str,
    headers: list[dict[str, str]],
    timeout: float,
    *,
    first: Request | None = None,
    answered: Response | None = None,
) -> tuple[ProbeOutcome, float]:
    """GET with the kubelet's rules: 200–399 succeed, same-host redirects are followed.
    ``first`` is the first request prepared before (a probe worker keeps its own);
    ``answered`` the answer to it when it was already sent."""
    header_items = first.headers if first is not None else http_headers(headers)
    elapsed = 0.0
    current_host, current_port, current_path = host, port, path or "/"
    scheme = (scheme or "HTTP").lower()
    for hop in range(MAX_REDIRECTS + 1):
        if hop == 0 and first is not None:
            request = first
        else:
            request = Request(
                kind="http",
                port=current_port,
                path=current_path,
                method="GET",
                host=current_host,
                headers=header_items,
            )
        response = (
            answered if hop == 0 and answered is not None else connect(current_host, request)
        )
        if response.refused:
            url = f"{scheme}://{current_host}:{current_port}{current_path}"
            message = (
                f'Get "{url}": dial tcp {current_host}:{current_port}: connect: connection refused'
            )
            return ProbeOutcome(FAILURE, message), elapsed
        if elapsed + response.delay > timeout:
            url = f"{scheme}://{current_host}:{current_port}{current_path}"
            message = (
                f'Get "{url}": context deadline exceeded '
                "(Client.Timeout exceeded while awaiting headers)"
            )
            return ProbeOutcome(FAILURE, message), timeout
        elapsed += response.delay
        status = response.status
        if 300 <= status < 400:
            location = dict(response.headers).get("Location", "")
            target = urlsplit(location)
            target_host = target.hostname or current_host
            if location and target_host == current_host:
                current_path = (target.path or "/") + (f"?{target.query}" if target.query else "")
                if target.port:
                    current_port = target.port
                continue
            body = response.body[:MAX_BODY]
            warning = "Probe terminated redirects"
            if body:
                warning += f", Response body: {body}"
            return ProbeOutcome(SUCCESS, warning=warning), elapsed
        if 200 <= status < 400:
            return SUCCEEDED, elapsed
        return ProbeOutcome(FAILURE, f"HTTP probe failed with statuscode: {status}"), elapsed
    return ProbeOutcome(FAILURE, "stopped after 10 redirects"), elapsed


def tcp_probe(
    connect: Callable[[str, Request], Response],
    host: str,
    port: int,
    timeout: float,
    *,
    first: Request | None = None,
    answered: Response | None = None,
) -> tuple[ProbeOutcome, float]:
    response = answered if answered is not None else connect(
        host, first if first is not None else Request(kind="tcp", port=port)
    )
    if response.refused:
        return ProbeOutcome(FAILURE, f"dial tcp {host}:{port}: connect: connection refused"), 0.0
    if response.delay > timeout:
        return ProbeOutcome(FAILURE, f"dial tcp {host}:{port}: i/o timeout"), timeout
    return SUCCEEDED, 0.0


def grpc_probe(
    connect: Callable[[str, Request], Response],
    host: str,
    port: int,
    service: str,
    timeout: float,
) -> tuple[ProbeOutcome, float]:
    response = connect(host, Request(kind="grpc", port=port, service=service))
    limit = ev.go_duration(timeout)
    if response.refused:
        message = (
            f'timeout: failed to connect service "{host}:{port}" within {limit}: '
            "context deadline exceeded"
        )
        return ProbeOutcome(FAILURE, message), timeout
    if response.delay > timeout:
        return ProbeOutcome(
            FAILURE, f"timeout: health rpc did not complete within {limit}"
        ), timeout
    if response.grpc_status == "SERVING":
        return ProbeOutcome(SUCCESS), response.delay
    if response.grpc_status == "UNIMPLEMENTED":
        message = (
            "this server does not implement the grpc health protocol "
            "(grpc.health.v1.Health): unknown service grpc.health.v1.Health"
        )
        return ProbeOutcome(FAILURE, message), response.delay
    if response.grpc_status == "SERVICE_UNKNOWN":
        message = (
            "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"
        )
        return ProbeOutcome(FAILURE, message), response.delay
    return (
        ProbeOutcome(FAILURE, f'service unhealthy (responded with "{response.grpc_status}")'),
        response.delay,
    )


class ProbeWorker:
    """One probe of one container, ticking on the kubelet's schedule."""

    def __init__(self, pod: PodWorker, slot: Slot, kind: str, spec: dict[str, Any]) -> None:
        self.pod = pod
        self.slot = slot
        self.kind = kind
        self.spec = spec
        self.field = f"{slot.path}.{PROBE_FIELDS[kind]}"
        self.initial_delay = probe_int(spec, "initialDelaySeconds", 0)
        self.period = probe_int(spec, "periodSeconds", 10)
        self.timeout = probe_int(spec, "timeoutSeconds", 1)
        self.success_threshold = probe_int(spec, "successThreshold", 1)
        self.failure_threshold = probe_int(spec, "failureThreshold", 3)
        self.container_id = ""
        self.result: str | None = None  # the cached result for the current container ID
        self.last_result = UNKNOWN
        self.result_run = 0
        self.on_hold = False
        self.in_flight = False
        self.stopped = False
        self.timer: Timer | None = None
        self.attempts = 0
        #: the last results, newest last: (t, succeeded, output) — what the lab's meters show
        self.history: deque[tuple[float, bool, str]] = deque(maxlen=HISTORY)
        self.label = kind.capitalize()
        #: the handler prepared once for a Pod IP: (Pod IP, host, port, first request)
        self._prepared: tuple[str, str, int | None, Request | None] | None = None
        #: which handler the probe has (the first of ``HANDLERS`` in its spec, "" for none)
        self.handler = next((h for h in HANDLERS if h in spec), "")
        #: the last first answer that decided a run alone, the request it answered and the
        #: run's outcome and elapsed time
        self._outcome_of: tuple[Response, Request, ProbeOutcome, float] | None = None

    def report(self) -> dict[str, Any]:
        """The worker's schedule, counters and last results (for meters; no prose)."""
        handler = self.handler
        # Consecutive results of the same kind, newest first (what the threshold counts; the
        # kubelet resets its own counter after acting, the meter keeps showing the run).
        # Only the current container's results count: a restart starts a new run.
        inst = self.slot.current
        since = inst.started_at if inst is not None and inst.started_at is not None else None
        run, last_ok = 0, None
        for t, ok, _ in reversed(self.history):
            if since is not None and t < since:
                break
            if last_ok is None:
                last_ok = ok
            if ok != last_ok:
                break
            run += 1
        timer = self.timer
        return {
            "pod": self.pod.name,
            "container": self.slot.name,
            "probe": self.kind,
            "handler": handler,
            "period": self.period,
            "initial_delay": self.initial_delay,
            "timeout": self.timeout,
            "success_threshold": self.success_threshold,
            "failure_threshold": self.failure_threshold,
            "successes": run if last_ok else 0,
            "failures": run if last_ok is False else 0,
            "result": self.result,
            "stopped": self.stopped,
            "results": [
                {"t": t, "ok": ok, "message": output} for t, ok, output in self.history
            ],
            # A startup probe that succeeded does not run again for this container.
            "next_t": None if (timer is None or self.stopped
                               or (self.kind == STARTUP and self.slot.started)) else timer.time,
        }

    # --- schedule ------------------------------------------------------------------------

    def start(self) -> None:
        self.timer = self.pod.loop.call_later(0, self.tick, PRIORITY_KUBELET)

    def stop(self) -> None:
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def trigger(self) -> None:
        """A manual run now; the ticker restarts from here (used for readiness)."""
        if self.stopped:
            return
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.pod.loop.call_later(0, self.tick, PRIORITY_KUBELET)

    def tick(self) -> None:
        if self.stopped:
            return
        self.timer = self.pod.loop.call_later(self.period, self.tick, PRIORITY_KUBELET)
        if self.in_flight:
            return
        if not self.do_probe():
            self.stop()

    # --- worker rules --------------------------------------------------------------------

    def _set(self, result: str) -> None:
        if result != self.result:
            self.result = result
            self.pod.probe_result_changed(self.slot, self.kind, result)

    def do_probe(self) -> bool:
        """One tick; False means the worker ends."""
        pod = self.pod
        if pod.phase_terminal:
            return False
        instances = self.slot.instances
        if not instances:
            return True
        inst = instances[-1]
        if inst.container_id != self.container_id:
            self.container_id = inst.container_id
            self.result_run = 0
            self.last_result = UNKNOWN
            self.on_hold = False
            self._set(INITIAL[self.kind])
        if self.on_hold:
            return True
        if inst.started_at is None or inst.finished_at is not None or self.slot.starting:
            if inst.finished_at is not None:
                self._set(FAILURE)
                return self.slot.sidecar or pod.restart_policy != "Never"
            return True
        if pod.deleting and self.kind in (LIVENESS, STARTUP):
            self._set(SUCCESS)
            return False
        if self.initial_delay and math.floor(pod.loop.now - inst.started_at) < self.initial_delay:
            return True
        if self.kind == STARTUP:
            if self.slot.started:
                return True
        elif not self.slot.started:
            return True
        self._run(inst, inst.container_id)
        return True

    def run(self, container_id: str) -> None:
        inst = self.slot.current
        if inst is None:
            return
        self._run(inst, container_id)

    def _run(self, inst: Any, container_id: str) -> None:
        handler = self.spec
        self.attempts += 1
        pod = self.pod
        host_default = pod.pod_ip
        kind = self.handler
        if kind == "exec":
            command = [str(part) for part in (handler["exec"].get("command") or [])]
            self.in_flight = True

            def done(result: ExecResult) -> None:
                self.in_flight = False
                if result.error:
                    return  # a prober error is discarded
                if result.timed_out:
                    text = f'command "{" ".join(command)}" timed out'
                    self.finish(container_id, ProbeOutcome(FAILURE, text))
                elif result.exit_code == 0:
                    self.finish(container_id, ProbeOutcome(SUCCESS))
                else:
                    output = result.output.encode()[:MAX_EXEC_OUTPUT].decode(errors="ignore")
                    self.finish(container_id, ProbeOutcome(FAILURE, output))

            inst.exec(command, float(self.timeout), done)
            return
        connect = pod.connect_from_node
        if kind == "httpGet" or kind == "tcpSocket":
            host, port, first = self._prepare(host_default)
            if port is None or first is None:
                return
            # The first answer decides the outcome unless it redirects; a server hands out
            # one answer object while its files hold (a TCP accept is one object), so the
            # outcome worked out for that object stands.
            answer = connect(host, first)
            known = self._outcome_of
            if known is not None and known[0] is answer and known[1] is first:
                outcome, elapsed = known[2], known[3]
            else:
                if kind == "httpGet":
                    get = handler["httpGet"]
                    outcome, elapsed = http_probe(
                        connect,
                        host,
                        port,
                        get.get("path") or "/",
                        get.get("scheme") or "HTTP",
                        [],
                        float(self.timeout),
                        first=first,
                        answered=answer,
                    )
                else:
                    outcome, elapsed = tcp_probe(
                        connect, host, port, float(self.timeout), first=first, answered=answer
                    )
                if not answer.refused and not 300 <= answer.status < 400:
                    self._outcome_of = (answer, first, outcome, elapsed)
        elif kind == "grpc":
            grpc = handler["grpc"]
            outcome, elapsed = grpc_probe(
                connect,
                host_default,
                int(grpc.get("port", 0)),
                grpc.get("service") or "",
                float(self.timeout),
            )
        else:
            return
        if elapsed <= 0:
            # the container was checked before the run: it only needs to be still running
            if (not self.stopped and inst.started_at is not None and inst.finished_at is None
                    and self.slot.instances[-1] is inst
                    and self.container_id == container_id == inst.container_id):
                self._record(outcome)
            return
        self.in_flight = True

        def later() -> None:
            self.in_flight = False
            self.finish(container_id, outcome)

        pod.loop.call_later(elapsed, later, PRIORITY_KUBELET)

    def _prepare(self, pod_ip: str) -> tuple[str, int | None, Request | None]:
        """Host, port and first request of an httpGet or tcpSocket probe, worked out once
        per Pod IP (the probe and the container's ports cannot change under a Pod)."""
        prepared = self._prepared
        if prepared is not None and prepared[0] == pod_ip:
            return prepared[1], prepared[2], prepared[3]
        handler = self.spec
        request: Request | None = None
        if "httpGet" in handler:
            get = handler["httpGet"]
            port = resolve_port(get.get("port"), self.slot.spec)
            host = get.get("host") or pod_ip
            if port is not None:
                request = Request(
                    kind="http",
                    port=port,
                    path=get.get("path") or "/",
                    method="GET",
                    host=host,
                    headers=http_headers(list(get.get("httpHeaders") or [])),
                )
        else:
            sock = handler["tcpSocket"]
            port = resolve_port(sock.get("port"), self.slot.spec)
            host = sock.get("host") or pod_ip
            if port is not None:
                request = Request(kind="tcp", port=port)
        self._prepared = (pod_ip, host, port, request)
        return host, port, request

    def finish(self, container_id: str, outcome: ProbeOutcome) -> None:
        if self.stopped or self.container_id != container_id:
            return
        inst = self.slot.current
        if inst is None or inst.container_id != container_id or not inst.running:
            return
        self._record(outcome)

    def _record(self, outcome: ProbeOutcome) -> None:
        """A result of the current container's run: the history, events and thresholds."""
        label = self.label
        self.history.append((self.pod.loop.now, outcome.result == SUCCESS, outcome.output))
        self.pod.sim.probe_results += 1
        if outcome.result == FAILURE:
            self.pod.container_event(
                self.slot, ev.UNHEALTHY, f"{label} probe failed: {outcome.output}", ev.WARNING
            )
        elif outcome.warning:
            self.pod.container_event(
                self.slot,
                ev.PROBE_WARNING,
                f"{label} probe warning: {outcome.warning}",
                ev.WARNING,
            )
        result = outcome.result
        if result == self.last_result:
            self.result_run += 1
        else:
            self.last_result = result
            self.result_run = 1
        if (result == FAILURE and self.result_run < self.failure_threshold) or (
            result == SUCCESS and self.result_run < self.success_threshold
        ):
            return
        if result != self.result:
            self._set(result)
        if result == FAILURE and self.kind in (LIVENESS, STARTUP):
            self.on_hold = True
            self.result_run = 0
