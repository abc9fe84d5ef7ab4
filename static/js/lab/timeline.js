// The timeline: one lane per Pod (phase) and per container (states, exits, probe ticks,
// hooks, termination with grace countdown), drawn as SVG. Clicking it seeks.
//
// The names stay on the left while the run scrolls beside them: at zoom 1 the whole run fits
// the width; zooming in widens the run (swipe or scroll it) and keeps "now" in view unless the
// learner scrolled away to read. Labels never overlap: after drawing, a label that would cover
// one of higher priority is left out (its mark keeps the text as a tooltip).

import { svg, el, format, seconds, replaceChildren } from "./dom.js";

const WIDE_LEFT = 132;
const NARROW_LEFT = 92; // phones: names get less room, the run gets more
const RIGHT = 14;
const PAD = 8; // room for the first tick's label
const TOP = 26;
const LANE = 40;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];
export const ZOOMS = [1, 2, 4, 8, 16, 32];
/** Which label wins where two would overlap (lower first). */
const PRIORITY = [["tl-tick", 0], ["tl-countdown", 1], ["tl-mark", 2], ["tl-note", 3], ["tl-in", 4]];

const SPANS = [30, 60, 90, 120, 150, 180, 240, 300, 360, 450, 600, 750, 900, 1050, 1200,
  1500, 1800, 2100, 2400, 3000, 3600];

/** The time the axis covers: a little room ahead of "now" while the run goes on, none once it
 * has ended (the run then fills the width). */
export function niceSpan(t, ended = false) {
  const want = Math.max(30, ended ? t : t * 1.12);
  for (const s of SPANS) {
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

function priority(node) {
  for (const [cls, p] of PRIORITY) if (node.classList.contains(cls)) return p;
  return 5;
}

function overlaps(a, b, gap) {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap
    && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Leave out every label that would overlap one of higher priority (or an earlier one of the
 * same priority), and labels that do not fit inside their segment. Needs the SVG laid out. */
export function declutter(root) {
  const items = [];
  for (const node of root.querySelectorAll("text")) {
    if (node.classList.contains("tl-now-label")) continue; // its own row, below the lanes
    const box = node.getBBox();
    if (node.dataset.fit && box.width > Number(node.dataset.fit) - 4) {
      node.remove();
      continue;
    }
    items.push({ node, box, p: priority(node) });
  }
  items.sort((a, b) => a.p - b.p || a.box.x - b.box.x);
  const kept = [];
  for (const item of items) {
    if (kept.some((k) => overlaps(k.box, item.box, 3))) item.node.remove();
    else kept.push(item);
  }
}

export class Timeline {
  constructor(container, i18n, model, onSeek) {
    this.container = container;
    this.i18n = i18n;
    this.model = model;
    this.onSeek = onSeek;
    this.width = 0;
    this.zoom = 1;
    this.follow = true; // keep "now" in view while zoomed in
    this.scrolling = false; // the page is scrolling the run itself
    const t = (key) => i18n.t(key);
    this.zoomOut = el("button", { type: "button", class: "tl-zoom-out", "aria-label": t("zoom-out"), title: t("zoom-out") }, "−");
    this.zoomIn = el("button", { type: "button", class: "tl-zoom-in", "aria-label": t("zoom-in"), title: t("zoom-in") }, "+");
    this.zoomFit = el("button", { type: "button", class: "tl-zoom-fit" }, t("zoom-fit"));
    this.level = el("span", { class: "tl-zoom-level", "aria-live": "polite" });
    this.tools = el("div", { class: "tl-tools", role: "group", "aria-label": t("zoom-label") },
      this.zoomOut, this.level, this.zoomIn, this.zoomFit);
    this.names = el("div", { class: "tl-names" });
    this.scroller = el("div", { class: "tl-scroll", tabindex: "0", "aria-label": t("timeline-label") });
    this.body = el("div", { class: "tl-body" }, this.names, this.scroller);
    this.empty = el("p", { class: "lab-empty" }, t("timeline-empty"));
    this.zoomIn.addEventListener("click", () => this.setZoom(this.zoom * 2));
    this.zoomOut.addEventListener("click", () => this.setZoom(this.zoom / 2));
    this.zoomFit.addEventListener("click", () => this.setZoom(1));
    this.scroller.addEventListener("scroll", () => {
      if (this.scrolling) return;
      // The learner scrolled: follow "now" again only if it is in view.
      this.follow = this.nowInView();
    });
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        const w = this.container.clientWidth;
        if (Math.abs(w - this.width) > 4) this.render();
      }).observe(container);
    }
  }

  setZoom(zoom) {
    this.zoom = Math.min(ZOOMS[ZOOMS.length - 1], Math.max(1, zoom));
    this.follow = true;
    this.render();
  }

  nowInView() {
    if (!this.xOf) return true;
    const nx = this.xOf(this.model.t);
    const left = this.scroller.scrollLeft;
    return nx >= left - 2 && nx <= left + this.scroller.clientWidth + 2;
  }

  /** Scroll the run so that "now" is in view (about two thirds across). */
  keepNowInView(force) {
    if (this.zoom === 1 || !this.xOf || (!force && this.nowInView())) return;
    this.scrolling = true;
    this.scroller.scrollLeft = Math.max(0, this.xOf(this.model.t) - this.scroller.clientWidth * 0.66);
    window.requestAnimationFrame(() => { this.scrolling = false; });
  }

  render() {
    const m = this.model;
    this.width = this.container.clientWidth || 640;
    const width = Math.max(this.width, 300);
    const LEFT = width < 480 ? NARROW_LEFT : WIDE_LEFT;
    this.left = LEFT;
    const containers = m.containers();
    const pods = m.podNames();
    this.level.textContent = `×${this.zoom}`;
    this.zoomIn.disabled = this.zoom >= ZOOMS[ZOOMS.length - 1];
    this.zoomOut.disabled = this.zoom <= 1;
    this.zoomFit.disabled = this.zoom <= 1;
    if (!pods.length) {
      this.xOf = null;
      replaceChildren(this.container, this.empty);
      return;
    }
    if (this.empty.isConnected || !this.body.isConnected) replaceChildren(this.container, this.tools, this.body);
    const span = niceSpan(Math.max(m.t, 0), m.settled && !m.playing);
    const view = width - LEFT - RIGHT; // what the run gets at zoom 1
    const plot = Math.round(view * this.zoom);
    const x = (t) => PAD + (Math.min(Math.max(t, 0), span) / span) * (plot - PAD);
    const lanes = [];
    for (const pod of pods) {
      lanes.push({ type: "pod", pod });
      for (const c of containers) if (c.pod === pod) lanes.push({ type: "container", pod, c });
    }
    const height = TOP + lanes.length * LANE + 18; // the "now" label gets its own row
    const names = svg("svg", { class: "tl-names-svg", viewBox: `0 0 ${LEFT} ${height}`, width: LEFT, height, "aria-hidden": "true" });
    const root = svg("svg", {
      class: "timeline-svg", viewBox: `0 0 ${plot + RIGHT} ${height}`, width: plot + RIGHT, height,
      role: "img", "aria-label": this.i18n.t("timeline-label"), "data-zoom": this.zoom, "data-span": span,
    });

    // Axis.
    const step = STEPS.find((s) => span / s <= Math.max(4, Math.floor(plot / 70))) || 3600;
    const axis = svg("g", { class: "tl-axis" });
    for (let t = 0; t <= span + 1e-9; t += step) {
      axis.append(svg("line", { x1: x(t), x2: x(t), y1: TOP - 4, y2: height - 6, class: "tl-grid" }));
      const anchor = t === 0 ? "start" : t + step > span + 1e-9 ? "end" : "middle";
      axis.append(svg("text", { x: x(t), y: TOP - 9, "text-anchor": anchor, class: "tl-tick" },
        format(this.i18n.t("seconds"), { seconds: t })));
    }
    root.append(axis);

    const narrow = this.left < WIDE_LEFT;
    lanes.forEach((lane, i) => {
      const y = TOP + i * LANE;
      const mid = y + LANE / 2;
      const key = lane.type === "pod" ? lane.pod : `${lane.pod}/${lane.c.name}`;
      const g = svg("g", { class: `tl-lane tl-lane-${lane.type}`, "data-lane": key });
      g.append(svg("line", { x1: 0, x2: plot + RIGHT, y1: y + LANE - 1, y2: y + LANE - 1, class: "tl-sep" }));
      names.append(svg("line", { x1: 0, x2: LEFT, y1: y + LANE - 1, y2: y + LANE - 1, class: "tl-sep" }));
      if (lane.type === "pod") {
        names.append(svg("text", { x: 6, y: mid + 4, class: "tl-name tl-pod-name" }, label(lane.pod, narrow ? 12 : 17),
          svg("title", {}, lane.pod)));
        for (const seg of m.phaseLane(lane.pod)) {
          const w = Math.max(1, x(seg.to) - x(seg.from));
          g.append(svg("rect", { x: x(seg.from), y: mid - 5, width: w, height: 10, rx: 3, class: `tl-phase tl-phase-${seg.phase.toLowerCase()}` },
            svg("title", {}, `${seg.phase} ${seconds(seg.from)}–${seconds(seg.to)} s`)));
          g.append(svg("text", { x: x(seg.from) + 4, y: mid - 8, class: "tl-note", "data-fit": w + 40 }, seg.phase));
        }
      } else {
        const name = lane.c.kind === "main" ? lane.c.name : `${lane.c.name} (${lane.c.kind})`;
        names.append(svg("text", { x: 14, y: mid + 4, class: "tl-name" }, label(name, narrow ? 11 : 17),
          svg("title", {}, name)));
        this.drawContainer(g, lane, y, mid, x, plot + RIGHT);
      }
      root.append(g);
    });

    // Now (moved on between frames by moveNow, as the page's clock runs).
    const nx = x(m.t);
    this.nowLine = svg("line", { x1: nx, x2: nx, y1: TOP - 6, y2: height - 4, class: "tl-now" });
    this.nowLabel = svg("text", { x: Math.min(nx + 3, plot + RIGHT - 30), y: height - 3, class: "tl-now-label" }, this.i18n.t("now"));
    root.append(this.nowLine, this.nowLabel);
    this.xOf = x;
    this.span = span;
    this.drawnWidth = plot + RIGHT;

    root.addEventListener("click", (event) => {
      const box = root.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * (plot + RIGHT);
      this.onSeek(Math.max(0, Math.round(((px - PAD) / (plot - PAD)) * span)));
    });
    replaceChildren(this.names, names);
    replaceChildren(this.scroller, root);
    if (root.getBoundingClientRect().width > 0) declutter(root); // needs the layout
    this.keepNowInView(this.follow);
  }

  /** Move the "now" line to `t` without redrawing (the clock runs between frames). */
  moveNow(t) {
    if (!this.nowLine || !this.xOf || t > this.span) return;
    const nx = this.xOf(t);
    this.nowLine.setAttribute("x1", nx);
    this.nowLine.setAttribute("x2", nx);
    this.nowLabel.setAttribute("x", Math.min(nx + 3, this.drawnWidth - 30));
    if (this.follow && this.zoom > 1) {
      const right = this.scroller.scrollLeft + this.scroller.clientWidth;
      if (nx > right - 20) this.keepNowInView(true);
    }
  }

  drawContainer(g, lane, y, mid, x, width) {
    const m = this.model;
    const data = m.lane(lane.pod, lane.c.name);
    for (const seg of data.segments) {
      const w = Math.max(1, x(seg.to) - x(seg.from));
      g.append(svg("rect", { x: x(seg.from), y: mid - 7, width: w, height: 14, rx: 2, class: segmentClass(seg), "data-state": seg.kind, "data-reason": seg.reason },
        svg("title", {}, `${seg.kind}${seg.reason ? ":" + seg.reason : ""} ${seconds(seg.from)}–${seconds(seg.to)} s`)));
      if (seg.reason && seg.kind !== "Terminated") {
        g.append(svg("text", { x: x(seg.from) + 3, y: mid + 4, class: "tl-in", "data-fit": w }, seg.reason));
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
      g.append(svg("rect", { x: gx, y: mid + 8, width: Math.max(1, x(barEnd) - gx), height: 4, class: "tl-grace" },
        svg("title", {}, format(this.i18n.t("grace"), { seconds: seconds(term.grace) }))));
      const stop = term.signal || "SIGTERM";
      const labels = (term.preStop ? ["preStop", stop] : [stop]).join(" → ");
      g.append(svg("path", { d: `M${gx},${mid - 11} l-4,-6 h8 z`, class: "tl-signal" },
        svg("title", {}, `${labels} ${seconds(term.start)} s`)));
      // Signal names share the row under the bar with SIGKILL: the top row is the probes'.
      g.append(svg("text", { x: gx + 1, y: y + LANE - 2, class: "tl-mark" }, labels));
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
