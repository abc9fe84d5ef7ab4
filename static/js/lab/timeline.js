// The timeline: one lane per Pod (phase) and per container (states, exits, probe ticks,
// hooks, termination with grace countdown), drawn as SVG. Clicking it seeks.

import { svg, el, format, seconds, replaceChildren } from "./dom.js";

const WIDE_LEFT = 132;
const NARROW_LEFT = 92; // phones: names get less room, the run gets more
const RIGHT = 14;
const TOP = 26;
const LANE = 38;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

function niceSpan(t) {
  const want = Math.max(30, t * 1.15);
  for (const s of [30, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 2400, 3600]) {
    if (s >= want) return s;
  }
  return Math.ceil(want / 600) * 600;
}

function segmentClass(seg) {
  if (seg.kind === "Running") return "tl-seg tl-running";
  if (seg.kind === "Terminated") return "tl-seg tl-terminated";
  if (/BackOff$/.test(seg.reason)) return "tl-seg tl-backoff";
  return "tl-seg tl-waiting";
}

function label(text, n = 17) {
  return String(text).length > n ? String(text).slice(0, n - 1) + "…" : String(text);
}

export class Timeline {
  constructor(container, i18n, model, onSeek) {
    this.container = container;
    this.i18n = i18n;
    this.model = model;
    this.onSeek = onSeek;
    this.width = 0;
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        const w = this.container.clientWidth;
        if (Math.abs(w - this.width) > 4) this.render();
      }).observe(container);
    }
  }

  render() {
    const m = this.model;
    this.width = this.container.clientWidth || 640;
    const width = Math.max(this.width, 300);
    const LEFT = width < 480 ? NARROW_LEFT : WIDE_LEFT;
    this.left = LEFT;
    const containers = m.containers();
    const pods = m.podNames();
    if (!pods.length) {
      replaceChildren(this.container, el("p", { class: "lab-empty" }, this.i18n.t("timeline-empty")));
      return;
    }
    const span = niceSpan(Math.max(m.t, 0));
    const plot = width - LEFT - RIGHT;
    const x = (t) => LEFT + (Math.min(Math.max(t, 0), span) / span) * plot;
    const lanes = [];
    for (const pod of pods) {
      lanes.push({ type: "pod", pod });
      for (const c of containers) if (c.pod === pod) lanes.push({ type: "container", pod, c });
    }
    const height = TOP + lanes.length * LANE + 10;
    const root = svg("svg", {
      class: "timeline-svg", viewBox: `0 0 ${width} ${height}`, width, height,
      role: "img", "aria-label": this.i18n.t("timeline-label"),
    });

    // Axis.
    const step = STEPS.find((s) => span / s <= Math.max(4, Math.floor(plot / 70))) || 3600;
    const axis = svg("g", { class: "tl-axis" });
    for (let t = 0; t <= span + 1e-9; t += step) {
      axis.append(svg("line", { x1: x(t), x2: x(t), y1: TOP - 4, y2: height - 6, class: "tl-grid" }));
      axis.append(svg("text", { x: x(t), y: TOP - 9, "text-anchor": "middle", class: "tl-tick" }, format(this.i18n.t("seconds"), { seconds: t })));
    }
    root.append(axis);

    lanes.forEach((lane, i) => {
      const y = TOP + i * LANE;
      const mid = y + LANE / 2;
      const g = svg("g", { class: `tl-lane tl-lane-${lane.type}`, "data-lane": lane.type === "pod" ? lane.pod : `${lane.pod}/${lane.c.name}` });
      g.append(svg("line", { x1: LEFT, x2: width - RIGHT, y1: y + LANE - 1, y2: y + LANE - 1, class: "tl-sep" }));
      if (lane.type === "pod") {
        g.append(svg("text", { x: 6, y: mid + 4, class: "tl-name tl-pod-name" }, label(lane.pod, this.left < WIDE_LEFT ? 12 : 17)));
        for (const seg of m.phaseLane(lane.pod)) {
          const w = Math.max(1, x(seg.to) - x(seg.from));
          g.append(svg("rect", { x: x(seg.from), y: mid - 5, width: w, height: 10, rx: 3, class: `tl-phase tl-phase-${seg.phase.toLowerCase()}` },
            svg("title", {}, `${seg.phase} ${seconds(seg.from)}–${seconds(seg.to)} s`)));
          if (w > 60) g.append(svg("text", { x: x(seg.from) + 4, y: mid - 8, class: "tl-note" }, seg.phase));
        }
      } else {
        this.drawContainer(g, lane, y, mid, x, width);
      }
      root.append(g);
    });

    // Now (moved on between frames by moveNow, as the page's clock runs).
    const nx = x(m.t);
    this.nowLine = svg("line", { x1: nx, x2: nx, y1: TOP - 6, y2: height - 4, class: "tl-now" });
    this.nowLabel = svg("text", { x: Math.min(nx + 3, width - 30), y: height - 1, class: "tl-now-label" }, this.i18n.t("now"));
    root.append(this.nowLine, this.nowLabel);
    this.xOf = x;
    this.span = span;
    this.drawnWidth = width;

    root.addEventListener("click", (event) => {
      const box = root.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * width;
      if (px < LEFT - 4) return;
      this.onSeek(Math.round(((px - LEFT) / plot) * span));
    });
    replaceChildren(this.container, root);
  }

  /** Move the "now" line to `t` without redrawing (the clock runs between frames). */
  moveNow(t) {
    if (!this.nowLine || !this.xOf || t > this.span) return;
    const nx = this.xOf(t);
    this.nowLine.setAttribute("x1", nx);
    this.nowLine.setAttribute("x2", nx);
    this.nowLabel.setAttribute("x", Math.min(nx + 3, this.drawnWidth - 30));
  }

  drawContainer(g, lane, y, mid, x, width) {
    const m = this.model;
    const data = m.lane(lane.pod, lane.c.name);
    const name = lane.c.kind === "main" ? lane.c.name : `${lane.c.name} (${lane.c.kind})`;
    g.append(svg("text", { x: 14, y: mid + 4, class: "tl-name" }, label(name, this.left < WIDE_LEFT ? 11 : 17)));
    for (const seg of data.segments) {
      const w = Math.max(1, x(seg.to) - x(seg.from));
      g.append(svg("rect", { x: x(seg.from), y: mid - 7, width: w, height: 14, rx: 2, class: segmentClass(seg), "data-state": seg.kind, "data-reason": seg.reason },
        svg("title", {}, `${seg.kind}${seg.reason ? ":" + seg.reason : ""} ${seconds(seg.from)}–${seconds(seg.to)} s`)));
      if (w > 70 && seg.reason && seg.kind !== "Terminated") {
        g.append(svg("text", { x: x(seg.from) + 3, y: mid + 4, class: "tl-in" }, seg.reason));
      }
    }
    for (const tick of data.probes) {
      g.append(svg("line", { x1: x(tick.t), x2: x(tick.t), y1: y + 2, y2: y + 8, class: tick.ok ? "tl-probe ok" : "tl-probe bad", "data-probe": tick.probe },
        svg("title", {}, `${tick.probe} ${seconds(tick.t)} s ${tick.message}`)));
    }
    for (const term of data.terminations) {
      const end = term.start + term.grace;
      const gx = x(term.start);
      // The bar shows the grace period used: it ends when the container exited (or now).
      const barEnd = Math.min(end, term.end !== null ? term.end : m.t);
      g.append(svg("rect", { x: gx, y: mid + 8, width: Math.max(1, x(barEnd) - gx), height: 5, class: "tl-grace" },
        svg("title", {}, format(this.i18n.t("grace"), { seconds: seconds(term.grace) }))));
      const labels = term.preStop ? ["preStop", "SIGTERM"] : ["SIGTERM"];
      g.append(svg("path", { d: `M${gx},${mid - 11} l-4,-6 h8 z`, class: "tl-signal" }));
      g.append(svg("text", { x: gx + 3, y: y + 7, class: "tl-mark" }, labels.join(" → ")));
      if (term.preStopFailed) g.append(svg("text", { x: gx + 3, y: y + LANE - 2, class: "tl-mark bad" }, "FailedPreStopHook"));
      const active = m.t >= term.start && m.t < end && (term.end === null || term.end > m.t);
      if (active) {
        g.append(svg("text", { x: Math.min(x(m.t) + 4, width - 70), y: mid + 4, class: "tl-countdown" },
          format(this.i18n.t("grace"), { seconds: seconds(end - m.t) })));
      }
      if (term.sigkill) {
        g.append(svg("text", { x: x(term.end) + 3, y: y + LANE - 2, class: "tl-mark bad" }, "SIGKILL"));
      }
    }
    for (const exit of data.exits) {
      const ex = x(exit.t);
      g.append(svg("path", { d: `M${ex - 5},${mid - 5} l10,10 m0,-10 l-10,10`, class: "tl-exit", "data-reason": exit.reason },
        svg("title", {}, `${this.i18n.t("crash")}: ${exit.reason} (${exit.rule || ""}) ${seconds(exit.t)} s`)));
    }
    for (const hook of data.hooks) {
      if (hook.t === null) continue;
      g.append(svg("text", { x: x(hook.t) + 2, y: y + LANE - 2, class: "tl-mark bad" }, "postStart ✗"));
    }
  }
}
