// The lab page: editor, websocket, controls, actions, panes and shareable links.
// docs/protocol.md is the contract with the server.

import { el, format, progressText, seconds, setText, replaceChildren } from "./dom.js";
import { LabSocket } from "./socket.js";
import { LabModel } from "./model.js";
import { Panes } from "./views.js";
import { Timeline } from "./timeline.js";
import { encodeLab, decodeLab, hasLab } from "./share.js";

const PROTOCOL = 1;
const VALIDATE_DELAY_MS = 350;

const root = document.getElementById("lab");
const $ = (id) => document.getElementById(id);

// --- translations -------------------------------------------------------------------------

const messages = new Map();
const template = $("lab-i18n");
if (template) {
  for (const node of template.content.querySelectorAll("[data-msg]")) {
    messages.set(node.dataset.msg, node.textContent);
  }
}
const i18n = { t: (key) => messages.get(key) ?? key };
const secondsText = (t) => format(i18n.t("seconds"), { seconds: seconds(t) });

// --- state --------------------------------------------------------------------------------

const model = new LabModel();
// The server refreshes the AGE columns of the kubectl view the page shows.
const panes = new Panes(root, i18n, model, {
  onView: (view) => socket.send({ type: "lab.view", view }),
  onLogs: (ask) => askLogs(ask),
});
const timeline = new Timeline($("timeline"), i18n, model, (t) => seek(t));
let limits = { actions: ["delete", "apply", "kill"] };
let validations = []; // what each awaited lab.validation answers: "validate" | "start"
let pendingStart = null; // {manifest, seed, resume} while an apply/restore is in flight
let pendingRestore = null; // a lab to restore once the server says hello
let validateTimer = null;
let scrubbing = false;
let shownT = 0; // the simulated time the clock shows
let renderQueued = false;
let renderFull = false;
let playAsked = false; // the learner pressed Play: say why nothing plays, if nothing can

// --- editor -------------------------------------------------------------------------------

const textarea = $("manifest");
let editor = {
  getText: () => textarea.value,
  setText: (text) => { textarea.value = text; },
  setProblems: () => {},
  focus: () => textarea.focus(),
};
textarea.addEventListener("input", () => scheduleValidate());

async function mountEditor() {
  const url = root.dataset.editorModule;
  try {
    const { createEditor } = await import(url);
    const mount = $("editor-mount");
    const nonceHolder = document.querySelector("script[nonce]");
    const created = createEditor(mount, {
      doc: textarea.value,
      label: document.querySelector("label[for=manifest]").textContent,
      nonce: nonceHolder ? nonceHolder.nonce : "",
      onChange: () => scheduleValidate(),
      onSubmit: () => apply(),
    });
    mount.hidden = false;
    textarea.hidden = true;
    const tabButton = $("btn-tab-mode");
    tabButton.addEventListener("click", () => {
      const on = tabButton.getAttribute("aria-pressed") !== "true";
      tabButton.setAttribute("aria-pressed", on ? "true" : "false");
      if (created.setTabIndents) created.setTabIndents(on);
    });
    document.querySelector("label[for=manifest]").addEventListener("click", () => created.focus());
    editor = created;
  } catch (err) {
    // The plain textarea keeps working without the editor bundle.
    textarea.hidden = false;
  }
}

function scheduleValidate() {
  window.clearTimeout(validateTimer);
  setText($("validation-summary"), i18n.t("checking"));
  validateTimer = window.setTimeout(validateNow, VALIDATE_DELAY_MS);
}

function validateNow() {
  window.clearTimeout(validateTimer);
  const text = editor.getText();
  if (!text.trim()) {
    showValidation({ ok: true, problems: [], warnings: [], notes: [] });
    setText($("validation-summary"), "");
    return;
  }
  if (socket.send({ type: "lab.validate", manifest: text })) validations.push("validate");
}

function showValidation(msg) {
  const problems = Array.isArray(msg.problems) ? msg.problems : [];
  const warnings = Array.isArray(msg.warnings) ? msg.warnings : [];
  const notes = Array.isArray(msg.notes) ? msg.notes : [];
  const all = [
    ...problems.map((p) => ({ ...p, severity: "error" })),
    ...warnings.map((p) => ({ ...p, severity: "warning" })),
    ...notes.map((p) => ({ ...p, severity: "info" })),
  ];
  editor.setProblems(all.map((p) => ({ line: p.line, column: p.column, severity: p.severity, message: p.message })));
  const parts = [msg.ok ? i18n.t("valid") : format(i18n.t("invalid"), { count: problems.length })];
  if (warnings.length) parts.push(format(i18n.t("warnings"), { count: warnings.length }));
  if (notes.length) parts.push(format(i18n.t("notes"), { count: notes.length }));
  const summary = $("validation-summary");
  setText(summary, parts.join(" "));
  summary.dataset.ok = msg.ok ? "true" : "false";
  replaceChildren($("validation-problems"), all.map((p) => el("li", { class: `problem problem-${p.severity}`, "data-code": p.code || "" },
    el("span", { class: "problem-severity" }, i18n.t(`severity-${p.severity}`)), " ",
    el("span", { class: "problem-where" }, format(i18n.t("problem-at"), { line: p.line || 1, column: p.column || 1 })), " ",
    el("span", { class: "problem-message" }, p.message || ""),
    p.kubectl && p.kubectl !== p.message
      ? el("span", { class: "problem-kubectl" }, el("span", { class: "problem-kubectl-label" }, "kubectl: "), p.kubectl)
      : null)));
  const kubectl = $("validation-kubectl");
  $("validation-kubectl-box").hidden = msg.ok || !msg.kubectl;
  setText(kubectl, msg.ok ? "" : msg.kubectl || "");
}

// --- connection ---------------------------------------------------------------------------

const wsUrl = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${root.dataset.wsPath}?lang=${encodeURIComponent(root.dataset.lang || "en")}`;
let everConnected = false;

const socket = new LabSocket(wsUrl, {
  onState(state, info) {
    const box = $("lab-connection");
    box.dataset.state = state;
    const text = box.querySelector(".lab-connection-text");
    if (state === "connecting") setText(text, i18n.t("connecting"));
    else if (state === "open") setText(text, everConnected ? i18n.t("restoring") : i18n.t("connected"));
    else if (state === "waiting") setText(text, format(i18n.t("reconnecting"), info));
    if (state !== "open") {
      validations = [];
      updateControls();
    }
  },
  onMessage: (msg) => receive(msg),
});

function receive(msg) {
  switch (msg.type) {
    case "lab.hello":
      onHello(msg);
      break;
    case "lab.validation": {
      const purpose = validations.shift() || "validate";
      showValidation(msg);
      if (purpose === "start" && !msg.ok) {
        pendingStart = null;
        editor.focus();
      }
      break;
    }
    case "lab.progress":
      // A long seek (or a restore at a late moment) runs in slices on the server: say how
      // far it got; the controls stay usable (pause or another seek interrupts it).
      showProgress(progressText(i18n, msg));
      break;
    case "lab.snapshot":
      showProgress(null);
      if (pendingStart) {
        model.manifest = pendingStart.manifest;
        model.seed = pendingStart.seed;
      }
      model.applySnapshot(msg);
      shownT = model.t;
      if (pendingStart && pendingStart.resume && !model.playing) {
        // Apply plays at the speed the menu shows; the menu never jumps to another speed.
        model.speed = speedValue() === "instant" ? Infinity : speedValue();
        socket.send({ type: "lab.play", speed: speedValue() });
      }
      pendingStart = null;
      queueRender(true);
      break;
    case "lab.frame":
      if (!model.active) break;
      if (msg.playing) playAsked = false;
      model.applyFrame(msg);
      checkBreaks(msg);
      queueRender(false);
      break;
    case "lab.logs":
      model.prependLogs(msg);
      panes.logsAnswered();
      break;
    case "lab.error":
      showProgress(null);
      if (panes.logsPending) panes.logsAnswered();
      onError(msg);
      break;
    default:
      showError(i18n.t("error-protocol"), "");
  }
}

function showProgress(text) {
  const box = $("seek-progress");
  if (!box) return;
  box.hidden = text === null;
  setText(box, text ?? "");
}

function onHello(msg) {
  const box = $("lab-connection");
  if (msg.protocol !== PROTOCOL) {
    box.dataset.state = "incompatible";
    setText(box.querySelector(".lab-connection-text"), i18n.t("incompatible"));
    return;
  }
  limits = msg.limits || limits;
  if (panes.kubectl.view !== "watch") socket.send({ type: "lab.view", view: panes.kubectl.view });
  const wasConnected = everConnected;
  everConnected = true;
  box.dataset.state = "open";
  setText(box.querySelector(".lab-connection-text"), i18n.t("connected"));
  if (pendingRestore) {
    restore(pendingRestore, false);
    pendingRestore = null;
  } else if (wasConnected && model.active) {
    // The socket dropped: rebuild the lab the server lost from what this page knows.
    restore(model.restorable(), model.playing);
  }
  validateNow();
  updateControls();
  if (root.dataset.autostart === "true" && !autostarted && !model.active && !hasLab(location.hash)) {
    autostarted = true;
    apply();
  }
}
let autostarted = false;

function onError(msg) {
  validations = validations.filter((p) => p !== "start");
  if (msg.code === "no_simulation" && model.active) {
    restore(model.restorable(), false);
    return;
  }
  if (["budget_exceeded", "out_of_memory"].includes(msg.code)) {
    // The server dropped this lab: rebuilding it on its own would only run it out again.
    model.active = false;
    model.playing = false;
    queueRender(true);
  }
  const detail = msg.detail && typeof msg.detail === "object" ? msg.detail : {};
  if (Array.isArray(detail.problems) && detail.problems.length) {
    // A refused re-apply: each problem in the page's language, on its line in the editor.
    showValidation({ ok: false, problems: detail.problems, warnings: [], notes: [], kubectl: detail.kubectl });
  }
  showError(msg.message || msg.code || "", typeof detail.kubectl === "string" ? detail.kubectl : "");
}

function showError(message, kubectl) {
  const box = $("lab-error");
  box.hidden = false;
  setText($("lab-error-message"), message);
  const pre = $("lab-error-kubectl");
  pre.hidden = !kubectl;
  setText(pre, kubectl);
}

function clearError() {
  $("lab-error").hidden = true;
}

function send(message) {
  clearError();
  return socket.send(message);
}

// --- commands -----------------------------------------------------------------------------

// Earlier lines of a long log come a page at a time (lab.logs); a page starts at most this
// far before the text the page holds.
const LOG_PAGE_CHARS = 64 * 1024;

function askLogs({ container, previous, before }) {
  const page = Math.min(LOG_PAGE_CHARS, Number(limits.log_page_chars) || LOG_PAGE_CHARS);
  const offset = Math.max(0, before - page);
  if (!model.active || !send({ type: "lab.logs", container, previous, offset, limit: before - offset })) {
    window.setTimeout(() => panes.logsAnswered(), 0);
  }
}

function currentSeed() {
  const value = Number.parseInt($("seed").value, 10);
  return Number.isInteger(value) && value >= 0 && value < 2 ** 31 ? value : 0;
}

function apply() {
  const manifest = editor.getText();
  if (!manifest.trim()) {
    showError(i18n.t("empty-manifest"), "");
    return;
  }
  const seed = currentSeed();
  playAsked = false;
  window.clearTimeout(validateTimer);
  if (send({ type: "lab.apply", manifest, seed })) {
    validations.push("start");
    pendingStart = { manifest, seed, resume: true };
    scenario.restart();
  }
}

function restore(lab, resume) {
  const message = { type: "lab.restore", manifest: lab.manifest, seed: lab.seed || 0, actions: lab.actions || [], t: lab.t || 0 };
  if (socket.send(message)) {
    validations.push("start");
    pendingStart = { manifest: lab.manifest, seed: lab.seed || 0, resume };
  }
}

function speedValue() {
  const v = $("speed").value;
  return v === "instant" ? "instant" : Number(v);
}

function speedLabel() {
  const select = $("speed");
  return select.options[select.selectedIndex] ? select.options[select.selectedIndex].textContent : "";
}

function play() {
  $("paused-at").hidden = true;
  playAsked = true;
  if (model.active) send({ type: "lab.play", speed: speedValue() });
}

function pause() {
  if (model.active) send({ type: "lab.pause" });
}

function step() {
  if (model.active) send({ type: "lab.step" });
}

function seek(t) {
  if (!model.active) return;
  send({ type: "lab.seek", t: Math.max(0, Math.min(Number(t) || 0, model.until)) });
}

function reset() {
  if (!model.active) return;
  if (send({ type: "lab.apply", manifest: model.manifest, seed: model.seed })) {
    validations.push("start");
    pendingStart = { manifest: model.manifest, seed: model.seed, resume: false };
  }
}

function act(action) {
  if (!model.active) return;
  // The snapshot that follows carries the server's record of actions (used by links).
  if (send({ type: "lab.action", ...action })) socket.send({ type: "lab.sync" });
}

function need(input) {
  if (input.value.trim()) return input.value.trim();
  showError(i18n.t("need-value"), "");
  input.focus();
  return null;
}

$("btn-apply").addEventListener("click", apply);
$("btn-play").addEventListener("click", play);
$("btn-pause").addEventListener("click", pause);
$("btn-step").addEventListener("click", step);
$("btn-reset").addEventListener("click", reset);
$("speed").addEventListener("change", () => send({ type: "lab.speed", speed: speedValue() }));

const scrubber = $("scrubber");
scrubber.addEventListener("input", () => {
  scrubbing = true;
  setText($("clock"), `t = ${secondsText(scrubber.value)}`);
});
scrubber.addEventListener("change", () => {
  scrubbing = false;
  seek(Number(scrubber.value));
});

$("btn-delete").addEventListener("click", () => {
  const pod = $("delete-pod").value;
  if (!pod) return;
  const action = { action: "delete", pod };
  const grace = $("delete-grace").value.trim();
  if (grace !== "") action.grace_period = Math.max(0, Number.parseInt(grace, 10) || 0);
  if ($("delete-force").checked) action.force = true;
  act(action);
});
$("btn-kill").addEventListener("click", () => {
  const [pod, container] = ($("kill-target").value || "").split("/");
  if (!pod || !container) return;
  act({ action: "kill", pod, container, signal: $("kill-signal").value });
});
$("btn-reapply").addEventListener("click", () => act({ action: "apply", manifest: editor.getText() }));
$("btn-image-on").addEventListener("click", () => {
  const image = need($("image-name"));
  if (image) act({ action: "image", image, available: true });
});
$("btn-image-off").addEventListener("click", () => {
  const image = need($("image-name"));
  if (image) act({ action: "image", image, available: false });
});
$("btn-node-off").addEventListener("click", () => {
  const node = need($("node-name"));
  if (node) act({ action: "node", node, reachable: false });
});
$("btn-node-on").addEventListener("click", () => {
  const node = need($("node-name"));
  if (node) act({ action: "node", node, reachable: true });
});
$("btn-service").addEventListener("click", () => {
  const name = need($("service-name"));
  if (!name) return;
  const action = { action: "service", name };
  const ns = $("service-namespace").value.trim();
  if (ns) action.namespace = ns;
  act(action);
});
$("btn-namespace-delete").addEventListener("click", () => {
  const namespace = need($("namespace-name"));
  if (namespace) act({ action: "delete", namespace });
});

// Keyboard shortcuts outside text fields: Space play/pause, → step, ← back 5 s.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
  const target = event.target;
  if (target.closest && target.closest("input, select, textarea, button, a, summary, [contenteditable], .cm-editor, [role=tab]")) return;
  if (!model.active) return;
  if (event.key === " " || event.code === "Space") {
    event.preventDefault();
    if (model.playing) pause();
    else play();
  } else if (event.key === "ArrowRight") {
    event.preventDefault();
    step();
  } else if (event.key === "ArrowLeft") {
    event.preventDefault();
    seek(model.t - 5);
  }
});

// Picking another example replaces the editor's text: ask first when the learner changed it.
for (const link of document.querySelectorAll(".gallery a[data-example]")) {
  link.addEventListener("click", (event) => {
    const text = editor.getText();
    if (text.trim() && text !== textarea.defaultValue && !window.confirm(i18n.t("discard-edits"))) {
      event.preventDefault();
    }
  });
}

// --- breakpoints and guided steps -----------------------------------------------------------

const breakBoxes = [...document.querySelectorAll("#breakpoints input[data-break]")];
function countBreaks() {
  const n = breakBoxes.filter((b) => b.checked).length;
  setText($("breakpoints-count"), n ? `(${n})` : "");
}
for (const box of breakBoxes) box.addEventListener("change", countBreaks);

/** Pause exactly at a moment: stop the clock, then seek back to it (the engine replays). */
function pauseAt(t) {
  send({ type: "lab.pause" });
  send({ type: "lab.seek", t });
}

function checkBreaks(msg) {
  if (scenario.asking) return;
  const kinds = new Set(breakBoxes.filter((b) => b.checked).map((b) => b.dataset.break));
  const hit = msg.playing && (msg.narration || []).find((entry) => kinds.has(entry.kind));
  if (hit) {
    pauseAt(hit.t);
    const box = $("paused-at");
    box.hidden = false;
    setText(box, format(i18n.t("paused-at"), { t: secondsText(hit.t), text: hit.text || "" }));
    return;
  }
  scenario.onFrame(msg);
}

class Scenario {
  constructor() {
    const data = $("scenario-data");
    let parsed = null;
    try {
      parsed = data ? JSON.parse(data.textContent) : null;
    } catch (err) {
      parsed = null;
    }
    this.steps = parsed && Array.isArray(parsed.steps) ? parsed.steps : [];
    this.index = 0;
    this.asking = false;
    this.on = false; // the learner starts the guided steps; a plain Apply just plays
    this.manifest = textarea.defaultValue;
    this.list = $("scenario-steps");
    $("scenario-start").addEventListener("click", () => {
      // The steps belong to the example as written: start from it.
      if (editor.getText() !== this.manifest) editor.setText(this.manifest);
      apply();
      this.on = true;
      $("scenario-start").hidden = true;
    });
    $("scenario-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.check();
    });
    $("scenario-next").addEventListener("click", () => this.next());
    this.draw();
  }

  restart() {
    this.on = false;
    $("scenario-start").hidden = false;
    this.index = 0;
    this.asking = false;
    $("scenario-ask").hidden = true;
    this.draw();
  }

  draw() {
    if (!this.list) return;
    replaceChildren(this.list, this.steps.map((step, i) => el("li", {
      class: i < this.index ? "done" : i === this.index ? "current" : "",
      "aria-current": i === this.index ? "step" : null,
    }, step.question)));
  }

  get current() {
    return this.steps[this.index] || null;
  }

  onFrame(msg) {
    const step = this.current;
    if (!this.on || model.manifest !== this.manifest) return;
    if (!step || this.asking || typeof msg.t !== "number") return;
    // A lab with nothing scheduled any more looks the same at the step's moment: go there.
    const stuck = !msg.playing && msg.next_t === null && msg.t < step.t;
    // At fast speeds one tick can pass the step's moment (and the lab may stop right after):
    // the step is asked whenever the clock is at or past it; pauseAt goes back to it.
    if (!stuck && msg.t < step.t) return;
    this.asking = true;
    pauseAt(step.t);
    this.ask(step);
  }

  ask(step) {
    $("scenario-ask").hidden = false;
    setText($("scenario-question"), step.question);
    setText($("scenario-verdict"), "");
    $("scenario-next").hidden = true;
    const number = $("scenario-answer");
    const choice = $("scenario-choice");
    number.hidden = step.kind !== "number";
    choice.hidden = step.kind !== "choice";
    number.value = "";
    if (step.kind === "choice") {
      replaceChildren(choice, (step.choices || []).map((c) => el("option", { value: c }, c)));
      choice.focus();
    } else {
      number.focus();
    }
  }

  /** What the engine shows at the step's moment. */
  actual(step) {
    const check = step.check || {};
    if (check.value === "restarts") {
      const status = model.containerStatus(check.pod, check.container);
      return status ? String(status.restartCount || 0) : "0";
    }
    if (check.value === "phase") return model.phase(check.pod);
    if (check.value === "pods-in-phase") {
      return String(model.pods.filter((p) => (p.status || {}).phase === check.phase).length);
    }
    if (check.value === "narration") {
      const entry = model.narration.filter((e) => e.code === check.code && e.pod === check.pod
        && (!check.container || e.container === check.container) && e.t <= step.t + 1e-6).pop();
      return entry && entry.params && entry.params[check.param] !== undefined ? String(entry.params[check.param]) : "";
    }
    return "";
  }

  check() {
    const step = this.current;
    if (!step) return;
    const answer = step.kind === "choice" ? $("scenario-choice").value : $("scenario-answer").value.trim();
    if (answer === "") {
      setText($("scenario-verdict"), i18n.t("need-value"));
      return;
    }
    const actual = this.actual(step);
    const right = answer === actual;
    const verdict = $("scenario-verdict");
    verdict.dataset.right = right ? "true" : "false";
    setText(verdict, `${format(i18n.t(right ? "predict-right" : "predict-wrong"), { value: actual })} ${step.explain || ""}`);
    $("scenario-next").hidden = false;
    $("scenario-next").focus();
  }

  next() {
    this.index += 1;
    this.asking = false;
    $("scenario-ask").hidden = true;
    this.draw();
    play();
  }
}
const scenario = new Scenario();

// --- sharing ------------------------------------------------------------------------------

$("btn-share").addEventListener("click", async () => {
  const lab = model.active ? model.restorable()
    : { manifest: editor.getText(), seed: currentSeed(), actions: [], t: 0 };
  const hash = await encodeLab(lab);
  const url = `${location.origin}${location.pathname}${hash}`;
  history.replaceState(null, "", url);
  const box = $("share-box");
  box.hidden = false;
  const input = $("share-url");
  input.value = url;
  input.select();
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(url);
      copied = true;
    }
  } catch (err) {
    copied = false;
  }
  setText($("share-status"), i18n.t(copied ? "link-copied" : "link-ready"));
});

// A #lab= link shows what it would run (manifest, seed, actions, moment) and waits for the
// learner's click: a crafted link must not make a visitor's browser run anything by itself.
let offeredLab = null;

function describeAction(action) {
  const fields = Object.entries(action)
    .filter(([key]) => key !== "t" && key !== "action" && key !== "manifest")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  const manifest = typeof action.manifest === "string" ? ` (${action.manifest.length} B manifest)` : "";
  return `t=${seconds(Number(action.t) || 0)} s ${action.action} ${fields.join(" ")}${manifest}`.trim();
}

function offerLab(lab) {
  offeredLab = lab;
  const actions = Array.isArray(lab.actions) ? lab.actions : [];
  setText($("share-confirm-seed"), String(lab.seed || 0));
  setText($("share-confirm-t"), format(i18n.t("link-moment"), { seconds: seconds(lab.t || 0) }));
  setText($("share-confirm-count"), format(i18n.t("link-actions"), { count: actions.length }));
  replaceChildren($("share-confirm-actions"), actions.map((a) => el("li", {}, describeAction(a))));
  setText($("share-confirm-manifest"), lab.manifest);
  $("share-confirm").hidden = false;
  $("share-confirm-start").focus();
}

// The example's file name, its "Watch for" line and its guided steps describe the example
// as written: a shared lab that runs another manifest hides them.
function showExampleContext(show) {
  for (const id of ["lab-example-name", "lab-watch"]) {
    const node = $(id);
    if (node) node.hidden = !show;
  }
  const steps = $("scenario");
  if (steps && scenario.steps.length) steps.hidden = !show;
}

function startOffered() {
  const lab = offeredLab;
  if (!lab) return;
  offeredLab = null;
  $("share-confirm").hidden = true;
  showExampleContext(lab.manifest === textarea.defaultValue);
  editor.setText(lab.manifest);
  $("seed").value = String(lab.seed);
  if (socket.isOpen && everConnected) restore(lab, false);
  else pendingRestore = lab;
}

function declineOffered() {
  offeredLab = null;
  $("share-confirm").hidden = true;
  history.replaceState(null, "", location.pathname + location.search);
}

$("share-confirm-start").addEventListener("click", startOffered);
$("share-confirm-cancel").addEventListener("click", declineOffered);

async function readHash() {
  if (!hasLab(location.hash)) return;
  try {
    offerLab(await decodeLab(location.hash));
  } catch (err) {
    showError(i18n.t("link-broken"), "");
  }
}
window.addEventListener("hashchange", () => readHash());

// --- rendering ----------------------------------------------------------------------------

function queueRender(full) {
  renderFull = renderFull || full;
  if (renderQueued) return;
  renderQueued = true;
  window.requestAnimationFrame(() => {
    renderQueued = false;
    const fullNow = renderFull;
    renderFull = false;
    render(fullNow);
  });
}

function syncSelect(select, options) {
  const current = select.value;
  const key = options.map((o) => o.value).join("\n");
  if (select.dataset.values === key) return;
  select.dataset.values = key;
  replaceChildren(select, options.map((o) => el("option", { value: o.value }, o.label)));
  if (options.some((o) => o.value === current)) select.value = current;
}

function syncDatalist(list, values) {
  const key = values.join("\n");
  if (list.dataset.values === key) return;
  list.dataset.values = key;
  replaceChildren(list, values.map((v) => el("option", { value: v })));
}

function render(full) {
  panes.render(full);
  timeline.render();
  const pods = model.pods.map((p) => p.metadata.name);
  syncSelect($("delete-pod"), pods.map((name) => ({ value: name, label: name })));
  const running = model.containers().filter((c) => model.pod(c.pod));
  syncSelect($("kill-target"), running.map((c) => ({ value: `${c.pod}/${c.name}`, label: `${c.pod}/${c.name}` })));
  const images = new Set();
  const nodes = new Set();
  for (const pod of model.pods) {
    const spec = pod.spec || {};
    for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) if (c.image) images.add(c.image);
    if (spec.nodeName) nodes.add(spec.nodeName);
  }
  syncDatalist($("image-list"), [...images]);
  syncDatalist($("node-list"), [...nodes]);
  if (!$("node-name").value && nodes.size) $("node-name").value = [...nodes][0];
  updateControls();
}

function updateControls() {
  const open = socket.isOpen;
  const active = model.active && open;
  $("btn-apply").disabled = !open;
  $("btn-play").disabled = !active || model.playing;
  $("btn-pause").disabled = !active || !model.playing;
  $("btn-step").disabled = !active || model.nextT === null;
  $("btn-reset").disabled = !active;
  $("speed").disabled = !open;
  const speedSelect = $("speed");
  if (document.activeElement !== speedSelect && model.active && !pendingStart) {
    const want = String(model.speed === Infinity ? "instant" : model.speed);
    if ([...speedSelect.options].some((o) => o.value === want)) speedSelect.value = want;
  }
  scrubber.disabled = !active;
  scrubber.max = String(Math.max(1, Math.round(model.until)));
  showClock();
  scrubber.setAttribute("aria-valuetext", `t = ${secondsText(model.t)}`);
  root.dataset.playing = model.playing ? "true" : "false";
  root.dataset.active = model.active ? "true" : "false";
  root.dataset.t = String(model.t);
  const quiet = model.nextT === null || (model.settled && !model.playing);
  setText($("next-event"), !model.active ? ""
    : quiet ? i18n.t(playAsked && model.nextT === null ? "play-nothing" : "nothing-next")
      : model.t >= model.until ? format(i18n.t("run-ended"), { t: secondsText(model.until) })
        : model.playing ? format(i18n.t(model.settled ? "playing-settled" : "playing-at"), { speed: speedLabel() })
          : format(i18n.t("next-at"), { t: secondsText(model.nextT) }));
  $("next-event").dataset.ended = model.active && !model.playing && (quiet || model.t >= model.until) ? "true" : "false";
  const supported = new Set(Array.isArray(limits.actions) ? limits.actions : []);
  let unsupported = false;
  for (const [id, action] of [["act-delete", "delete"], ["act-kill", "kill"], ["act-apply", "apply"],
    ["act-image", "image"], ["act-node", "node"], ["act-service", "service"],
    ["act-namespace", "delete"]]) {
    const fieldset = $(id);
    fieldset.disabled = !active || !supported.has(action);
    fieldset.classList.toggle("unsupported", !supported.has(action));
    if (!supported.has(action)) unsupported = true;
  }
  $("actions-unsupported").hidden = !unsupported;
}

// Between frames the clock runs on at the lab's speed (model.displayTime), never backwards.
function showClock() {
  if (scrubbing || !model.active) return;
  shownT = model.playing ? Math.max(shownT, model.displayTime()) : model.t;
  if (shownT > model.until) shownT = model.until;
  scrubber.value = String(Math.round(shownT));
  setText($("clock"), `t = ${secondsText(shownT)}`);
  timeline.moveNow(shownT);
}
window.setInterval(showClock, 250);

// --- start --------------------------------------------------------------------------------

setText($("clock"), `t = ${secondsText(0)}`);
await mountEditor();
await readHash();
updateControls();
socket.connect();
