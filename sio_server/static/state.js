// The page's one state object (`state`), the interview client, and the helpers that read them:
// `byId` (an element of index.html by id) and `label` (a string in the page's language).
import { InterviewClient } from "/client/interview-client.js";
import { LANGUAGES, translate } from "/static/i18n.js";
import { load, PAGE_KEYS } from "/static/storage.js";

export const byId = (id) => document.getElementById(id);

export const state = {
  view: "start",
  uiLang: null,
  language: load(PAGE_KEYS.language) || null,
  connection: "idle",
  attempt: 0,
  mode: null,
  requestedMode: null,
  status: null,
  maxQuestions: null,
  timeLimit: Number(load(PAGE_KEYS.timeLimit)) || null, // seconds per answer, or null
  questions: new Map(), // index -> {index, text, is_last}
  answers: new Map(), // index -> text
  pendingAnswer: null, // {index, text} sent, not yet acked
  feedback: null,
  feedbackError: null,
  starting: false,
  notices: [],
  transcriptFinal: "",
  transcriptPartial: "",
  mic: "off", // off | recording | paused | finishing | listening (hands-free: open, nothing recorded yet)
  turnDetection: null, // "auto" | "manual": how answers end, from the start ack or session_resumed
  handsFree: false, // a voice interview with turn_detection "auto": the microphone opens by itself
  turnReason: null, // why the turn detection in force is not the one asked for (the start ack's turn_detection_reason)
  audioFormat: "webm", // what the microphone sends: "webm" (Opus) or "linear16" (16 kHz PCM16), from the ack
  questionPlayed: null, // the latest question whose audio is over (hands-free listens from then on)
  speechHeard: false, // words (or speech) heard in the open answer: "Done answering" is enabled
  micDenied: false, // getUserMedia was refused: hands-free does not ask again by itself
  answerEnding: null, // {index, silence_ms}: the server is about to end the answer (answer_ending)
  interruptionMinMs: 500, // speech over a question that stops it (the start ack's interruption_min_ms)
  bargeIns: 0,
  ttsHolds: 0, // the question paused for sound over it (a barge-in or a noise)
  noiseResumes: 0, // ... and played on because the sound stopped before interruptionMinMs
  micLevel: 0,
  audioChunksSent: 0,
  tts: { mode: null, received: 0, played: 0, playing: false, index: null, blocked: false, ended: 0 },
  countdown: { index: null, deadline: 0, remaining: null, expired: [] },
  past: null, // {sessionId, token, entry} while a past interview is shown read-only
  resumedSession: null, // the session this page resumed (session_resumed): only then is "Resumed" true
  resumeUpload: { state: "idle", pages: null, code: null }, // idle | reading | done | error
  history: [],
  capabilities: null, // GET /api/v1/capabilities: what this server can do, read before Start
};

function initialUiLang() {
  const saved = load(PAGE_KEYS.uiLang);
  if (LANGUAGES.includes(saved)) return saved;
  if (LANGUAGES.includes(state.language)) return state.language;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}
state.uiLang = initialUiLang();

export const client = new InterviewClient();

/** The label `key` in the page's language. */
export const label = (key, vars) => translate(state.uiLang, key, vars);

export function sortedQuestions() {
  return [...state.questions.values()].sort((a, b) => a.index - b.index);
}

/** The open question: the latest one without an answer (none while ended). */
export function openIndex() {
  if (state.status === "ended" || state.feedback || state.past) return null;
  const qs = sortedQuestions();
  const last = qs[qs.length - 1];
  if (!last || state.answers.has(last.index)) return null;
  if (state.pendingAnswer && state.pendingAnswer.index === last.index) return null;
  return last.index;
}

/** What the microphone is doing, as the page shows it: "" (off), listening (open, no words yet),
 * recording (the answer is heard), paused, or finishing. */
export function micStatus() {
  if (state.mic === "off") return "";
  if (state.mic === "listening" || (state.mic === "recording" && !state.speechHeard)) return "listening";
  return state.mic;
}

/** Forget the interview's turns and feedback (the caller stops any question audio first). */
export function resetInterview() {
  state.mode = null;
  state.requestedMode = null;
  state.status = null;
  state.maxQuestions = null;
  state.questions = new Map();
  state.answers = new Map();
  state.pendingAnswer = null;
  state.feedback = null;
  state.feedbackError = null;
  state.transcriptFinal = "";
  state.transcriptPartial = "";
  state.countdown = { index: null, deadline: 0, remaining: null, expired: [] };
  state.past = null;
  state.turnDetection = null;
  state.turnReason = null;
  state.audioFormat = "webm";
  state.handsFree = false;
  state.questionPlayed = null;
  state.speechHeard = false;
  state.answerEnding = null;
  state.resumedSession = null;
}

/** The session whose report the feedback view shows: a past one, or the current one. */
export function reportSession() {
  if (state.past) return { sessionId: state.past.sessionId, token: state.past.token };
  if (client.sessionId && client.resumeToken) return { sessionId: client.sessionId, token: client.resumeToken };
  return null;
}
