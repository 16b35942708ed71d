// Rendering: translated labels, the connection badge, the conversation and the interview
// controls; which view is shown. Other modules add their parts with addRenderer().
import { LANGUAGES } from "/static/i18n.js";
import { renderNotices } from "/static/notices.js";
import { $, L, S, client, micStatus, openIndex, sortedQuestions } from "/static/state.js";
import { PAGE_KEYS, store } from "/static/storage.js";

const renderers = [];
const scrollBehavior = () => (window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth");

/** Run `fn` on every full render (after the conversation and the interview controls). */
export function addRenderer(fn) {
  renderers.push(fn);
}

export function applyI18n() {
  document.documentElement.lang = S.uiLang;
  document.title = L("app.title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = L(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = L(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", L(el.dataset.i18nAriaLabel));
  const toggle = $("lang-toggle");
  toggle.textContent = L("lang.toggle");
  toggle.lang = S.uiLang === "ko" ? "en" : "ko";
  // The visible text is the button's name (axe: label-content-name-mismatch); what it does is its description.
  $("lang-toggle-hint").textContent = L("lang.toggle.label");
}

const MIC_LABELS = { recording: "interview.mic.stop", paused: "interview.mic.resume" };

/** The voice controls: one instruction for the turn detection in force, the microphone's state
 * (shown and announced), and the buttons' enabled states and hints. */
function renderVoice(open) {
  const handsFree = S.turnDetection !== "manual";
  const why = S.turnReason ? ` ${L(`interview.turn.reason.${S.turnReason}`)}` : ""; // hands-free asked, not in force
  $("turn-mode").textContent = L(handsFree ? "interview.turn.auto" : "interview.turn.manual") + why;
  const status = open ? micStatus() : "";
  const statusEl = $("mic-status");
  statusEl.dataset.state = status;
  statusEl.textContent = status ? L(`interview.mic.state.${status}`) : "";
  const micBtn = $("mic-btn");
  micBtn.disabled = !open || S.mic === "finishing";
  micBtn.setAttribute("aria-pressed", String(S.mic === "recording"));
  micBtn.dataset.state = S.mic;
  $("mic-label").textContent = L(MIC_LABELS[S.mic] || "interview.mic.start");
  const done = $("done-btn");
  const waitingForWords = Boolean(open) && S.mic !== "finishing" && !S.speechHeard;
  done.disabled = !open || S.mic === "finishing" || !S.speechHeard;
  const hint = waitingForWords ? L("interview.done.hint") : "";
  $("done-hint").textContent = hint;
  $("done-hint").hidden = !hint;
  if (hint) done.title = hint;
  else done.removeAttribute("title");
}

/** The connection as the badge tells it: "resumed" only while the interview shown is the one this page resumed
 * (never on the start form or a new interview on the same connection). */
export function shownConnection() {
  const resumed = S.resumedSession !== null && S.resumedSession === client.sessionId && S.view !== "start";
  return S.connection === "resumed" && !resumed ? "connected" : S.connection;
}

export function renderConnection() {
  const el = $("conn");
  const state = shownConnection();
  el.dataset.state = state;
  const key = state === "reconnecting" && S.attempt > 0 ? "conn.reconnecting.attempt" : `conn.${state}`;
  $("conn-text").textContent = L(key, { attempt: S.attempt });
}

/** A score's band, for its colour: high (75+), mid (50+) or low. */
export const band = (score) => (score >= 75 ? "high" : score >= 50 ? "mid" : "low");

/** A new `tag` element with `className` and, when given, `text`. */
export function el(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  return node;
}

/** One message of a conversation: who said it and the text. */
export function bubble(kind, label, text, extra = "") {
  const li = el("li", `msg msg-${kind} ${extra}`.trim());
  li.append(el("span", "msg-who", label), el("p", "msg-text", text));
  return li;
}

/** The bubbles of every question and its answer (or the answer being sent). */
export function conversationItems() {
  const items = [];
  for (const q of sortedQuestions()) {
    const qi = bubble("question", L("interview.question", { index: q.index }), q.text);
    qi.dataset.index = q.index;
    items.push(qi);
    let answer = S.answers.get(q.index);
    let pending = false;
    if (answer === undefined && S.pendingAnswer && S.pendingAnswer.index === q.index) {
      answer = S.pendingAnswer.text;
      pending = true;
    }
    if (answer !== undefined && answer !== null) {
      const ai = bubble("answer", L("interview.you"), answer, pending ? "pending" : "");
      ai.dataset.index = q.index;
      items.push(ai);
    }
  }
  return items;
}

function renderConversation() {
  const list = $("conversation");
  const items = conversationItems();
  const count = list.children.length;
  list.replaceChildren(...items);
  if (items.length !== count && S.view === "interview") {
    // The composer is last in the page: scrolling to the bottom shows the newest message above it.
    requestAnimationFrame(() => window.scrollTo({ top: document.documentElement.scrollHeight, behavior: scrollBehavior() }));
  }
}

export function renderInterview() {
  const total = S.maxQuestions || Math.max(0, ...[...S.questions.keys()]);
  const current = Math.max(0, ...[...S.questions.keys()]);
  $("progress-text").textContent = current ? L("interview.progress", { index: current, total: total || current }) : "";
  $("progress-bar").style.width = total ? `${Math.round((100 * S.answers.size) / total)}%` : "0%";
  const turn = $("turn-state");
  const status = S.feedback ? "ended" : S.status;
  turn.dataset.status = status || "";
  turn.textContent = status ? L(`state.${status}`) : "";

  const open = openIndex();
  const waiting = !open && !S.feedback && S.status !== "ended" && S.view === "interview";
  $("waiting").hidden = !waiting;
  $("waiting-text").textContent = S.questions.size ? L("interview.waiting") : L("interview.waiting_first");

  const voice = S.mode === "voice";
  $("voice-controls").hidden = !voice;
  $("mode-notice").hidden = !(S.requestedMode === "voice" && S.mode === "text");
  $("send-btn").disabled = !open;
  $("send-btn").textContent = S.pendingAnswer ? L("interview.sending") : L("interview.send");
  if (voice) renderVoice(open);
  const ending = Boolean(open && S.answerEnding && S.answerEnding.index === open);
  $("answer-ending").hidden = !ending;
  $("answer-ending").textContent = ending ? L("interview.ending") : "";
  $("transcript-final").textContent = S.transcriptFinal;
  $("transcript-partial").textContent = S.transcriptPartial;
  $("transcript").dataset.empty = String(!S.transcriptFinal && !S.transcriptPartial);
  $("transcript").setAttribute("data-placeholder", L("interview.transcript.empty"));

  $("audio-row").hidden = !(S.tts.blocked || S.tts.playing);
  $("audio-play").hidden = !S.tts.blocked;
  $("audio-status").textContent = S.tts.playing ? L("interview.audio.playing") : "";
  $("end-btn").disabled = Boolean(S.feedback) || S.status === "ended" || !client.sessionId;
}

export function render() {
  $("view-start").hidden = S.view !== "start";
  $("view-interview").hidden = S.view !== "interview";
  $("view-feedback").hidden = S.view !== "feedback";
  document.body.dataset.view = S.view;
  const startBtn = $("start-btn");
  startBtn.disabled = S.starting;
  startBtn.textContent = S.starting ? L("form.starting") : L("form.start");
  renderConnection();
  renderConversation();
  renderInterview();
  for (const fn of renderers) fn();
  renderNotices();
}

export function setView(view) {
  if (S.view === view) return;
  S.view = view;
  render();
  if (view === "feedback") {
    $("feedback-heading").focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  }
  if (view === "start") $("job_title").focus({ preventScroll: true });
  if (view === "interview") $("answer").focus({ preventScroll: true });
}

export function setUiLang(lang) {
  if (!LANGUAGES.includes(lang)) return;
  S.uiLang = lang;
  store(PAGE_KEYS.uiLang, lang);
  applyI18n();
  render();
}
