// A student's page: follows the room's simulation, answers live questions, forks the moment
// into a private lab. The server decides everything; this page only shows and asks.

import {
  el, format, setText, replaceChildren, loadMessages, RoomSocket, SimView, questionMeta,
  choiceText, showCode, Countdown,
} from "./common.js";
import { encodeLab } from "../lab/share.js";

const root = document.getElementById("classroom");
const $ = (id) => document.getElementById(id);
const i18n = loadMessages("lab-i18n", "classroom-i18n");
const view = new SimView(root, i18n, null, (message) => socket.send(message));
let question = null;
let score = 0;
const countdown = new Countdown($("countdown"), i18n, () => {
  // Voting closed on the server; the "locked" message follows. Stop taking taps now.
  for (const input of $("choices").querySelectorAll("input")) input.disabled = true;
  $("btn-answer").hidden = true;
});

function setPresence(node, state, text) {
  node.dataset.state = state;
  setText(node, text);
}

// The instructor's console repeats "here" every 10 s; a console whose server process died
// says nothing more, so silence for longer than that means the instructor is gone.
const TEACHER_SILENCE_MS = 35000;
let teacherTimer = 0;
function showTeacher(here) {
  window.clearTimeout(teacherTimer);
  setPresence($("teacher-state"), here ? "online" : "offline",
    i18n.t(here ? "teacher-online" : "teacher-offline"));
  if (here) teacherTimer = window.setTimeout(() => showTeacher(false), TEACHER_SILENCE_MS);
}

function renderScore() {
  setText($("score"), format(i18n.t("score"), { score }));
}

// An ordering question: the items in the student's current order, moved with two buttons each.
let orderState = { key: "", tokens: [] };

function renderGraded(q, open) {
  const textOf = (token) => choiceText(q, token);
  if (q.qtype === "short") {
    const input = el("input", { type: "text", id: "short-answer", maxlength: "200",
      autocomplete: "off", "aria-label": i18n.t("your-answer"), disabled: !open });
    input.value = typeof q.your_answer === "string" ? q.your_answer : "";
    const items = [input];
    if (q.state === "revealed" && q.correct) {
      items.push(el("p", { class: "accepted" }, format(i18n.t("accepted"), { answers: q.correct.join(", ") })));
    }
    replaceChildren($("choices"), items);
    return;
  }
  const key = `${q.id}:${q.round}`;
  if (orderState.key !== key) {
    const start = Array.isArray(q.your_answer) ? q.your_answer : q.choices.map((c) => c.token);
    orderState = { key, tokens: start.slice() };
  }
  const move = (i, by) => {
    const tokens = orderState.tokens;
    const j = i + by;
    if (j < 0 || j >= tokens.length) return;
    [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
    renderQuestion();
  };
  const list = el("ol", { class: "order-list", id: "order-list" }, ...orderState.tokens.map((token, i) =>
    el("li", { "data-token": token, class: q.state === "revealed" && q.correct && q.correct[i] === token ? "is-correct" : "" },
      el("span", { class: "order-text" }, textOf(token)),
      el("button", { type: "button", class: "button order-up", disabled: !open || i === 0 }, i18n.t("move-up")),
      el("button", { type: "button", class: "button order-down", disabled: !open || i === orderState.tokens.length - 1 }, i18n.t("move-down")))));
  list.querySelectorAll("li").forEach((li, i) => {
    li.querySelector(".order-up").addEventListener("click", () => move(i, -1));
    li.querySelector(".order-down").addEventListener("click", () => move(i, 1));
  });
  const items = [list];
  if (q.state === "revealed" && q.correct) {
    items.push(el("p", { class: "accepted" }, format(i18n.t("right-order"), { order: q.correct.map(textOf).join(" → ") })));
  }
  replaceChildren($("choices"), items);
}

function renderQuestion() {
  const q = question;
  $("question-body").hidden = !q;
  setText($("question-empty"), q ? "" : i18n.t("no-question"));
  root.dataset.question = q ? `${q.id}:${q.round}:${q.state}` : "";
  countdown.follow(q);
  if (!q) return;
  setText($("question-meta"), questionMeta(i18n, q));
  setText($("question-prompt"), q.prompt);
  showCode($("question-code"), q.code);
  const open = q.state === "open";
  const mine = q.your_answer;
  const chosen = new Set(Array.isArray(mine) ? mine : mine ? [mine] : []);
  const correct = new Set(q.correct || []);
  if (q.qtype === "order" || q.qtype === "short") {
    renderGraded(q, open);
  } else replaceChildren($("choices"), q.choices.map((c) => {
    const input = el("input", {
      type: q.multiple ? "checkbox" : "radio", name: "choice", value: c.token,
      disabled: !open, "data-token": c.token,
    });
    input.checked = chosen.has(c.token);
    const classes = ["choice"];
    if (q.state === "revealed" && correct.has(c.token)) classes.push("is-correct");
    const count = q.tally && q.tally[c.token] !== undefined ? ` (${q.tally[c.token]})` : "";
    return el("label", { class: classes.join(" ") }, input, " ", c.text, count);
  }));
  $("btn-answer").hidden = !open;
  setText($("btn-answer"), i18n.t("submit"));
  let status = "";
  if (q.state === "revealed") {
    let right = chosen.size > 0 && [...chosen].every((t) => correct.has(t))
      && chosen.size === correct.size;
    if (q.qtype === "order") right = JSON.stringify(mine) === JSON.stringify(q.correct);
    if (q.qtype === "short") right = correct.has(mine);
    status = chosen.size === 0 ? i18n.t("no-answer") : i18n.t(right ? "right" : "wrong");
    if (q.target_t !== undefined) status += " " + format(i18n.t("play-to"), { t: q.target_t });
  } else if (chosen.size > 0) {
    status = i18n.t(open ? "answered" : "answered-closed");
  }
  if (q.your_previous) {
    const prev = Array.isArray(q.your_previous) ? q.your_previous : [q.your_previous];
    status += " " + format(i18n.t("your-previous"),
      { answer: prev.map((t) => choiceText(q, t)).join(", ") });
  }
  setText($("answer-status"), status);
  $("answer-status").dataset.result = q.state === "revealed" ? status : "";
  const explanation = $("question-explanation");
  explanation.hidden = !q.explanation;
  setText(explanation, q.explanation || "");
  showCode($("question-table"), q.state === "revealed" ? q.table : "");
}

$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!question || question.state !== "open") return;
  if (question.qtype === "short") {
    const text = $("short-answer").value.trim();
    if (text) socket.send({ type: "classroom.answer", question: question.id, round: question.round, answer: text });
    return;
  }
  if (question.qtype === "order") {
    socket.send({ type: "classroom.answer", question: question.id, round: question.round, answer: orderState.tokens });
    return;
  }
  const picked = [...$("choices").querySelectorAll("input:checked")].map((i) => i.value);
  if (!picked.length) return;
  socket.send({
    type: "classroom.answer", question: question.id, round: question.round,
    answer: question.multiple ? picked : picked[0],
  });
});

$("btn-fork").addEventListener("click", async () => {
  const m = view.model;
  if (!m.active) return;
  const hash = await encodeLab({ manifest: m.manifest, seed: m.seed, actions: m.actions, t: m.t });
  window.open(root.dataset.labUrl + hash, "_blank", "noopener");
  const note = $("fork-note");
  note.hidden = false;
  setText(note, i18n.t("forked"));
});

function onMessage(msg) {
  if (msg.type === "classroom.logs" || msg.type === "classroom.error") view.apply(msg);
  switch (msg.type) {
    case "classroom.hello":
      score = msg.score || 0;
      renderScore();
      showTeacher(Boolean(msg.instructor));
      break;
    case "classroom.snapshot":
    case "classroom.frame":
      if (view.apply(msg)) {
        root.dataset.seq = String(msg.seq);
        root.dataset.t = String(view.model.t);
        $("play-state").dataset.playing = msg.playing ? "true" : "false";
        setText($("play-state"), i18n.t(msg.playing ? "playing" : "paused"));
        if (msg.type === "classroom.snapshot") $("room-note").hidden = true;
      }
      break;
    case "classroom.question":
      question = msg.question;
      if (question && typeof question.score === "number") { score = question.score; renderScore(); }
      renderQuestion();
      break;
    case "classroom.answered":
      if (question && question.id === msg.question && question.round === msg.round) {
        question.your_answer = msg.answer;
        renderQuestion();
      }
      break;
    case "classroom.presence":
      showTeacher(Boolean(msg.instructor));
      break;
    case "classroom.leaderboard":
      $("leaderboard-card").hidden = !msg.shown;
      replaceChildren($("leaderboard"), (msg.rows || []).map((r) => el("li", {}, `${r.name} · ${r.score}`)));
      break;
    case "classroom.service":
      root.dataset.service = msg.state;
      setPresence($("me-state"), msg.state === "ok" ? "online" : "offline", msg.message);
      break;
    case "classroom.closed":
      socket.finish();
      setPresence($("me-state"), "closed", i18n.t("room-closed"));
      break;
    case "classroom.error":
      if (msg.detail && msg.detail.stopped) {
        // The room's simulation outgrew its budget or memory: it stays where it stopped.
        $("play-state").dataset.playing = "false";
        setText($("play-state"), i18n.t("paused"));
        $("room-note").hidden = false;
        setText($("room-note"), msg.message);
      } else {
        setText($("answer-status"), msg.message);
      }
      break;
    default:
      break;
  }
}

const socket = new RoomSocket(root.dataset.wsPath, root.dataset.lang, {
  onMessage,
  onState(state, info) {
    const me = $("me-state");
    if (state === "open") setPresence(me, "online", i18n.t("you-connected"));
    else if (state === "connecting") setPresence(me, "connecting", i18n.t("you-connecting"));
    else if (state === "waiting") setPresence(me, "offline", format(i18n.t("you-waiting"), info));
  },
});
renderScore();
renderQuestion();
socket.connect();
