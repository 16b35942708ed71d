// Rendering: translated labels, the connection badge, the conversation and the interview
// controls; which view is shown. Other modules add their parts with addRenderer().
import { LANGUAGES } from "/static/i18n.js";
import { renderNotices } from "/static/notices.js";
import { byId, client, label, micStatus, openIndex, sortedQuestions, state } from "/static/state.js";
import { PAGE_KEYS, store } from "/static/storage.js";

const renderers = [];
const scrollBehavior = () => (window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth");

/** Run `fn` on every full render (after the conversation and the interview controls). */
export function addRenderer(fn) {
  renderers.push(fn);
}

export function applyI18n() {
  document.documentElement.lang = state.uiLang;
  document.title = label("app.title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = label(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = label(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", label(el.dataset.i18nAriaLabel));
  const toggle = byId("lang-toggle");
  toggle.textContent = label("lang.toggle");
  toggle.lang = state.uiLang === "ko" ? "en" : "ko";
  // The visible text is the button's name (axe: label-content-name-mismatch); what it does is its description.
  byId("lang-toggle-hint").textContent = label("lang.toggle.label");
}

const MIC_LABELS = { recording: "interview.mic.stop", paused: "interview.mic.resume" };

/** The voice controls: one instruction for the turn detection in force, the microphone's state
 * (shown and announced), and the buttons' enabled states and hints. */
function renderVoice(open) {
  const handsFree = state.turnDetection !== "manual";
  const why = state.turnReason ? ` ${label(`interview.turn.reason.${state.turnReason}`)}` : ""; // hands-free asked, not in force
  byId("turn-mode").textContent = label(handsFree ? "interview.turn.auto" : "interview.turn.manual") + why;
  const status = open ? micStatus() : "";
  const statusEl = byId("mic-status");
  statusEl.dataset.state = status;
  statusEl.textContent = status ? label(`interview.mic.state.${status}`) : "";
  const micBtn = byId("mic-btn");
  micBtn.disabled = !open || state.mic === "finishing";
  micBtn.setAttribute("aria-pressed", String(state.mic === "recording"));
  micBtn.dataset.state = state.mic;
  byId("mic-label").textContent = label(MIC_LABELS[state.mic] || "interview.mic.start");
  const done = byId("done-btn");
  const waitingForWords = Boolean(open) && state.mic !== "finishing" && !state.speechHeard;
  done.disabled = !open || state.mic === "finishing" || !state.speechHeard;
  const hint = waitingForWords ? label("interview.done.hint") : "";
  byId("done-hint").textContent = hint;
  byId("done-hint").hidden = !hint;
  if (hint) done.title = hint;
  else done.removeAttribute("title");
}

/** The connection as the badge tells it: "resumed" only while the interview shown is the one this page resumed
 * (never on the start form or a new interview on the same connection). */
export function shownConnection() {
  const resumed = state.resumedSession !== null && state.resumedSession === client.sessionId && state.view !== "start";
  return state.connection === "resumed" && !resumed ? "connected" : state.connection;
}

export function renderConnection() {
  const connection = shownConnection();
  byId("conn").dataset.state = connection;
  const key = connection === "reconnecting" && state.attempt > 0 ? "conn.reconnecting.attempt" : `conn.${connection}`;
  byId("conn-text").textContent = label(key, { attempt: state.attempt });
}

/** A score's band, for its colour: high (75+), mid (50+) or low. */
export const band = (score) => (score >= 75 ? "high" : score >= 50 ? "mid" : "low");

/** A new `tag` element with `className` and, when given, `text`. */
export function element(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  return node;
}

/** One message of a conversation: who said it and the text. */
export function bubble(kind, who, text, extra = "") {
  const li = element("li", `msg msg-${kind} ${extra}`.trim());
  li.append(element("span", "msg-who", who), element("p", "msg-text", text));
  return li;
}

/** The bubbles of every question and its answer (or the answer being sent). */
export function conversationItems() {
  const items = [];
  for (const q of sortedQuestions()) {
    const qi = bubble("question", label("interview.question", { index: q.index }), q.text);
    qi.dataset.index = q.index;
    items.push(qi);
    let answer = state.answers.get(q.index);
    let pending = false;
    if (answer === undefined && state.pendingAnswer && state.pendingAnswer.index === q.index) {
      answer = state.pendingAnswer.text;
      pending = true;
    }
    if (answer !== undefined && answer !== null) {
      const ai = bubble("answer", label("interview.you"), answer, pending ? "pending" : "");
      ai.dataset.index = q.index;
      items.push(ai);
    }
  }
  return items;
}

function renderConversation() {
  const list = byId("conversation");
  const items = conversationItems();
  const count = list.children.length;
  list.replaceChildren(...items);
  if (items.length !== count && state.view === "interview") {
    // The composer is last in the page: scrolling to the bottom shows the newest message above it.
    requestAnimationFrame(() => window.scrollTo({ top: document.documentElement.scrollHeight, behavior: scrollBehavior() }));
  }
}

export function renderInterview() {
  const total = state.maxQuestions || Math.max(0, ...[...state.questions.keys()]);
  const current = Math.max(0, ...[...state.questions.keys()]);
  byId("progress-text").textContent = current ? label("interview.progress", { index: current, total: total || current }) : "";
  byId("progress-bar").style.width = total ? `${Math.round((100 * state.answers.size) / total)}%` : "0%";
  const turn = byId("turn-state");
  const status = state.feedback ? "ended" : state.status;
  turn.dataset.status = status || "";
  turn.textContent = status ? label(`state.${status}`) : "";

  const open = openIndex();
  const waiting = !open && !state.feedback && state.status !== "ended" && state.view === "interview";
  byId("waiting").hidden = !waiting;
  byId("waiting-text").textContent = state.questions.size ? label("interview.waiting") : label("interview.waiting_first");

  const voice = state.mode === "voice";
  byId("voice-controls").hidden = !voice;
  byId("mode-notice").hidden = !(state.requestedMode === "voice" && state.mode === "text");
  byId("send-btn").disabled = !open;
  byId("send-btn").textContent = state.pendingAnswer ? label("interview.sending") : label("interview.send");
  if (voice) renderVoice(open);
  const ending = Boolean(open && state.answerEnding && state.answerEnding.index === open);
  byId("answer-ending").hidden = !ending;
  byId("answer-ending").textContent = ending ? label("interview.ending") : "";
  byId("transcript-final").textContent = state.transcriptFinal;
  byId("transcript-partial").textContent = state.transcriptPartial;
  byId("transcript").dataset.empty = String(!state.transcriptFinal && !state.transcriptPartial);
  byId("transcript").setAttribute("data-placeholder", label("interview.transcript.empty"));

  byId("audio-row").hidden = !(state.tts.blocked || state.tts.playing);
  byId("audio-play").hidden = !state.tts.blocked;
  byId("audio-status").textContent = state.tts.playing ? label("interview.audio.playing") : "";
  byId("end-btn").disabled = Boolean(state.feedback) || state.status === "ended" || !client.sessionId;
}

export function render() {
  byId("view-start").hidden = state.view !== "start";
  byId("view-interview").hidden = state.view !== "interview";
  byId("view-feedback").hidden = state.view !== "feedback";
  document.body.dataset.view = state.view;
  const startBtn = byId("start-btn");
  startBtn.disabled = state.starting;
  startBtn.textContent = state.starting ? label("form.starting") : label("form.start");
  renderConnection();
  renderConversation();
  renderInterview();
  for (const fn of renderers) fn();
  renderNotices();
}

export function setView(view) {
  if (state.view === view) return;
  state.view = view;
  render();
  if (view === "feedback") {
    byId("feedback-heading").focus({ preventScroll: true });
    window.scrollTo({ top: 0 });
  }
  if (view === "start") byId("job_title").focus({ preventScroll: true });
  if (view === "interview") byId("answer").focus({ preventScroll: true });
}

export function setUiLang(lang) {
  if (!LANGUAGES.includes(lang)) return;
  state.uiLang = lang;
  store(PAGE_KEYS.uiLang, lang);
  applyI18n();
  render();
}
