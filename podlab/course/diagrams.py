"""SVG diagrams drawn on the server, labels translated, colours from the page's CSS classes.

Kubernetes names (Pending, Running, SIGTERM ...) stay in English in both languages.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _


@dataclass
class Svg:
    width: int
    height: int
    title: str
    desc: str
    parts: list[str] = field(default_factory=list)

    def box(self, x: float, y: float, w: float, h: float, label: str, *, cls: str = "node",
            sub: str = "") -> None:
        self.parts.append(
            f'<rect class="dg-{cls}" x="{x}" y="{y}" width="{w}" height="{h}" rx="8" ry="8"/>'
        )
        cy = y + h / 2 + (0 if not sub else -7)
        self.text(x + w / 2, cy + 5, label, cls="dg-label")
        if sub:
            self.text(x + w / 2, cy + 22, sub, cls="dg-sub")

    def text(self, x: float, y: float, label: str, *, cls: str = "dg-note",
             anchor: str = "middle") -> None:
        self.parts.append(
            f'<text class="{cls}" x="{x}" y="{y}" text-anchor="{anchor}">'
            f"{html.escape(label)}</text>"
        )

    def arrow(self, x1: float, y1: float, x2: float, y2: float, label: str = "", *,
              cls: str = "dg-arrow", dx: float = 0, dy: float = -6) -> None:
        self.parts.append(
            f'<line class="{cls}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
            f'marker-end="url(#dg-head)"/>'
        )
        if label:
            self.text((x1 + x2) / 2 + dx, (y1 + y2) / 2 + dy, label)

    def path(self, d: str, label: str = "", *, lx: float = 0, ly: float = 0,
             cls: str = "dg-arrow") -> None:
        self.parts.append(f'<path class="{cls}" d="{d}" fill="none" marker-end="url(#dg-head)"/>')
        if label:
            self.text(lx, ly, label)

    def render(self, name: str) -> str:
        title_id = f"dg-{name}-title"
        desc_id = f"dg-{name}-desc"
        return (
            f'<figure class="diagram" data-diagram="{name}">'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-labelledby="{title_id} {desc_id}" class="diagram-svg">'
            f'<title id="{title_id}">{html.escape(self.title)}</title>'
            f'<desc id="{desc_id}">{html.escape(self.desc)}</desc>'
            '<defs><marker id="dg-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            'class="dg-head"/></marker></defs>'
            + "".join(self.parts)
            + f"</svg><figcaption>{html.escape(self.title)}</figcaption></figure>"
        )


def pod_phases() -> Svg:
    s = Svg(760, 300, _("Pod phases"),
            _("A Pod starts Pending, runs, and ends Succeeded or Failed; the deprecated "
              "Unknown phase is never set."))
    s.box(20, 110, 130, 56, "Pending", cls="waiting")
    s.box(260, 110, 130, 56, "Running", cls="running")
    s.box(560, 30, 170, 56, "Succeeded", cls="done")
    s.box(560, 190, 170, 56, "Failed", cls="failed")
    s.arrow(150, 138, 258, 138, _("scheduled, containers started"))
    s.arrow(390, 125, 558, 62, _("all containers exited 0"), dy=-10)
    s.arrow(390, 152, 558, 214, _("a container failed, no restart"), dy=22)
    s.arrow(150, 160, 558, 230, "", cls="dg-arrow dg-faint")
    s.text(300, 206, _("init failed (Never)"), cls="dg-note")
    s.text(380, 285, _("Unknown: deprecated, never set; on a lost node the phase stays as it was"),
           cls="dg-note")
    return s


def container_states() -> Svg:
    s = Svg(760, 260, _("Container states"),
            _("Waiting, Running and Terminated, with the restart loop under the restart "
              "policy."))
    s.box(20, 90, 160, 64, "Waiting", cls="waiting", sub="ContainerCreating")
    s.box(300, 90, 160, 64, "Running", cls="running")
    s.box(580, 90, 160, 64, "Terminated", cls="failed", sub="Completed / Error")
    s.arrow(180, 122, 298, 122, _("started"))
    s.arrow(460, 122, 578, 122, _("process exited"))
    s.path("M660,156 C660,240 100,240 100,158",
           _("restartPolicy allows it: wait for the back-off, then restart"), lx=380, ly=232)
    s.text(100, 70, "CrashLoopBackOff / ImagePullBackOff", cls="dg-sub")
    return s


def termination() -> Svg:
    s = Svg(780, 230, _("Graceful termination"),
            _("After a delete: preStop hook, then SIGTERM, then SIGKILL when the grace period "
              "runs out."))
    s.arrow(20, 120, 760, 120, "", cls="dg-axis")
    marks = [
        (30, "t=0", _("kubectl delete: deletionTimestamp set, Terminating")),
        (190, "preStop", _("preStop hook runs")),
        (360, "SIGTERM", _("TERM sent to PID 1")),
        (640, "SIGKILL", _("grace period over: KILL (exit 137)")),
    ]
    for x, head, note in marks:
        s.parts.append(f'<line class="dg-tick" x1="{x}" y1="105" x2="{x}" y2="135"/>')
        s.text(x, 95, head, cls="dg-label", anchor="start")
        s.text(x, 160, note, cls="dg-note", anchor="start")
    s.parts.append('<rect class="dg-span" x="30" y="178" width="610" height="14" rx="4"/>')
    s.text(335, 214, _("terminationGracePeriodSeconds (default 30 s)"), cls="dg-sub")
    return s


def probe_timeline() -> Svg:
    s = Svg(780, 250, _("Probes over time"),
            _("The startup probe runs first; liveness and readiness start only after it "
              "succeeds."))
    s.arrow(20, 210, 760, 210, "", cls="dg-axis")
    s.text(760, 232, _("time"), anchor="end")
    s.parts.append('<rect class="dg-span dg-waiting" x="40" y="40" width="220" height="34" '
                   'rx="6"/>')
    s.text(150, 62, "startupProbe", cls="dg-label")
    s.parts.append('<rect class="dg-span dg-running" x="260" y="90" width="480" height="34" '
                   'rx="6"/>')
    s.text(500, 112, "livenessProbe", cls="dg-label")
    s.parts.append('<rect class="dg-span dg-done" x="260" y="140" width="480" height="34" '
                   'rx="6"/>')
    s.text(500, 162, "readinessProbe", cls="dg-label")
    for x in range(40, 261, 44):
        s.parts.append(f'<circle class="dg-dot" cx="{x + 10}" cy="57" r="4"/>')
    s.text(40, 30, _("initialDelaySeconds, then every periodSeconds"), anchor="start")
    s.text(270, 200, _("failureThreshold failures in a row: restart (liveness) or "
                       "not Ready (readiness)"), anchor="start", cls="dg-sub")
    return s


def pod_creation() -> Svg:
    s = Svg(800, 300, _("How a Pod is created"),
            _("kubectl asks the API server, which stores the Pod in etcd; the scheduler binds "
              "it to a node; that node's kubelet starts it through the CRI."))
    s.box(20, 40, 120, 50, "kubectl")
    s.box(220, 40, 150, 50, "kube-apiserver")
    s.box(450, 40, 110, 50, "etcd")
    s.box(220, 200, 150, 50, "kube-scheduler")
    s.box(450, 200, 110, 50, "kubelet")
    s.box(640, 200, 140, 50, _("runtime (CRI)"))
    s.arrow(140, 65, 218, 65, _("create"))
    s.arrow(370, 65, 448, 65, _("store"))
    s.arrow(280, 198, 280, 92, _("watch, bind"), dx=-40, dy=0)
    s.arrow(505, 198, 505, 92, _("watch, status"), dx=48, dy=0)
    s.arrow(560, 225, 638, 225, _("run"))
    s.text(400, 140, _("1 validate, default, admit  2 schedule  3 run  4 report"), cls="dg-sub")
    return s


def pod_namespaces() -> Svg:
    s = Svg(760, 280, _("Inside a Pod"),
            _("The pause container holds the shared network, IPC and UTS namespaces; every "
              "container in the Pod joins them and can mount the Pod's volumes."))
    s.parts.append('<rect class="dg-pod" x="20" y="20" width="720" height="240" rx="14"/>')
    s.text(40, 46, _("Pod (one IP, one port space, one hostname)"), anchor="start",
           cls="dg-label")
    s.box(50, 70, 180, 70, "pause", cls="unknown", sub=_("holds the namespaces"))
    s.box(290, 70, 180, 70, _("app container"), cls="running")
    s.box(530, 70, 180, 70, _("sidecar container"), cls="running")
    s.box(50, 180, 660, 50, _("shared: network (localhost), IPC, UTS; volumes"), cls="done")
    s.arrow(380, 142, 380, 178, "")
    s.arrow(620, 142, 620, 178, "")
    s.arrow(140, 142, 140, 178, "")
    return s


def init_sidecar_order() -> Svg:
    s = Svg(800, 250, _("Start and stop order"),
            _("Init containers run one after another to completion; a sidecar starts and keeps "
              "running; app containers start last and stop first."))
    s.arrow(20, 220, 780, 220, "", cls="dg-axis")
    s.parts.append('<rect class="dg-span dg-done" x="30" y="30" width="140" height="32" rx="6"/>')
    s.text(100, 51, "init-1", cls="dg-label")
    s.parts.append('<rect class="dg-span dg-done" x="175" y="70" width="140" height="32" rx="6"/>')
    s.text(245, 91, "init-2", cls="dg-label")
    s.parts.append('<rect class="dg-span dg-waiting" x="320" y="110" width="440" height="32" '
                   'rx="6"/>')
    s.text(540, 131, _("sidecar (restartPolicy: Always)"), cls="dg-label")
    s.parts.append('<rect class="dg-span dg-running" x="400" y="150" width="300" height="32" '
                   'rx="6"/>')
    s.text(550, 171, _("app containers"), cls="dg-label")
    s.text(30, 242, _("each must exit 0 before the next"), anchor="start", cls="dg-sub")
    s.text(760, 242, _("stop: apps first, then sidecars in reverse"), anchor="end", cls="dg-sub")
    return s


def qos_classes() -> Svg:
    s = Svg(800, 240, _("QoS classes"),
            _("Guaranteed, Burstable and BestEffort, and the order in which the kubelet evicts "
              "under node pressure."))
    s.box(20, 40, 240, 110, "Guaranteed", cls="running",
          sub=_("requests = limits, CPU and memory"))
    s.box(280, 40, 240, 110, "Burstable", cls="waiting", sub=_("some requests or limits"))
    s.box(540, 40, 240, 110, "BestEffort", cls="failed", sub=_("no requests, no limits"))
    s.arrow(780, 195, 20, 195, "", cls="dg-axis")
    s.text(400, 225, _("evicted last ← under memory pressure → evicted first"), cls="dg-sub")
    return s


def backoff() -> Svg:
    delays = [0, 10, 20, 40, 80, 160, 300]
    s = Svg(760, 280, _("Restart back-off"),
            _("The first restart is immediate; then the wait doubles from 10 s up to 300 s, "
              "counted from the previous exit, and resets after 10 minutes of running."))
    base = 240
    for i, d in enumerate(delays):
        x = 40 + i * 100
        h = d * 0.6
        s.parts.append(f'<rect class="dg-bar" x="{x}" y="{base - h}" width="60" height="{h}" '
                       'rx="4"/>')
        s.text(x + 30, base - h - 8, f"{d}s", cls="dg-label")
        s.text(x + 30, base + 22, _("restart %(n)d") % {"n": i + 1}, cls="dg-sub")
    s.arrow(20, base, 740, base, "", cls="dg-axis")
    return s


DIAGRAMS: dict[str, Callable[[], Svg]] = {
    "pod-phases": pod_phases,
    "container-states": container_states,
    "termination": termination,
    "probe-timeline": probe_timeline,
    "pod-creation": pod_creation,
    "pod-namespaces": pod_namespaces,
    "init-sidecar-order": init_sidecar_order,
    "qos-classes": qos_classes,
    "backoff": backoff,
}


def render(name: str, *, lang: str) -> str:
    if name not in DIAGRAMS:
        raise ValueError(f"unknown diagram {name!r}")
    with translation.override(lang):
        return DIAGRAMS[name]().render(name)
