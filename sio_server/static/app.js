// The interview page: start form, conversation, voice and text answers, streamed
// question audio, connection state and the feedback view. All server traffic goes
// through the browser adapter (/client/interview-client.js).
import { InterviewClient } from "/client/interview-client.js";
import { t, codeMessage, LANGUAGES } from "/static/i18n.js";

const $ = (id) => document.getElementById(id);
const PAGE_KEYS = { uiLang: "interview.ui_lang", language: "interview.language" };

function store(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    /* storage disabled */
  }
}
function load(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

// -- state ------------------------------------------------------------------------

const S = {
  view: "start",
  uiLang: null,
  language: load(PAGE_KEYS.language) || null,
  connection: "idle",
  attempt: 0,
  mode: null,
  requestedMode: null,
  status: null,
  maxQuestions: null,
  questions: new Map(), // index -> {index, text, is_last}
  answers: new Map(), // index -> text
  pendingAnswer: null, // {index, text} sent, not yet acked
  feedback: null,
  feedbackError: null,
  starting: false,
  notices: [],
  transcriptFinal: "",
  transcriptPartial: "",
  mic: "off", // off | recording | paused | finishing
  micLevel: 0,
  audioChunksSent: 0,
  tts: { mode: null, received: 0, played: 0, playing: false, index: null, blocked: false, ended: 0 },
};

function initialUiLang() {
  const saved = load(PAGE_KEYS.uiLang);
  if (LANGUAGES.includes(saved)) return saved;
  if (LANGUAGES.includes(S.language)) return S.language;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}
S.uiLang = initialUiLang();

const client = new InterviewClient();

// -- test hook: state, not pixels ---------------------------------------------------

window.__interview = Object.freeze({
  get view() { return S.view; },
  get connection() { return S.connection; },
  get reconnectAttempt() { return S.attempt; },
  get sessionId() { return client.sessionId; },
  get mode() { return S.mode; },
  get status() { return S.status; },
  get language() { return S.language; },
  get uiLanguage() { return S.uiLang; },
  get questions() { return [...S.questions.values()].sort((a, b) => a.index - b.index).map((q) => ({ ...q })); },
  get answers() { return Object.fromEntries([...S.answers.entries()].map(([k, v]) => [String(k), v])); },
  get currentIndex() { return openIndex(); },
  get feedback() { return S.feedback ? structuredClone(S.feedback) : null; },
  get last_seq() { return client.lastSeq; },
  get lastSeq() { return client.lastSeq; },
  get resumes() { return client.resumes; },
  get duplicatesDropped() { return client.duplicatesDropped; },
  get notices() { return S.notices.map(({ kind, code }) => ({ kind, code })); },
  get mic() { return S.mic; },
  get audioChunksSent() { return S.audioChunksSent; },
  get ttsMode() { return S.tts.mode; },
  get ttsChunks() { return S.tts.received; },
  get ttsChunksReceived() { return S.tts.received; },
  get ttsChunksPlayed() { return S.tts.played; },
  get ttsPlaying() { return S.tts.playing; },
  get ttsEnded() { return S.tts.ended; },
  client,
});

// -- helpers --------------------------------------------------------------------------

const L = (key, vars) => t(S.uiLang, key, vars);
const scrollBehavior = () => (window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth");

function sortedQuestions() {
  return [...S.questions.values()].sort((a, b) => a.index - b.index);
}

/** The open question: the latest one without an answer (none while ended). */
function openIndex() {
  if (S.status === "ended" || S.feedback) return null;
  const qs = sortedQuestions();
  const last = qs[qs.length - 1];
  if (!last || S.answers.has(last.index)) return null;
  if (S.pendingAnswer && S.pendingAnswer.index === last.index) return null;
  return last.index;
}

function announce(text) {
  const el = $("announcer");
  el.textContent = "";
  setTimeout(() => { el.textContent = text; }, 50);
}

function notify(kind, code, message = "") {
  S.notices = S.notices.filter((n) => n.code !== code);
  const notice = { id: Math.random().toString(36).slice(2), kind, code, message };
  S.notices.push(notice);
  if (S.notices.length > 3) S.notices.shift();
  if (kind === "warning" || kind === "info") setTimeout(() => dismiss(notice.id), 9000);
  renderNotices();
}

function dismiss(id) {
  S.notices = S.notices.filter((n) => n.id !== id);
  renderNotices();
}

function clearNotices() {
  S.notices = [];
  renderNotices();
}

function setView(view) {
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

function resetInterview() {
  stopTts();
  S.mode = null;
  S.requestedMode = null;
  S.status = null;
  S.maxQuestions = null;
  S.questions = new Map();
  S.answers = new Map();
  S.pendingAnswer = null;
  S.feedback = null;
  S.feedbackError = null;
  S.transcriptFinal = "";
  S.transcriptPartial = "";
}

// -- rendering ------------------------------------------------------------------------

function applyI18n() {
  document.documentElement.lang = S.uiLang;
  document.title = L("app.title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = L(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = L(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", L(el.dataset.i18nAriaLabel));
  const toggle = $("lang-toggle");
  toggle.textContent = L("lang.toggle");
  toggle.lang = S.uiLang === "ko" ? "en" : "ko";
  toggle.setAttribute("aria-label", L("lang.toggle.label"));
}

function renderConnection() {
  const el = $("conn");
  el.dataset.state = S.connection;
  const key = S.connection === "reconnecting" && S.attempt > 0 ? "conn.reconnecting.attempt" : `conn.${S.connection}`;
  $("conn-text").textContent = L(key, { attempt: S.attempt });
}

function renderNotices() {
  const box = $("notices");
  box.replaceChildren(
    ...S.notices.map((n) => {
      const div = document.createElement("div");
      div.className = `notice notice-${n.kind}`;
      div.dataset.code = n.code;
      div.setAttribute("role", n.kind === "error" ? "alert" : "status");
      const p = document.createElement("p");
      p.textContent = n.code === "_text" ? n.message : codeMessage(S.uiLang, n.code, n.message);
      const b = document.createElement("button");
      b.type = "button";
      b.className = "notice-close";
      b.setAttribute("aria-label", L("dismiss"));
      b.textContent = "×";
      b.addEventListener("click", () => dismiss(n.id));
      div.append(p, b);
      return div;
    }),
  );
}

function bubble(kind, label, text, extra = "") {
  const li = document.createElement("li");
  li.className = `msg msg-${kind} ${extra}`.trim();
  const who = document.createElement("span");
  who.className = "msg-who";
  who.textContent = label;
  const body = document.createElement("p");
  body.className = "msg-text";
  body.textContent = text;
  li.append(who, body);
  return li;
}

function renderConversation() {
  const list = $("conversation");
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
  const count = list.children.length;
  list.replaceChildren(...items);
  if (items.length !== count && S.view === "interview") {
    // The composer is last in the page: scrolling to the bottom shows the newest message above it.
    requestAnimationFrame(() => window.scrollTo({ top: document.documentElement.scrollHeight, behavior: scrollBehavior() }));
  }
}

function renderInterview() {
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
  const micBtn = $("mic-btn");
  micBtn.disabled = !open || S.mic === "finishing";
  micBtn.setAttribute("aria-pressed", String(S.mic === "recording"));
  micBtn.classList.toggle("recording", S.mic === "recording");
  $("mic-label").textContent = S.mic === "recording" ? L("interview.mic.stop") : L("interview.mic.start");
  $("done-btn").disabled = !open || S.mic === "finishing";
  $("transcript-final").textContent = S.transcriptFinal;
  $("transcript-partial").textContent = S.transcriptPartial;
  $("transcript").dataset.empty = String(!S.transcriptFinal && !S.transcriptPartial);
  $("transcript").setAttribute("data-placeholder", L("interview.transcript.empty"));

  $("audio-row").hidden = !(S.tts.blocked || S.tts.playing);
  $("audio-play").hidden = !S.tts.blocked;
  $("audio-status").textContent = S.tts.playing ? L("interview.audio.playing") : "";
  $("end-btn").disabled = Boolean(S.feedback) || S.status === "ended" || !client.sessionId;
}

function renderFeedback() {
  const f = S.feedback;
  $("feedback-waiting").hidden = Boolean(f) || Boolean(S.feedbackError);
  const score = f ? Math.round(Number(f.overall_score) || 0) : null;
  $("score").textContent = score === null ? "–" : String(score);
  $("score-ring").style.setProperty("--score", String(score || 0));
  $("score-ring").dataset.band = score === null ? "" : score >= 75 ? "high" : score >= 50 ? "mid" : "low";
  $("summary").textContent = f ? f.summary || "" : S.feedbackError ? codeMessage(S.uiLang, S.feedbackError) : "";
  const fill = (id, items) => {
    const ul = $(id);
    const list = (items || []).filter(Boolean);
    ul.replaceChildren(
      ...(list.length ? list : [L("feedback.none")]).map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        if (!list.length) li.className = "muted";
        return li;
      }),
    );
  };
  fill("strengths", f && f.strengths);
  fill("improvements", f && f.improvements);
  const per = $("per-question");
  per.replaceChildren(
    ...((f && f.per_question) || []).map((item) => {
      const li = document.createElement("li");
      li.className = "pq";
      li.dataset.index = item.index;
      const head = document.createElement("div");
      head.className = "pq-head";
      const title = document.createElement("span");
      title.className = "pq-title";
      title.textContent = L("interview.question", { index: item.index });
      const badge = document.createElement("span");
      const s = Math.round(Number(item.score) || 0);
      badge.className = `pq-score band-${s >= 75 ? "high" : s >= 50 ? "mid" : "low"}`;
      badge.textContent = L("feedback.question_score", { score: s });
      head.append(title, badge);
      li.append(head);
      const q = S.questions.get(Number(item.index));
      if (q) {
        const qt = document.createElement("p");
        qt.className = "pq-question";
        qt.textContent = q.text;
        li.append(qt);
      }
      const c = document.createElement("p");
      c.className = "pq-comment";
      c.textContent = item.comment || "";
      li.append(c);
      return li;
    }),
  );
}

function render() {
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
  renderFeedback();
  renderNotices();
}

function setUiLang(lang) {
  if (!LANGUAGES.includes(lang)) return;
  S.uiLang = lang;
  store(PAGE_KEYS.uiLang, lang);
  applyI18n();
  render();
}

// -- adapter events -------------------------------------------------------------------

client.on("connection", ({ state, attempt }) => {
  S.connection = state;
  S.attempt = attempt;
  if (state === "rejected") {
    resetInterview();
    store(PAGE_KEYS.language, null);
    notify("error", "resume_rejected");
    S.view = "start";
    render(); // the start form offers a new interview; submitting it connects again
    return;
  }
  if (state === "superseded") notify("error", "superseded");
  renderConnection();
  if (state === "connected" || state === "resumed") {
    S.notices = S.notices.filter((n) => n.code !== "store_unavailable");
    renderNotices();
  }
});

client.on("session_resumed", (data) => {
  S.mode = data.mode || S.mode;
  S.status = data.status === "ended" ? "ended" : S.status === "ended" ? null : S.status;
  S.maxQuestions = Number(data.max_questions) || S.maxQuestions;
  const questions = new Map();
  const answers = new Map();
  for (const turn of data.history || []) {
    const index = Number(turn.index);
    questions.set(index, { index, text: turn.question, is_last: index === S.maxQuestions });
    if (turn.answer !== null && turn.answer !== undefined) answers.set(index, turn.answer);
  }
  S.questions = questions;
  S.answers = answers;
  if (S.pendingAnswer && answers.has(S.pendingAnswer.index)) S.pendingAnswer = null;
  if (data.status === "ended") {
    setView("feedback");
  } else if (S.view !== "interview") {
    setView("interview");
  }
  render();
});

client.on("ready", async () => {
  // After a reload past the feedback event, fetch it over HTTP (the session's own token).
  if (S.status === "ended" && !S.feedback && client.sessionId) {
    try {
      S.feedback = await client.fetchFeedback();
    } catch (e) {
      S.feedbackError = e.code || "internal_error";
    }
    render();
  }
});

client.on("question", (q) => {
  const index = Number(q.index);
  S.questions.set(index, { index, text: q.text, is_last: Boolean(q.is_last) });
  S.status = "awaiting_answer";
  S.transcriptFinal = "";
  S.transcriptPartial = "";
  if (S.view !== "interview" && !S.feedback) setView("interview");
  announce(`${L("interview.question", { index })}: ${q.text}`);
  render();
});

client.on("feedback", (f) => {
  S.feedback = f;
  S.status = "ended";
  S.pendingAnswer = null;
  stopMic(false);
  setView("feedback");
  announce(`${L("feedback.heading")}: ${L("feedback.score")} ${Math.round(f.overall_score)}`);
  render();
});

client.on("state", (data) => {
  S.status = data.status;
  renderInterview();
});

client.on("transcript", (data) => {
  if (data.is_final) {
    S.transcriptFinal = `${S.transcriptFinal} ${data.text || ""}`.trim();
    S.transcriptPartial = "";
  } else {
    S.transcriptPartial = data.text || "";
  }
  renderInterview();
});

client.on("connect_error", ({ code, message }) => {
  // resume_rejected is handled by the "rejected" state; transport errors just keep reconnecting.
  if (code && code !== "resume_rejected" && code !== "invalid_payload") notify("warning", code, message);
});
client.on("warning", (data) => notify("warning", data.code || "unknown", data.message));
client.on("error", (data) => notify("error", data.code || "internal_error", data.message));
client.on("server_shutdown", () => {});
client.on("tts_chunk", (data) => tts.chunk(data));
client.on("tts_end", (data) => tts.end(data));

// -- start form -----------------------------------------------------------------------

function formConfig() {
  const form = $("start-form");
  const data = new FormData(form);
  const config = {
    language: data.get("language") === "en" ? "en" : "ko",
    mode: data.get("mode") === "text" ? "text" : "voice",
    persona: String(data.get("persona") || "professional"),
    max_questions: Math.min(20, Math.max(1, Number.parseInt(String(data.get("max_questions") || "5"), 10) || 5)),
  };
  for (const key of ["job_title", "job_description", "resume_text"]) {
    const value = String(data.get(key) || "").trim();
    if (value) config[key] = value;
  }
  if (config.mode === "voice") config.audio_format = "webm";
  return config;
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (S.starting) return;
  const maxInput = $("max_questions");
  if (!maxInput.checkValidity()) {
    maxInput.reportValidity();
    return;
  }
  const config = formConfig();
  resetInterview();
  clearNotices();
  S.starting = true;
  S.language = config.language;
  S.requestedMode = config.mode;
  S.maxQuestions = config.max_questions;
  store(PAGE_KEYS.language, config.language);
  setUiLang(config.language);
  if (config.mode === "voice") tts.unlock();
  try {
    if (client.state === "rejected" || client.state === "idle") client.connect();
    const ack = await client.start(config);
    S.mode = ack.mode;
    S.status = S.status || "processing";
    S.starting = false;
    setView("interview");
  } catch (e) {
    S.starting = false;
    notify("error", e.code || "internal_error", e.serverMessage || e.message);
  }
  render();
});

for (const radio of document.querySelectorAll('input[name="language"]')) {
  radio.addEventListener("change", () => setUiLang(radio.value));
}

$("lang-toggle").addEventListener("click", () => setUiLang(S.uiLang === "ko" ? "en" : "ko"));

// -- text answers ---------------------------------------------------------------------

async function sendAnswer() {
  const index = openIndex();
  const box = $("answer");
  const text = box.value.trim();
  if (!index || !text) return;
  if (S.mic !== "off") stopMic(false);
  S.pendingAnswer = { index, text };
  box.value = "";
  render();
  try {
    await client.answerText(index, text);
    S.answers.set(index, text);
    S.status = S.status === "ended" ? "ended" : "processing";
  } catch (e) {
    if (!S.answers.has(index) && !box.value) box.value = text;
    if (e.code === "session_ended") S.status = "ended";
    notify("error", e.code || "internal_error", e.serverMessage || e.message);
  } finally {
    if (S.pendingAnswer && S.pendingAnswer.index === index) S.pendingAnswer = null;
    render();
  }
}

$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sendAnswer();
});

$("answer").addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return; // IME (Korean) composition
  if (event.shiftKey && !(event.ctrlKey || event.metaKey)) return; // Shift+Enter: new line
  event.preventDefault();
  sendAnswer();
});

// -- end, new -------------------------------------------------------------------------

$("end-btn").addEventListener("click", async () => {
  if (!window.confirm(L("interview.end.confirm"))) return;
  stopMic(false);
  try {
    await client.end();
    S.status = "ended";
    setView("feedback");
  } catch (e) {
    notify("error", e.code || "internal_error", e.serverMessage || e.message);
  }
  render();
});

$("new-btn").addEventListener("click", () => {
  client.forget();
  resetInterview();
  store(PAGE_KEYS.language, null);
  clearNotices();
  setView("start");
  render();
});

// -- microphone -----------------------------------------------------------------------

const mic = { stream: null, recorder: null, ctx: null, raf: 0, chain: Promise.resolve(), stopped: null };

async function startMic() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    notify("error", "mic_unsupported");
    return;
  }
  stopTts();
  try {
    mic.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch {
    notify("error", "mic_denied");
    return;
  }
  const mime = "audio/webm;codecs=opus";
  const recorder = new MediaRecorder(mic.stream, MediaRecorder.isTypeSupported(mime) ? { mimeType: mime } : {});
  mic.recorder = recorder;
  mic.chain = Promise.resolve();
  recorder.addEventListener("dataavailable", (e) => {
    if (!e.data || !e.data.size) return;
    // Keep the chunks in order: each one is sent as one binary audio_chunk.
    mic.chain = mic.chain.then(async () => {
      const buffer = await e.data.arrayBuffer();
      if (client.sendAudio(buffer)) S.audioChunksSent += 1;
    });
  });
  mic.stopped = new Promise((resolve) => recorder.addEventListener("stop", resolve, { once: true }));
  recorder.start(250);
  S.mic = "recording";
  startMeter(mic.stream);
  renderInterview();
}

function startMeter(stream) {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    mic.ctx = new Ctx();
    const source = mic.ctx.createMediaStreamSource(stream);
    const analyser = mic.ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    const bar = $("mic-meter-bar");
    const meter = $("mic-meter");
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      const rms = Math.sqrt(sum / data.length);
      const level = S.mic === "recording" ? Math.min(100, Math.round(Math.sqrt(rms) * 160)) : 0;
      S.micLevel = level;
      bar.style.width = `${level}%`;
      meter.setAttribute("aria-valuenow", String(level));
      mic.raf = requestAnimationFrame(tick);
    };
    tick();
  } catch {
    /* no meter: recording still works */
  }
}

/** Stop recording; resolves when the last chunk has been sent. */
async function stopMic(flush = true) {
  const recorder = mic.recorder;
  cancelAnimationFrame(mic.raf);
  $("mic-meter-bar").style.width = "0%";
  if (recorder && recorder.state !== "inactive") recorder.stop();
  if (flush && mic.stopped) await mic.stopped;
  if (flush) await mic.chain;
  if (mic.stream) for (const track of mic.stream.getTracks()) track.stop();
  if (mic.ctx) mic.ctx.close().catch(() => {});
  mic.stream = null;
  mic.recorder = null;
  mic.ctx = null;
  S.mic = "off";
  renderInterview();
}

$("mic-btn").addEventListener("click", async () => {
  if (S.mic === "off") return startMic();
  if (S.mic === "recording") {
    mic.recorder.pause();
    S.mic = "paused";
  } else if (S.mic === "paused") {
    mic.recorder.resume();
    S.mic = "recording";
  }
  renderInterview();
});

$("done-btn").addEventListener("click", async () => {
  const index = openIndex();
  if (!index) return;
  if (S.mic !== "off") {
    S.mic = "finishing";
    renderInterview();
    await stopMic(true);
  }
  try {
    const ack = await client.answerEnd(index);
    S.answers.set(index, ack.transcript || S.transcriptFinal);
    S.transcriptFinal = "";
    S.transcriptPartial = "";
    S.status = "processing";
  } catch (e) {
    notify("error", e.code || "internal_error", e.serverMessage || e.message);
  }
  render();
});

// -- question audio (streamed tts_chunk) ------------------------------------------------

const audioEl = $("tts-audio");
// `?tts=blob` forces the per-question Blob fallback (for tests and for browsers with a broken MSE).
const mseSupported =
  new URLSearchParams(window.location.search).get("tts") !== "blob" &&
  "MediaSource" in window &&
  window.MediaSource.isTypeSupported("audio/mpeg");
S.tts.mode = mseSupported ? "mse" : "blob";

const asBuffer = async (audio) => {
  if (audio instanceof ArrayBuffer) return audio;
  if (ArrayBuffer.isView(audio)) return audio.buffer.slice(audio.byteOffset, audio.byteOffset + audio.byteLength);
  if (audio instanceof Blob) return audio.arrayBuffer();
  return null;
};

const tts = {
  index: null,
  chain: Promise.resolve(),
  queue: [],
  blobParts: [],
  mime: "audio/mpeg",
  mediaSource: null,
  sourceBuffer: null,
  url: null,
  ended: false,

  unlock() {
    // A user gesture (the start button) lets later playback start without another click.
    try {
      const before = audioEl.src;
      audioEl.muted = true;
      const p = audioEl.play();
      // Pause the silent unlock only if no question audio took the element over meanwhile:
      // the first question's speech can arrive before this promise settles.
      const done = () => { if (audioEl.src === before) audioEl.pause(); audioEl.muted = false; };
      if (p) p.catch(() => {}).finally(done);
      else done();
    } catch {
      audioEl.muted = false;
    }
  },

  begin(index, mime) {
    stopTts();
    this.index = index;
    this.mime = mime || "audio/mpeg";
    this.queue = [];
    this.blobParts = [];
    this.ended = false;
    S.tts.index = index;
    if (mseSupported && (this.mime === "audio/mpeg" || window.MediaSource.isTypeSupported(this.mime))) {
      S.tts.mode = "mse";
      const ms = new MediaSource();
      this.mediaSource = ms;
      this.url = URL.createObjectURL(ms);
      audioEl.src = this.url;
      ms.addEventListener("sourceopen", () => {
        if (this.mediaSource !== ms) return;
        this.sourceBuffer = ms.addSourceBuffer(this.mime);
        this.sourceBuffer.mode = "sequence";
        this.sourceBuffer.addEventListener("updateend", () => this.pump());
        this.pump();
      }, { once: true });
      this.play();
    } else {
      S.tts.mode = "blob";
    }
  },

  chunk(data) {
    const index = Number(data.index);
    if (S.mic === "recording") return; // never play into an open microphone
    S.tts.received += 1;
    this.chain = this.chain.then(async () => {
      if (index !== this.index) this.begin(index, data.mime);
      const buffer = await asBuffer(data.audio);
      if (!buffer || index !== this.index) return;
      if (S.tts.mode === "mse") {
        this.queue.push(buffer);
        this.pump();
      } else {
        this.blobParts.push(buffer);
      }
    });
  },

  end(data) {
    const index = Number(data.index);
    this.chain = this.chain.then(() => {
      S.tts.ended += 1;
      if (index !== this.index) return;
      this.ended = true;
      if (S.tts.mode === "mse") {
        this.pump();
      } else if (this.blobParts.length) {
        // No MediaSource for this type: play the whole question once it is complete.
        const count = this.blobParts.length;
        this.url = URL.createObjectURL(new Blob(this.blobParts, { type: this.mime }));
        audioEl.src = this.url;
        audioEl.addEventListener("playing", () => { S.tts.played += count; }, { once: true });
        this.play();
      }
    });
  },

  pump() {
    const sb = this.sourceBuffer;
    const ms = this.mediaSource;
    if (!sb || !ms || sb.updating || ms.readyState !== "open") return;
    if (this.queue.length) {
      try {
        sb.appendBuffer(this.queue.shift());
        S.tts.played += 1;
      } catch (e) {
        console.warn("tts: append failed", e);
      }
    } else if (this.ended) {
      try {
        ms.endOfStream();
      } catch {
        /* already ended */
      }
    }
  },

  play() {
    const p = audioEl.play();
    if (p && p.catch) {
      p.then(() => { S.tts.blocked = false; renderInterview(); })
        .catch((e) => {
          if (e && e.name === "NotAllowedError") {
            S.tts.blocked = true; // autoplay refused (e.g. after a reload): offer a button
            renderInterview();
          }
        });
    }
  },
};

function stopTts() {
  try {
    audioEl.pause();
  } catch {
    /* nothing playing */
  }
  if (tts.url) URL.revokeObjectURL(tts.url);
  tts.url = null;
  tts.mediaSource = null;
  tts.sourceBuffer = null;
  tts.queue = [];
  tts.blobParts = [];
  tts.index = null;
  S.tts.blocked = false;
  S.tts.playing = false;
}

audioEl.addEventListener("playing", () => { S.tts.playing = true; renderInterview(); });
for (const name of ["pause", "ended", "emptied"]) {
  audioEl.addEventListener(name, () => { S.tts.playing = false; renderInterview(); });
}
$("audio-play").addEventListener("click", () => tts.play());

// -- boot -------------------------------------------------------------------------------

function boot() {
  for (const radio of document.querySelectorAll('input[name="language"]')) radio.checked = radio.value === S.uiLang;
  applyI18n();
  if (client.hasSession) {
    S.view = "interview"; // resuming: the conversation comes with session_resumed
  } else {
    S.view = "start";
  }
  render();
  client.connect();
}

boot();
