// What the page does on each event of the interview client (the adapter).
import { announce, endWaitNotices, notify, renderNotices } from "/static/notices.js";
import { afterQuestionPlayed, answerEndedByServer, heardSpeech, setTurnDetection, stopMic } from "/static/microphone.js";
import { clearDrafts } from "/static/drafts.js";
import { history } from "/static/history.js";
import { resumeTts, stopTts, tts } from "/static/player.js";
import { client, label, openIndex, resetInterview, state } from "/static/state.js";
import { PAGE_KEYS, store } from "/static/storage.js";
import { render, renderConnection, renderInterview, setView } from "/static/view.js";

function onConnection({ state: connection, attempt }) {
  state.connection = connection;
  state.attempt = attempt;
  if (connection === "rejected") {
    stopTts();
    resetInterview();
    store(PAGE_KEYS.language, null);
    notify("error", "resume_rejected");
    state.view = "start";
    render(); // the start form offers a new interview; submitting it connects again
    return;
  }
  if (connection === "superseded") notify("error", "superseded");
  renderConnection();
  if (connection === "connected" || connection === "resumed") {
    state.notices = state.notices.filter((n) => n.code !== "store_unavailable");
    renderNotices();
  }
}

let resumed = false; // a session_resumed whose replay is not over yet (ready follows)

function onResumed(data) {
  resumed = true;
  state.resumedSession = data.session_id || client.sessionId;
  state.mode = data.mode || state.mode;
  state.status = data.status === "ended" ? "ended" : state.status === "ended" ? null : state.status;
  state.maxQuestions = Number(data.max_questions) || state.maxQuestions;
  const questions = new Map();
  const answers = new Map();
  for (const turn of data.history || []) {
    const index = Number(turn.index);
    questions.set(index, { index, text: turn.question, is_last: index === state.maxQuestions });
    if (turn.answer !== null && turn.answer !== undefined) answers.set(index, turn.answer);
  }
  state.questions = questions;
  state.answers = answers;
  if (state.pendingAnswer && answers.has(state.pendingAnswer.index)) state.pendingAnswer = null;
  if (data.status === "ended") {
    setView("feedback");
  } else if (state.view !== "interview") {
    setView("interview");
  }
  render();
  if (state.mode === "voice") setTurnDetection(data.turn_detection, data.audio_format);
}

/** After a reconnect or a reload the open question's audio is not sent again: unless it is still
 * playing here, it counts as played, and hands-free listens. */
function listenAfterResume() {
  const open = openIndex();
  if (open && state.handsFree && !state.tts.playing && tts.index !== open) afterQuestionPlayed();
}

async function onReady() {
  if (resumed) {
    resumed = false;
    listenAfterResume();
  }
  // After a reload past the feedback event, fetch it over HTTP (the session's own token).
  if (state.status === "ended" && !state.feedback && client.sessionId) {
    try {
      state.feedback = await client.fetchFeedback();
    } catch (e) {
      state.feedbackError = e.code || "internal_error";
    }
    render();
  }
}

function onQuestion(q) {
  const index = Number(q.index);
  state.questions.set(index, { index, text: q.text, is_last: Boolean(q.is_last) });
  state.status = "awaiting_answer";
  state.transcriptFinal = "";
  state.transcriptPartial = "";
  state.answerEnding = null;
  endWaitNotices();
  state.speechHeard = false;
  if (state.view !== "interview" && !state.feedback) setView("interview");
  announce(`${label("interview.question", { index })}: ${q.text}`);
  render();
}

function onFeedback(f) {
  state.feedback = f;
  clearDrafts(client.sessionId);
  history.update(client.sessionId, { status: "ended", score: Math.round(Number(f.overall_score) || 0) });
  state.status = "ended";
  state.pendingAnswer = null;
  endWaitNotices();
  stopMic(false);
  setView("feedback");
  announce(`${label("feedback.heading")}: ${label("feedback.score")} ${Math.round(f.overall_score)}`);
  render();
}

function onTranscript(data) {
  if (data.is_final) {
    state.transcriptFinal = `${state.transcriptFinal} ${data.text || ""}`.trim();
    state.transcriptPartial = "";
  } else {
    state.transcriptPartial = data.text || "";
  }
  if ((data.text || "").trim()) heardSpeech();
  renderInterview();
}

function onTtsEnd(data) {
  tts.end(data);
  // Nothing to play for the open question (its speech failed): the candidate's turn starts now.
  if (!data.interrupted && !Number(data.chunks) && Number(data.index) === openIndex()) afterQuestionPlayed();
}

/** Subscribe the page to the client's events. */
export function initEvents() {
  client.on("connection", onConnection);
  client.on("session_resumed", onResumed);
  client.on("ready", onReady);
  client.on("question", onQuestion);
  client.on("feedback", onFeedback);
  client.on("state", (data) => {
    state.status = data.status;
    renderInterview();
  });
  client.on("transcript", onTranscript);
  client.on("connect_error", ({ code, message }) => {
    // resume_rejected is handled by the "rejected" state; transport errors just keep reconnecting.
    if (code && code !== "resume_rejected" && code !== "invalid_payload") notify("warning", code, message);
  });
  client.on("warning", (data) => notify("warning", data.code || "unknown", data.message));
  client.on("error", (data) => notify("error", data.code || "internal_error", data.message));
  client.on("server_shutdown", () => {});
  client.on("tts_chunk", (data) => tts.chunk(data));
  client.on("tts_end", onTtsEnd);
  // Voice turns (docs/protocol-notes.md): the server ends an answer by itself, and barge-in.
  client.on("answer_ending", (data) => {
    state.answerEnding = { index: Number(data.index), silence_ms: Number(data.silence_ms) };
    renderInterview();
  });
  client.on("answer_resumed", () => {
    state.answerEnding = null;
    renderInterview();
  });
  client.on("answer_ended", (data) => answerEndedByServer(data));
  client.on("tts_resumed", (data) => resumeTts(data));
}
