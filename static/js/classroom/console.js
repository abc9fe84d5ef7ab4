// The instructor console: drives the room's simulation, pushes questions, watches the answers
// arrive. Every change goes through the server, which broadcasts it to the students.

import {
  el, format, setText, replaceChildren, loadMessages, RoomSocket, SimView, questionMeta,
  renderHistogram, Countdown,
} from "./common.js";
import { progressText } from "../lab/dom.js";

const root = document.getElementById("classroom");
const $ = (id) => document.getElementById(id);
const i18n = loadMessages("lab-i18n", "classroom-i18n");
const examples = JSON.parse($("classroom-examples").textContent);
const view = new SimView(root, i18n, (t) => socket.send({ type: "classroom.seek", t }),
  (message) => socket.send(message));
let question = null;
let tally = null;
let seats = 0;
const countdown = new Countdown($("countdown"), i18n);

function speedValue() {
  const v = $("speed").value;
  return v === "instant" ? "instant" : Number(v);
}

function fillSelect(select, values) {
  const keep = select.value;
  replaceChildren(select, values.map((v) => el("option", { value: v }, v)));
  if (values.includes(keep)) select.value = keep;
}

function renderSim() {
  const m = view.model;
  const pods = m.pods.map((p) => p.metadata.name);
  fillSelect($("action-pod"), pods);
  fillSelect($("predict-pod"), pods);
  const pod = m.pods.find((p) => p.metadata.name === $("action-pod").value);
  const names = pod ? (pod.spec.containers || []).map((c) => c.name) : [];
  fillSelect($("action-container"), names);
  $("scrubber").max = String(Math.max(1, Math.round(m.until)));
  $("scrubber").value = String(Math.round(m.t));
  root.dataset.t = String(m.t);
  root.dataset.playing = m.playing ? "true" : "false";
}

function gradedRows() {
  return [{ token: "right", text: i18n.t("right-answers") }, { token: "wrong", text: i18n.t("wrong-answers") }];
}

function renderQuestion() {
  const q = question;
  $("question-panel").hidden = !q;
  root.dataset.question = q ? `${q.id}:${q.round}:${q.state}` : "";
  if (!q) return;
  setText($("question-meta"), questionMeta(i18n, q));
  setText($("question-prompt"), q.prompt);
  const code = $("question-code");
  code.hidden = !q.code;
  setText(code, q.code || "");
  countdown.follow(q);
  const counts = (tally && tally.question === q.id && tally.round === q.round) ? tally.counts : {};
  const previous = (tally && tally.question === q.id) ? tally.previous || {} : {};
  const current = tally && tally.question === q.id && tally.round === q.round;
  if (q.qtype === "order" || q.qtype === "short") {
    // Not one vote per choice: right and wrong answers, and for short answers what was typed.
    const right = current ? tally.right : 0;
    const wrong = current ? tally.answered - tally.right : 0;
    renderHistogram($("histogram"), i18n, gradedRows(), { right, wrong }, new Set(["right"]), {});
  } else {
    renderHistogram($("histogram"), i18n, q.choices, counts, new Set(q.correct || []), previous);
  }
  const answered = tally && tally.question === q.id && tally.round === q.round ? tally.answered : 0;
  setText($("answered-count"), format(i18n.t("answered-count"), { answered, seats }));
  $("answered-count").dataset.answered = String(answered);
  let names = tally && tally.question === q.id ? (tally.names || []).join(", ") : "";
  if (q.qtype === "short" && current && tally.top && tally.top.length) {
    names += " · " + format(i18n.t("most-given"), { answers: tally.top.map(([text, n]) => `${text} (${n})`).join(", ") });
  }
  if (q.qtype === "order" && q.correct) {
    names += " · " + q.correct.map((token) => (q.choices.find((c) => c.token === token) || {}).text).join(" → ");
  }
  setText($("answered-names"), names);
  const explanation = $("question-explanation");
  explanation.hidden = q.state !== "revealed";
  setText(explanation, [q.explanation, q.target_t !== undefined ? format(i18n.t("play-to"), { t: q.target_t }) : ""].join(" "));
  $("btn-lock").disabled = q.state !== "open";
  $("btn-revote").disabled = q.state !== "locked" || q.round > 1;
  $("btn-reveal").disabled = q.state === "revealed";
}

// What the room runs (applied here, by a plan's scenario, or by another console) fills the
// editor, unless the instructor is in the middle of editing something else.
let appliedManifest = "";
function showAppliedManifest(manifest) {
  if (!manifest || manifest === appliedManifest) return;
  const current = editor.getText();
  if (!current.trim() || current === appliedManifest) {
    editor.setText(manifest);
    textarea.value = manifest;
  }
  appliedManifest = manifest;
}

// The lesson plan: choose one of the instructor's plans, run its steps in order (or any one).
function renderPlan(msg) {
  const select = $("plan-select");
  const none = select.options[0];
  replaceChildren(select, [none, ...msg.plans.map((p) => el("option", { value: String(p.id) }, p.title))]);
  select.value = msg.plan ? String(msg.plan.id) : "";
  $("plan-body").hidden = !msg.plan;
  root.dataset.planPosition = String(msg.position);
  if (!msg.plan) return;
  const steps = msg.plan.steps;
  const done = Math.min(msg.position, steps.length);
  setText($("plan-summary"), format(i18n.t("plan-progress"), { position: done, total: steps.length }));
  const next = steps[msg.position];
  setText($("plan-next"), next ? format(i18n.t("plan-next"), { step: `${next.kind_text}: ${next.label}` }) : i18n.t("plan-done"));
  $("btn-next").disabled = !next;
  replaceChildren($("plan-steps"), steps.map((step, i) => {
    const state = i < msg.position ? "done" : (i === msg.position ? "next" : "later");
    const run = el("button", { type: "button", class: "button plan-run", "data-step": String(i),
      "aria-label": format(i18n.t("plan-run-step"), { n: i + 1 }) }, i18n.t("plan-run"));
    return el("li", { class: "plan-step", "data-state": state, "data-kind": step.kind }, [
      el("div", { class: "plan-step-text" }, [el("span", { class: "plan-kind" }, step.kind_text), ` ${step.label}`,
        el("span", { class: "plan-detail" }, step.detail)]),
      run,
    ]);
  }));
}

let progressShown = false;

function onMessage(msg) {
  if (msg.type === "classroom.logs" || msg.type === "classroom.error") view.apply(msg);
  switch (msg.type) {
    case "classroom.seeking":
      // The room's seek runs in slices on the server: how far it got.
      progressShown = true;
      setText($("room-status"), progressText(i18n, msg));
      break;
    case "classroom.snapshot":
    case "classroom.frame":
      if (progressShown) {
        progressShown = false;
        setText($("room-status"), "");
      }
      if (msg.type === "classroom.snapshot") showAppliedManifest(msg.manifest);
      if (view.apply(msg)) {
        root.dataset.seq = String(msg.seq);
        renderSim();
      }
      break;
    case "classroom.validation": {
      const problems = (msg.problems || []).map((p) => ({ ...p, severity: "error" }));
      const warnings = (msg.warnings || []).map((p) => ({ ...p, severity: "warning" }));
      editor.setProblems([...problems, ...warnings].map((p) =>
        ({ line: p.line, column: p.column, severity: p.severity, message: p.message })));
      replaceChildren($("validation"), [...problems, ...warnings].map((p) =>
        el("li", { class: `problem problem-${p.severity}` }, `${p.line}:${p.column} ${p.message}`)));
      break;
    }
    case "classroom.question":
      question = msg.question;
      renderQuestion();
      break;
    case "classroom.tally":
      tally = msg;
      seats = msg.seats;
      renderQuestion();
      break;
    case "classroom.roster":
      seats = msg.seats.length;
      setText($("roster-count"), format(i18n.t("online-count"), { online: msg.online, seats }));
      replaceChildren($("roster"), msg.seats.map((s) =>
        el("li", { "data-online": s.online ? "true" : "false" }, `${s.name} (${s.lang})`)));
      renderQuestion();
      break;
    case "classroom.plan":
      renderPlan(msg);
      break;
    case "classroom.leaderboard":
      $("leaderboard-toggle").checked = msg.shown;
      replaceChildren($("leaderboard"), (msg.rows || []).map((r) => el("li", {}, `${r.name} · ${r.score}`)));
      break;
    case "classroom.error":
      setText($("room-status"), msg.message);
      break;
    case "classroom.service":
      root.dataset.service = msg.state;
      setText($("room-status"), msg.message);
      break;
    case "classroom.closed":
      socket.finish();
      setText($("room-status"), i18n.t("room-closed"));
      break;
    default:
      break;
  }
}

const socket = new RoomSocket(root.dataset.wsPath, root.dataset.lang, {
  onMessage,
  onState(state, info) {
    root.dataset.connection = state;
    if (state === "open") setText($("room-status"), i18n.t("you-connected"));
    else if (state === "waiting") setText($("room-status"), format(i18n.t("you-waiting"), info));
  },
});

const send = (type, extra) => socket.send({ type, ...(extra || {}) });
const chosenCountdown = () => Number($("countdown-select").value) || 0;
// The manifest editor: CodeMirror from the committed bundle, the plain textarea without it.
const textarea = $("manifest");
let editor = {
  getText: () => textarea.value,
  setText: (text) => { textarea.value = text; },
  setProblems: () => {},
};
let validateTimer = 0;
function scheduleValidate() {
  window.clearTimeout(validateTimer);
  validateTimer = window.setTimeout(() => {
    const text = editor.getText();
    if (text.trim()) send("classroom.validate", { manifest: text });
  }, 400);
}
// Typing in the textarea (or a script filling it) updates the editor too.
textarea.addEventListener("input", () => {
  if (editor.getText() !== textarea.value) editor.setText(textarea.value);
  scheduleValidate();
});
(async () => {
  try {
    const { createEditor } = await import(root.dataset.editorModule);
    const mount = $("editor-mount");
    const nonceHolder = document.querySelector("script[nonce]");
    const created = createEditor(mount, {
      doc: textarea.value,
      label: textarea.getAttribute("aria-label") || "",
      nonce: nonceHolder ? nonceHolder.nonce : "",
      onChange: () => { textarea.value = created.getText(); scheduleValidate(); },
      onSubmit: () => $("btn-apply").click(),
    });
    mount.hidden = false;
    textarea.hidden = true;
    editor = created;
  } catch (err) {
    textarea.hidden = false;
  }
})();

$("example-select").addEventListener("change", () => {
  const text = examples[$("example-select").value];
  if (text) {
    editor.setText(text);
    textarea.value = text;
    scheduleValidate();
  }
});
$("btn-apply").addEventListener("click", () => send("classroom.apply",
  { manifest: editor.getText(), seed: Number($("seed").value) || 0 }));
$("btn-play").addEventListener("click", () => send("classroom.play", { speed: speedValue() }));
$("btn-pause").addEventListener("click", () => send("classroom.pause"));
$("btn-step").addEventListener("click", () => send("classroom.step"));
$("speed").addEventListener("change", () => send("classroom.speed", { speed: speedValue() }));
$("scrubber").addEventListener("change", () => send("classroom.seek", { t: Number($("scrubber").value) }));
$("action-pod").addEventListener("change", renderSim);
$("btn-delete").addEventListener("click", () => send("classroom.action",
  { action: "delete", pod: $("action-pod").value }));
$("btn-kill").addEventListener("click", () => send("classroom.action",
  { action: "kill", pod: $("action-pod").value, container: $("action-container").value, signal: "KILL" }));
$("btn-push").addEventListener("click", () => {
  const [lesson, id] = $("bank-select").value.split("/");
  send("classroom.push", { lesson, question: id, countdown: chosenCountdown() });
});
$("btn-predict").addEventListener("click", () => send("classroom.predict",
  { pod: $("predict-pod").value || null, seconds: Number($("predict-seconds").value),
    countdown: chosenCountdown() }));
$("btn-lock").addEventListener("click", () => send("classroom.lock"));
$("btn-revote").addEventListener("click", () => send("classroom.revote"));
$("btn-reveal").addEventListener("click", () => send("classroom.reveal"));
$("btn-end").addEventListener("click", () => send("classroom.end"));
$("leaderboard-toggle").addEventListener("change", () => send("classroom.leaderboard",
  { show: $("leaderboard-toggle").checked }));
$("plan-select").addEventListener("change", () => send("classroom.plan",
  { plan: $("plan-select").value ? Number($("plan-select").value) : null }));
$("btn-next").addEventListener("click", () => send("classroom.next"));
$("plan-steps").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-step]");
  if (button) send("classroom.next", { step: Number(button.dataset.step) });
});
socket.connect();
