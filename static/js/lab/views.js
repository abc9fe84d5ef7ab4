// The lab's panes: state diagrams, probe meters, conditions, kubectl output, explanations.
// Server text is always inserted as text nodes.

import { el, svg, format, seconds, replaceChildren, setText } from "./dom.js";
import { simSeconds } from "./model.js";

const BOX_W = 104;
const BOX_H = 46;

function box(x, y, label, sub, lit, extraClass) {
  const cls = ["sd-box", `sd-${label.toLowerCase()}`, lit ? "lit" : "", extraClass || ""].filter(Boolean).join(" ");
  return svg("g", { class: cls },
    svg("rect", { x, y, width: BOX_W, height: BOX_H, rx: 8 }),
    svg("text", { x: x + BOX_W / 2, y: y + (sub ? 19 : 28), class: "sd-label", "text-anchor": "middle" }, label),
    sub ? svg("text", { x: x + BOX_W / 2, y: y + 36, class: "sd-sub", "text-anchor": "middle" }, sub) : null,
  );
}

function arrow(d, id, taken) {
  return svg("path", { d, class: taken ? "sd-arrow taken" : "sd-arrow", "marker-end": "url(#sd-head)", "data-edge": id });
}

function defs() {
  return svg("defs", {},
    svg("marker", { id: "sd-head", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: "sd-head" })));
}

/** A CamelCase name that may break before each capital (PodReadyToStartContainers). */
function breakable(text) {
  const parts = String(text || "").split(/(?=[A-Z][a-z])/);
  return parts.flatMap((part, i) => (i ? [el("wbr", {}), part] : [part]));
}

function truncate(text, n) {
  const s = String(text || "");
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/** Container state diagram: Waiting -> Running -> Terminated, and back on restart. */
function containerDiagram(state, lastTransition, i18n) {
  const kind = state.kind;
  const sub = (k) => {
    if (k !== kind) return "";
    if (k === "Terminated") {
      const code = state.exitCode !== undefined && state.exitCode !== null ? ` (${state.exitCode})` : "";
      return truncate(state.reason + code, 18);
    }
    return truncate(state.reason, 18);
  };
  let edge = "";
  if (lastTransition) {
    const from = String(lastTransition.old || "").split(":")[0];
    const to = String(lastTransition.new || "").split(":")[0];
    edge = `${from}>${to}`;
  }
  const diagram = svg("svg", { viewBox: "0 0 372 118", class: "state-diagram", role: "img",
    "aria-label": `${kind}${state.reason ? " " + state.reason : ""}` },
  defs(),
  arrow("M114,43 L132,43", "Waiting>Running", edge === "Waiting>Running"),
  arrow("M240,43 L258,43", "Running>Terminated", edge === "Running>Terminated"),
  arrow("M314,68 C314,112 58,112 58,72", "Terminated>Waiting", edge === "Terminated>Waiting"),
  arrow("M300,68 C290,96 200,96 190,70", "Terminated>Running", edge === "Terminated>Running"),
  box(8, 20, "Waiting", sub("Waiting"), kind === "Waiting"),
  box(134, 20, "Running", sub("Running"), kind === "Running"),
  box(260, 20, "Terminated", sub("Terminated"), kind === "Terminated"),
  svg("text", { x: 8, y: 12, class: "sd-caption" }, i18n.t("current-state")),
  );
  return diagram;
}

function phaseDiagram(phase, terminating, lastEdge) {
  const lit = (p) => p === phase;
  const taken = (id) => lastEdge === id;
  const g = svg("svg", { viewBox: "0 0 500 112", class: "state-diagram phase-diagram", role: "img",
    "aria-label": `${phase}${terminating ? " (Terminating)" : ""}` },
  defs(),
  arrow("M114,56 L132,56", "Pending>Running", taken("Pending>Running")),
  arrow("M240,48 L262,28", "Running>Succeeded", taken("Running>Succeeded")),
  arrow("M240,64 L262,84", "Running>Failed", taken("Running>Failed")),
  box(8, 33, "Pending", "", lit("Pending")),
  box(134, 33, "Running", terminating && phase === "Running" ? "Terminating" : "", lit("Running")),
  box(264, 4, "Succeeded", "", lit("Succeeded")),
  box(264, 62, "Failed", "", lit("Failed")),
  box(388, 33, "Unknown", "", lit("Unknown"), "sd-dashed"),
  );
  return g;
}

export class Panes {
  /** onView(view): called when the learner picks another kubectl view (the lab tells the
   * server, which then keeps that view's AGE columns current).
   * onLogs({container, previous, before}): the learner asks for the lines before `before` (the
   * offset of the first character the page holds) of a log the server sent as its tail; the
   * lab answers with model.prependLogs. Without it (the classroom) there is no such button. */
  constructor(root, i18n, model, { onView = null, onLogs = null } = {}) {
    this.i18n = i18n;
    this.model = model;
    this.onView = onView;
    this.onLogs = onLogs;
    this.logsPending = null; // the log whose earlier lines were asked for, until they come
    this.podPhases = root.querySelector("#pod-phases");
    this.containerStates = root.querySelector("#container-states");
    this.statesEmpty = root.querySelector("#states-empty");
    this.probesBox = root.querySelector("#probes");
    this.probesEmpty = root.querySelector("#probes-empty");
    this.conditions = root.querySelector("#conditions");
    this.explanations = root.querySelector("#explanations");
    this.previousStates = new Map();
    this.explained = 0;
    this.kubectl = {
      view: "watch",
      tabs: [...root.querySelectorAll(".kubectl-tabs [role=tab]")],
      target: root.querySelector("#kubectl-target"),
      targetLabel: root.querySelector("#kubectl-target-label"),
      previous: root.querySelector("#kubectl-previous"),
      previousLabel: root.querySelector("#kubectl-previous-label"),
      command: root.querySelector("#kubectl-command"),
      text: root.querySelector("#kubectl-text"),
      panel: root.querySelector("#kubectl-output"),
      omitted: root.querySelector("#kubectl-omitted"),
      truncated: root.querySelector("#kubectl-truncated"),
      truncatedText: root.querySelector("#kubectl-truncated-text"),
      earlier: root.querySelector("#kubectl-earlier"),
      wide: root.querySelector("#kubectl-wide"),
      wideText: root.querySelector("#kubectl-wide-text"),
    };
    // A phone turned, a window resized: whether the output is wider than its pane changes.
    if (this.kubectl.wide && typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.renderWide()).observe(this.kubectl.text);
    }
    // The scroll position to keep, from the bottom, while earlier lines are put above.
    this.logsAnchor = null;
    this.setupKubectlTabs();
  }

  render(full) {
    this.renderStates();
    this.renderProbes();
    this.renderConditions();
    this.renderKubectl();
    this.renderExplanations(full);
  }

  renderStates() {
    const m = this.model;
    const pods = m.podNames();
    this.statesEmpty.hidden = pods.length > 0;
    replaceChildren(this.podPhases, pods.map((name) => {
      const pod = m.pod(name);
      const terminating = Boolean(pod && pod.metadata && pod.metadata.deletionTimestamp);
      return el("figure", { class: "phase-figure" },
        el("figcaption", {}, format(this.i18n.t("pod-phase"), { name })),
        pod ? phaseDiagram(m.phase(name), terminating, (() => {
          const last = m.transitions.filter((tr) => tr.pod === name && tr.field === "phase").pop();
          return last ? `${last.old}>${last.new}` : "";
        })())
          : el("p", { class: "lab-gone" }, format(this.i18n.t("pod-gone"), { name })));
    }));
    const figures = [];
    for (const c of m.containers()) {
      const state = m.currentState(c.pod, c.name);
      const key = `${c.pod}/${c.name}`;
      const signature = `${state.kind}:${state.reason}:${state.restarts}`;
      const changed = this.previousStates.has(key) && this.previousStates.get(key) !== signature;
      this.previousStates.set(key, signature);
      const kindLabel = this.i18n.t(c.kind === "init" ? "init-container" : c.kind === "sidecar" ? "sidecar" : "container");
      const badges = el("p", { class: "sd-badges" },
        el("span", { class: "badge" }, format(this.i18n.t("restarts"), { count: state.restarts || 0 })),
        el("span", { class: state.ready ? "badge ok" : "badge" }, this.i18n.t(state.ready ? "ready" : "not-ready")));
      const figure = el("figure", { class: changed ? "container-figure changed" : "container-figure", "data-container": key, "data-state": state.kind },
        el("figcaption", {}, `${kindLabel} `, el("code", {}, c.name), pods.length > 1 ? ` (${c.pod})` : ""),
        containerDiagram(state, m.lastStateTransition(c.pod, c.name), this.i18n),
        badges);
      figures.push(figure);
    }
    replaceChildren(this.containerStates, figures);
  }

  renderProbes() {
    const probes = this.model.probes || [];
    this.probesEmpty.hidden = probes.length > 0 || !this.model.active;
    const cards = probes.map((p) => {
      const handler = typeof p.handler === "string" ? p.handler
        : p.handler && typeof p.handler === "object" ? Object.keys(p.handler).join(", ") : "";
      const results = (p.results || []).slice(-12);
      // Failures: none is fine, one short of the threshold (or more) is danger. Successes:
      // reaching the threshold is good, fewer is a warning.
      const meter = (label, value, max, cls) => {
        const top = Math.max(1, max || 1);
        const v = Math.min(value || 0, top);
        const bounds = cls === "bad"
          ? { low: 0.5, high: Math.max(0.5, top - 1.5), optimum: 0 }
          : { low: top - 0.5, high: top - 0.25, optimum: top };
        const level = cls === "bad" ? (v === 0 ? "fine" : v >= top - 1 ? "danger" : "warn")
          : (v >= top ? "fine" : "warn");
        return el("div", { class: `probe-meter ${cls}`, "data-level": level },
          el("span", { class: "probe-meter-label" }, label),
          el("meter", { min: 0, max: top, value: v, ...bounds }),
          el("span", { class: "probe-meter-value" }, `${value || 0} / ${top}`));
      };
      return el("article", { class: `probe probe-${p.probe}`, "data-probe": `${p.pod}/${p.container}/${p.probe}` },
        el("h3", {}, el("code", {}, p.container), ` · ${p.probe}`, handler ? ` · ${handler}` : ""),
        el("p", { class: "probe-schedule" }, format(this.i18n.t("probe-every"), {
          period: seconds(p.period), delay: seconds(p.initial_delay), timeout: seconds(p.timeout) })),
        meter(this.i18n.t("probe-failures"), p.failures, p.failure_threshold, "bad"),
        meter(this.i18n.t("probe-successes"), p.successes, p.success_threshold, "good"),
        el("p", { class: "probe-results" }, el("span", {}, this.i18n.t("probe-last") + ": "),
          results.length ? results.map((r) => el("span", {
            class: r.ok ? "probe-dot ok" : "probe-dot bad",
            title: `${this.at(r.t)}${r.message ? " · " + r.message : ""}`,
          }, el("span", { class: "visually-hidden" }, `${seconds(r.t)} s ${this.i18n.t(r.ok ? "probe-ok" : "probe-failed")}; `)))
            : this.i18n.t("probe-none")),
        typeof p.next_t === "number"
          ? el("p", { class: "probe-next" }, format(this.i18n.t("probe-next"), { t: format(this.i18n.t("seconds"), { seconds: seconds(p.next_t) }) }))
          : null);
    });
    replaceChildren(this.probesBox, cards);
  }

  /** "t = 12 s" in the page's language. */
  at(t) {
    return `t = ${format(this.i18n.t("seconds"), { seconds: seconds(t) })}`;
  }

  renderConditions() {
    const pods = this.model.pods;
    if (!pods.length) {
      replaceChildren(this.conditions, el("p", { class: "lab-empty" }, this.i18n.t("no-pod")));
      return;
    }
    replaceChildren(this.conditions, pods.map((pod) => {
      const conditions = (pod.status && pod.status.conditions) || [];
      // No reason anywhere (all True): the column would only take a phone's room.
      const reasons = conditions.some((c) => c.reason);
      const rows = conditions.map((c) => {
        const t = simSeconds(c.lastTransitionTime);
        const stamp = c.lastTransitionTime || "";
        // Each cell names its column (data-label): on a phone the rows become cards.
        const cell = (key, ...children) => el("td", { class: key, "data-label": this.i18n.t(key) }, ...children);
        return el("tr", { "data-condition": c.type, class: c.status === "True" ? "cond-true" : "cond-false" },
          cell("col-type", el("code", {}, breakable(c.type))),
          cell("col-status", c.status),
          reasons ? cell("col-reason", breakable(c.reason || "")) : null,
          cell("col-last", t !== null ? el("span", { class: "cond-t" }, this.at(t)) : null,
            stamp ? el("time", { class: "cond-stamp", datetime: stamp },
              stamp.split("T").flatMap((part, i) => (i ? [el("wbr", {}), "T" + part] : [part]))) : null));
      });
      const columns = ["col-type", "col-status", reasons ? "col-reason" : null, "col-last"].filter(Boolean);
      return el("div", { class: "conditions-pod" },
        el("div", { class: "conditions-scroll" },
          el("table", { class: "conditions-table" },
            el("caption", {}, pod.metadata.name),
            el("thead", {}, el("tr", {}, columns.map((k) => el("th", { scope: "col" }, this.i18n.t(k))))),
            el("tbody", {}, rows))),
        this.readyKeptNote(pod, conditions));
    }));
  }

  /** After a restart in which Ready never left True, say why its lastTransitionTime is older
   * than the restart (the kubelet moves it only when the status changes). */
  readyKeptNote(pod, conditions) {
    const ready = conditions.find((c) => c.type === "Ready");
    const since = ready ? simSeconds(ready.lastTransitionTime) : null;
    if (!ready || ready.status !== "True" || since === null) return null;
    const statuses = (pod.status && pod.status.containerStatuses) || [];
    let restartedAt = null;
    for (const cs of statuses) {
      const started = cs.restartCount > 0 && cs.state && cs.state.running
        ? simSeconds(cs.state.running.startedAt) : null;
      if (started !== null && (restartedAt === null || started > restartedAt)) restartedAt = started;
    }
    // Timestamps are whole seconds: a restart in the same second as the change says nothing.
    if (restartedAt === null || restartedAt < since + 1) return null;
    return el("p", { class: "cond-note", "data-note": "ready-kept" },
      format(this.i18n.t("ready-kept"), { restart: this.at(restartedAt), since: this.at(since) }));
  }

  setupKubectlTabs() {
    const k = this.kubectl;
    const select = (tab, focus) => {
      for (const other of k.tabs) {
        const on = other === tab;
        other.setAttribute("aria-selected", on ? "true" : "false");
        other.tabIndex = on ? 0 : -1;
      }
      const changed = k.view !== tab.dataset.view;
      k.view = tab.dataset.view;
      k.panel.setAttribute("aria-labelledby", tab.id);
      if (changed && this.onView) this.onView(k.view);
      if (focus) tab.focus();
      this.renderKubectl();
    };
    k.tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => select(tab, false));
      tab.addEventListener("keydown", (event) => {
        let next = null;
        if (event.key === "ArrowRight") next = k.tabs[(i + 1) % k.tabs.length];
        else if (event.key === "ArrowLeft") next = k.tabs[(i - 1 + k.tabs.length) % k.tabs.length];
        else if (event.key === "Home") next = k.tabs[0];
        else if (event.key === "End") next = k.tabs[k.tabs.length - 1];
        if (next) {
          event.preventDefault();
          event.stopPropagation();
          select(next, true);
        }
      });
    });
    k.target.addEventListener("change", () => this.renderKubectl());
    k.previous.addEventListener("change", () => this.renderKubectl());
    if (k.earlier) k.earlier.addEventListener("click", () => this.askEarlier());
  }

  logId() {
    const k = this.kubectl;
    return `${k.previous.checked ? "logs_previous" : "logs"}:${k.target.value || ""}`;
  }

  askEarlier() {
    const k = this.kubectl;
    const id = this.logId();
    const before = this.model.logStart[id] || 0;
    if (!this.onLogs || before <= 0 || this.logsPending) return;
    this.logsPending = id;
    this.logsAnchor = { id, fromBottom: k.text.scrollHeight - k.text.scrollTop };
    this.onLogs({ container: k.target.value || "", previous: k.previous.checked, before });
    this.renderKubectl();
  }

  /** The earlier lines came (or the request failed: `ok` false). */
  logsAnswered() {
    this.logsPending = null;
    this.renderKubectl();
  }

  number(value) {
    return Number(value).toLocaleString(document.documentElement.lang || undefined);
  }

  renderNotices(view, logText) {
    const k = this.kubectl;
    const m = this.model;
    if (k.omitted) {
      k.omitted.hidden = !m.viewsOmitted;
      if (m.viewsOmitted) {
        // "t = 20 s" stays on one line.
        setText(k.omitted, m.viewsT === null ? this.i18n.t("views-omitted-none")
          : format(this.i18n.t("views-omitted"), { t: format(this.i18n.t("seconds"), { seconds: seconds(m.viewsT) }) })
            .replace(/t = (\S+) (\S+)/, "t\u00a0=\u00a0$1\u00a0$2"));
      }
    }
    if (!k.truncated) return;
    let notice = "";
    let earlier = false;
    if (view === "logs") {
      const id = this.logId();
      const start = m.logStart[id] || 0;
      if (start > 0) {
        notice = this.logsPending === id ? this.i18n.t("log-loading")
          : format(this.i18n.t("log-truncated"), { shown: this.number(logText.length), total: this.number(start + logText.length) });
        earlier = Boolean(this.onLogs);
      }
    } else if (view === "watch" && Number.isInteger(m.watchTruncated) && Array.isArray((m.views || {}).watch)) {
      notice = format(this.i18n.t("watch-truncated"), { shown: this.number(m.views.watch.length), total: this.number(m.watchTruncated) });
    }
    k.truncated.hidden = !notice;
    setText(k.truncatedText, notice);
    if (k.earlier) {
      k.earlier.hidden = !earlier;
      k.earlier.disabled = Boolean(this.logsPending);
    }
  }

  syncTargets(options) {
    const k = this.kubectl;
    const current = k.target.value;
    const values = options.map((o) => o.value).join("\n");
    if (k.target.dataset.values !== values) {
      k.target.dataset.values = values;
      replaceChildren(k.target, options.map((o) => el("option", { value: o.value }, o.label)));
      if (options.some((o) => o.value === current)) k.target.value = current;
    }
  }

  renderKubectl() {
    const k = this.kubectl;
    const views = this.model.views || {};
    const view = k.view;
    let command = "";
    let text = "";
    let logText = "";
    const needsTarget = view === "describe" || view === "logs";
    k.targetLabel.hidden = !needsTarget;
    k.previousLabel.hidden = view !== "logs";
    if (view === "describe") {
      const describe = views.describe || {};
      this.syncTargets(Object.keys(describe).map((name) => ({ value: name, label: name })));
      const name = k.target.value;
      command = `kubectl describe pod ${name}`;
      text = describe[name] ?? "";
    } else if (view === "logs") {
      const logs = views.logs || {};
      this.syncTargets(Object.keys(logs).map((key) => ({ value: key, label: key })));
      const key = k.target.value || "";
      const [pod, container] = key.split("/");
      const previous = k.previous.checked;
      command = `kubectl logs ${pod || ""} -c ${container || ""}${previous ? " --previous" : ""}`;
      text = ((previous ? views.logs_previous : views.logs) || {})[key] ?? "";
      logText = text;
      // A tail may begin inside a line: show it from the first whole line.
      if ((this.model.logStart[this.logId()] || 0) > 0) {
        const newline = text.indexOf("\n");
        if (newline >= 0 && newline < text.length - 1) text = text.slice(newline + 1);
      }
    } else if (view === "watch") {
      command = "kubectl get pods -w";
      text = Array.isArray(views.watch)
        ? views.watch.map((line) => (String(line).endsWith("\n") ? String(line) : `${line}\n`)).join("")
        : views.watch ?? "";
    } else if (view === "wide") {
      command = "kubectl get pods -o wide";
      text = views.wide ?? "";
    } else if (view === "events") {
      command = "kubectl get events";
      text = views.events ?? "";
    }
    setText(k.command, command);
    setText(k.text, text);
    this.renderNotices(view, logText);
    this.renderWide();
    const anchor = this.logsAnchor;
    if (anchor && view === "logs" && anchor.id === this.logId() && !this.logsPending) {
      // The earlier lines went above what the learner was reading: keep it in place.
      this.logsAnchor = null;
      k.text.scrollTop = Math.max(0, k.text.scrollHeight - anchor.fromBottom);
    }
  }

  /** Output wider than its pane: say so, naming the columns of kubectl's heading line that
   * start out of sight (NAME READY STATUS RESTARTS AGE: a phone shows about 35 characters). */
  renderWide() {
    const k = this.kubectl;
    if (!k.wide) return;
    const pre = k.text;
    const wide = pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1;
    pre.dataset.wide = wide ? "true" : "false";
    k.wide.hidden = !wide;
    if (!wide) return;
    const text = pre.textContent || "";
    const lines = text.split("\n");
    let longest = 1;
    for (const line of lines) longest = Math.max(longest, line.length);
    const style = getComputedStyle(pre);
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const charWidth = (pre.scrollWidth - padding) / longest;
    const seen = Math.floor((pre.clientWidth - padding) / charWidth);
    // kubectl's heading: capitals, columns two or more spaces apart ("LAST SEEN" is one).
    const heading = lines[0] || "";
    const columns = [];
    if (/^[A-Z][A-Z0-9 ()/_-]*$/.test(heading.trimEnd())) {
      for (const match of heading.matchAll(/\S+(?: \S+)*/g)) {
        if (match.index + match[0].length > seen) columns.push(match[0]);
      }
    }
    const list = columns.join(document.documentElement.lang.startsWith("zh") ? "、" : ", ");
    setText(k.wideText, columns.length ? format(this.i18n.t("wide-columns"), { columns: list })
      : this.i18n.t("wide-plain"));
  }

  renderExplanations(full) {
    // The lab and the classroom both send narration (podlab/lab/narration.py): every moment
    // that matters, in the page's language.
    const list = Array.isArray(this.model.narration) ? this.model.narration : [];
    const box = this.explanations;
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    if (full || list.length < this.explained) {
      replaceChildren(box);
      this.explained = 0;
    }
    const items = [];
    for (let i = this.explained; i < list.length; i += 1) items.push(this.narrationItem(list[i]));
    box.append(...items);
    if (items.length && !full) this.announce(list.slice(this.explained));
    this.explained = list.length;
    // The newest entry stays in view unless the learner scrolled back to read.
    if (items.length && (atEnd || full)) box.scrollTop = box.scrollHeight;
  }

  lessonLink(href) {
    return typeof href === "string" && href.startsWith("/") && !href.startsWith("//")
      ? el("a", { href, class: "lesson-link" }, this.i18n.t("lesson-link")) : null;
  }

  narrationItem(entry) {
    const who = entry.container ? `${entry.pod}/${entry.container}` : entry.pod || "";
    const link = this.lessonLink(entry.lesson);
    return el("li", { "data-kind": entry.kind || "", "data-code": entry.code || "", "data-rule": entry.rule || "",
      "data-t": String(entry.t) },
    el("span", { class: "ex-time" }, this.at(entry.t)), " ",
    who ? el("code", { class: "ex-who" }, who) : null, " ",
    entry.change ? el("span", { class: "ex-change" }, entry.change) : null,
    el("span", { class: "ex-text" }, entry.text || ""),
    entry.cause ? el("span", { class: "ex-cause" }, entry.cause) : null,
    link);
  }

  /** Screen readers hear the new entries one at a time, politely. */
  announce(entries) {
    const live = document.getElementById("narration-live");
    if (!live) return;
    this.queue = [...(this.queue || []), ...entries.map((e) => `${this.at(e.t)}. ${e.text || ""}`)].slice(-6);
    if (this.speaking) return;
    const next = () => {
      const text = this.queue.shift();
      if (text === undefined) {
        this.speaking = false;
        return;
      }
      this.speaking = true;
      live.textContent = text;
      window.setTimeout(next, 1800);
    };
    next();
  }
}
