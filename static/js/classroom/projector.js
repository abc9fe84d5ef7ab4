// The big screen: the join code while the room fills, then the simulation and the question
// large, votes as counts without names, the right answer only once the server reveals it.

import {
  el, format, setText, replaceChildren, loadMessages, RoomSocket, SimView, questionMeta,
  showCode, renderHistogram, Countdown,
} from "./common.js";

const root = document.getElementById("classroom");
const $ = (id) => document.getElementById(id);
const i18n = loadMessages("lab-i18n", "classroom-i18n");
const view = new SimView(root, i18n, null, (message) => socket.send(message));
const countdown = new Countdown($("countdown"), i18n);
let question = null;
let tally = null;
let count = { online: 0, seats: 0 };

function renderPhase() {
  const lobby = !question && !view.model.active;
  root.dataset.phase = lobby ? "lobby" : "live";
  $("lobby").hidden = !lobby;
  $("projector-sim").hidden = lobby;
}

function renderCount() {
  const text = format(i18n.t("joined-count"), { seats: count.seats, online: count.online });
  setText($("joined-count"), text);
  setText($("lobby-count"), text);
  $("joined-count").dataset.online = String(count.online);
}

function renderQuestion() {
  const q = question;
  $("projector-question").hidden = !q;
  root.dataset.question = q ? `${q.id}:${q.round}:${q.state}` : "";
  countdown.follow(q);
  renderPhase();
  if (!q) return;
  setText($("question-meta"), questionMeta(i18n, q));
  setText($("question-prompt"), q.prompt);
  showCode($("question-code"), q.code);
  const current = tally && tally.question === q.id && tally.round === q.round;
  const counts = q.state === "revealed" && q.tally ? q.tally : current ? tally.counts : {};
  if (q.qtype === "order" || q.qtype === "short") {
    // Right and wrong, once revealed; before that only how many answered.
    const rows = [{ token: "right", text: i18n.t("right-answers") }, { token: "wrong", text: i18n.t("wrong-answers") }];
    if (q.graded) renderHistogram($("histogram"), i18n, rows, q.graded, new Set(["right"]), {});
    else replaceChildren($("histogram"), []);
  } else {
    // The server sends "correct" to this page only after Reveal.
    renderHistogram($("histogram"), i18n, q.choices, counts, new Set(q.correct || []), {});
  }
  const answered = current ? tally.answered : Object.values(counts).reduce((a, b) => a + b, 0);
  setText($("answered-count"), format(i18n.t("answered-count"), { answered, seats: count.seats }));
  $("answered-count").dataset.answered = String(answered);
  const explanation = $("question-explanation");
  explanation.hidden = q.state !== "revealed" || !q.explanation;
  setText(explanation, q.explanation || "");
  showCode($("question-table"), q.state === "revealed" ? q.table : "");
}

let stoppedShown = false; // the status line says the room's simulation stopped

function onMessage(msg) {
  if (msg.type === "classroom.logs" || msg.type === "classroom.error") view.apply(msg);
  switch (msg.type) {
    case "classroom.snapshot":
    case "classroom.frame":
      if (msg.type === "classroom.snapshot" && stoppedShown) {
        setText($("room-status"), "");
        stoppedShown = false;
      }
      if (view.apply(msg)) {
        root.dataset.seq = String(msg.seq);
        root.dataset.t = String(view.model.t);
        renderPhase();
      }
      break;
    case "classroom.question":
      question = msg.question;
      renderQuestion();
      break;
    case "classroom.tally":
      tally = msg;
      renderQuestion();
      break;
    case "classroom.progress": {
      // The lesson plan's title and step: no names, nothing about answers.
      const node = $("plan-progress");
      node.hidden = !msg.title;
      node.dataset.position = String(msg.position);
      if (msg.title) setText(node, `${msg.title} · ${format(i18n.t("plan-progress"), { position: msg.position, total: msg.total })}`);
      break;
    }
    case "classroom.count":
      count = msg;
      renderCount();
      renderQuestion();
      break;
    case "classroom.leaderboard":
      $("leaderboard-card").hidden = !msg.shown;
      replaceChildren($("leaderboard"), (msg.rows || []).map((r) =>
        el("li", {}, el("span", { class: "podium-name" }, r.name), " ", el("span", { class: "podium-score" }, String(r.score)))));
      break;
    case "classroom.service":
      root.dataset.service = msg.state;
      setText($("room-status"), msg.state === "ok" ? "" : msg.message);
      break;
    case "classroom.error":
      // The room's simulation stopped (budget or memory): said on the big screen too.
      if (msg.detail && msg.detail.stopped) {
        setText($("room-status"), msg.message);
        stoppedShown = true;
      }
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
    if (state === "open") setText($("room-status"), "");
    else if (state === "waiting") setText($("room-status"), format(i18n.t("you-waiting"), info));
  },
});
renderCount();
renderPhase();
socket.connect();
