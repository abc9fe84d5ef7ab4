// Shared by the instructor console and the student page: the room socket (reconnects with
// back-off), translated strings, the simulation panes (the lab's own modules) and rendering
// of a question. Everything from the server goes into the page as text.

import { el, format, seconds, setText, replaceChildren } from "../lab/dom.js";
import { LabModel } from "../lab/model.js";
import { Panes } from "../lab/views.js";
import { Timeline } from "../lab/timeline.js";

export { el, format, seconds, setText, replaceChildren };

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

export function loadMessages(...ids) {
  const messages = new Map();
  for (const id of ids) {
    const template = document.getElementById(id);
    if (!template) continue;
    for (const node of template.content.querySelectorAll("[data-msg]")) {
      messages.set(node.dataset.msg, node.textContent);
    }
  }
  return { t: (key) => messages.get(key) ?? key };
}

export class RoomSocket {
  /** handlers: onMessage(msg), onState("connecting" | "open" | "waiting" | "closed", info) */
  constructor(path, lang, handlers) {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${window.location.host}${path}?lang=${encodeURIComponent(lang)}`;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.finished = false;
    window.addEventListener("online", () => { if (!this.ws && !this.finished) this.connect(); });
  }

  connect() {
    window.clearTimeout(this.timer);
    this.handlers.onState("connecting", {});
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => { this.attempt = 0; this.handlers.onState("open", {}); });
    ws.addEventListener("message", (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch (err) { return; }
      if (msg && typeof msg.type === "string") this.handlers.onMessage(msg);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (event.code === 4403 || event.code === 4404) this.finished = true;
      if (this.finished) { this.handlers.onState("closed", { code: event.code }); return; }
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.handlers.onState("waiting", { seconds: Math.ceil(delay / 1000) });
      this.timer = window.setTimeout(() => this.connect(), delay);
    });
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  finish() {
    this.finished = true;
    if (this.ws) this.ws.close();
  }
}

// Earlier lines of a long log come a page at a time (classroom.logs, as the lab's lab.logs);
// a page starts at most this far before the text the page holds.
const LOG_PAGE_CHARS = 64 * 1024;

/** The lab's model and panes, fed with classroom.snapshot / classroom.frame; with `send`
 * (the room socket's), a log sent as its tail pages back through classroom.logs. */
export class SimView {
  constructor(root, i18n, onSeek, send = null) {
    this.model = new LabModel();
    this.send = send;
    this.panes = new Panes(root, i18n, this.model, { onLogs: send ? (ask) => this.askLogs(ask) : null });
    this.timeline = new Timeline(document.getElementById("timeline"), i18n, this.model,
      onSeek || (() => {}));
    this.i18n = i18n;
    this.clock = document.getElementById("clock");
    // the page's language before the first frame too
    if (this.clock) setText(this.clock, this.clockText(0));
  }

  /** "t = 3600 s" / "t = 3600 秒". */
  clockText(t) {
    return `t = ${format(this.i18n.t("seconds"), { seconds: seconds(t) })}`;
  }

  askLogs({ container, previous, before }) {
    const offset = Math.max(0, before - LOG_PAGE_CHARS);
    if (!this.model.active || !this.send({ type: "classroom.logs", container, previous, offset, limit: before - offset })) {
      window.setTimeout(() => this.panes.logsAnswered(), 0);
    }
  }

  apply(msg) {
    if (msg.type === "classroom.logs") {
      // A page that no longer joins what the page holds (the log moved on) is dropped.
      this.model.prependLogs(msg);
      this.panes.logsAnswered();
      return false;
    }
    if (msg.type === "classroom.error" && this.panes.logsPending) this.panes.logsAnswered();
    if (msg.type === "classroom.snapshot") {
      if (msg.empty) return false;
      this.model.manifest = msg.manifest || "";
      this.model.applySnapshot(msg);
      this.render(true);
      return true;
    }
    if (msg.type === "classroom.frame" && this.model.active) {
      this.model.applyFrame(msg);
      if (Array.isArray(msg.actions)) this.model.actions = msg.actions.slice();
      this.render(false);
      return true;
    }
    return false;
  }

  render(full) {
    this.panes.render(full);
    this.timeline.render();
    if (this.clock) setText(this.clock, this.clockText(this.model.t));
  }
}

/** The question's heading line: number, round and state. */
export function questionMeta(i18n, q) {
  const parts = [`#${q.number}`];
  if (q.round > 1) parts.push(format(i18n.t("round"), { round: q.round }));
  parts.push(i18n.t(`state-${q.state}`));
  return parts.join(" · ");
}

export function choiceText(q, token) {
  const found = (q.choices || []).find((c) => c.token === token);
  return found ? found.text : "";
}

export function showCode(node, text) {
  node.hidden = !text;
  setText(node, text || "");
}

/**
 * The vote histogram: every row has the same five cells (choice, bar, count, "correct" badge,
 * first-round votes), filled or empty, so the bars of all rows share one column and equal
 * counts draw equal bars. Bars are a share of all votes.
 */
export function renderHistogram(list, i18n, choices, counts, correct, previous) {
  const total = Math.max(1, Object.values(counts).reduce((a, b) => a + b, 0));
  replaceChildren(list, choices.map((c) => {
    const n = counts[c.token] || 0;
    const ok = correct.has(c.token);
    const bar = el("span", { class: "bar", "data-share": String(Math.round((100 * n) / total)) });
    const track = el("span", { class: "bar-track" }, bar);
    return el("li", { class: ok ? "is-correct" : "", "data-token": c.token },
      el("span", { class: "choice-text" }, c.text),
      track,
      el("span", { class: "count", "data-count": String(n) }, String(n)),
      el("span", { class: ok ? "badge ok" : "badge" }, ok ? i18n.t("correct-mark") : ""),
      el("span", { class: "previous" }, previous[c.token] !== undefined
        ? format(i18n.t("previous-round"), { count: previous[c.token] }) : ""));
  }));
  for (const bar of list.querySelectorAll(".bar")) {
    // Widths through the CSSOM: the page's policy allows no inline style attributes.
    bar.style.width = `${bar.dataset.share}%`;
  }
}

/** A question's countdown, counted from when the page received it (clocks may differ). */
export class Countdown {
  constructor(node, i18n, onZero) {
    this.node = node;
    this.i18n = i18n;
    this.onZero = onZero || (() => {});
    this.timer = 0;
    this.key = "";
  }

  /** Start for question ``q`` unless already counting for it; stop when it has none. */
  follow(q) {
    const key = q && q.state === "open" && typeof q.closes_in === "number" ? `${q.id}:${q.round}` : "";
    if (key === this.key) return;
    this.stop();
    this.key = key;
    if (!key) return;
    this.deadline = performance.now() + q.closes_in * 1000;
    this.tick();
    this.timer = window.setInterval(() => this.tick(), 250);
  }

  tick() {
    const left = Math.max(0, Math.ceil((this.deadline - performance.now()) / 1000));
    this.node.hidden = false;
    this.node.dataset.remaining = String(left);
    setText(this.node, format(this.i18n.t("seconds-left"), { seconds: left }));
    if (left === 0) {
      window.clearInterval(this.timer);
      this.onZero();
    }
  }

  stop() {
    window.clearInterval(this.timer);
    this.timer = 0;
    this.key = "";
    this.node.hidden = true;
    this.node.dataset.remaining = "";
  }
}
