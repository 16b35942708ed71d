// The start form: every interview option, the résumé file upload, the language switches,
// "Start a new interview" and "Start again with the same set-up" (the form still holds it;
// after a reload, setup.js put the last one back).
import { uploadResume } from "/static/api.js";
import { history } from "/static/history.js";
import { codeMessage } from "/static/i18n.js";
import { setTurnDetection } from "/static/microphone.js";
import { pcmSupported } from "/static/pcm_recorder.js";
import { clearNotices, notifyError } from "/static/notices.js";
import { stopTts, tts } from "/static/player.js";
import { byId, client, label, resetInterview, state } from "/static/state.js";
import { initSetup, saveSetup } from "/static/setup.js";
import { PAGE_KEYS, store } from "/static/storage.js";
import { resetCountdown } from "/static/timer.js";
import { addRenderer, render, setUiLang, setView } from "/static/view.js";

const TEXT_FIELDS = ["job_title", "company", "job_description", "resume_text"];
const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** Opus (WebM) unless the server asks for linear16 (its VAD ends the answers) and the browser can capture it. */
function preferredAudioFormat() {
  const asked = state.capabilities && state.capabilities.audio_format;
  return asked === "linear16" && pcmSupported() ? "linear16" : "webm";
}

/** The `start_interview` payload from the form. */
export function formConfig() {
  const data = new FormData(byId("start-form"));
  const config = {
    language: data.get("language") === "en" ? "en" : "ko",
    mode: data.get("mode") === "text" ? "text" : "voice",
    persona: String(data.get("persona") || "professional"),
    interview_type: String(data.get("interview_type") || "mixed"),
    difficulty: String(data.get("difficulty") || "medium"),
    max_questions: clamp(Number.parseInt(String(data.get("max_questions") || "5"), 10) || 5, 1, 20),
    speak_questions: data.get("speak_questions") === "on",
  };
  for (const key of TEXT_FIELDS) {
    const value = String(data.get(key) || "").trim();
    if (value) config[key] = value;
  }
  const limit = Number.parseInt(String(data.get("answer_time_limit_s") || ""), 10);
  if (limit) config.answer_time_limit_s = clamp(limit, 30, 1800);
  if (config.mode === "voice") config.audio_format = preferredAudioFormat();
  if (config.mode === "voice") config.turn_detection = data.get("turn_detection") === "manual" ? "manual" : "auto";
  return config;
}

function prepare(config) {
  stopTts();
  resetInterview();
  resetCountdown();
  clearNotices();
  state.starting = true;
  state.language = config.language;
  state.requestedMode = config.mode;
  state.maxQuestions = config.max_questions;
  state.timeLimit = config.answer_time_limit_s || null;
  store(PAGE_KEYS.language, config.language);
  store(PAGE_KEYS.timeLimit, state.timeLimit ? String(state.timeLimit) : null);
  setUiLang(config.language);
}

async function submit(event) {
  event.preventDefault();
  if (state.starting) return;
  const maxInput = byId("max_questions");
  if (!maxInput.checkValidity()) {
    maxInput.reportValidity();
    return;
  }
  const config = formConfig();
  saveSetup(config);
  prepare(config);
  if (config.speak_questions) tts.unlock(); // in the click's gesture: the questions may be played
  try {
    if (client.state === "rejected" || client.state === "idle") client.connect();
    const ack = await client.start(config);
    state.mode = ack.mode;
    state.interruptionMinMs = Number(ack.interruption_min_ms) || state.interruptionMinMs;
    setTurnDetection(ack.turn_detection, ack.audio_format, ack.turn_detection_reason);
    state.status = state.status || "processing";
    state.starting = false;
    history.add({ session_id: ack.session_id, token: ack.resume_token, job_title: config.job_title, company: config.company });
    setView("interview");
  } catch (e) {
    state.starting = false;
    notifyError(e);
  }
  render();
}

function renderResumeStatus() {
  const u = state.resumeUpload;
  const el = byId("resume-status");
  el.dataset.state = u.state;
  if (u.state === "reading") el.textContent = label("form.resume_file.reading");
  else if (u.state === "done") el.textContent = label(u.pages ? "form.resume_file.done_pages" : "form.resume_file.done", { pages: u.pages });
  else if (u.state === "error") el.textContent = codeMessage(state.uiLang, u.code);
  else el.textContent = "";
  byId("resume_file").disabled = u.state === "reading";
}

async function readResumeFile() {
  const input = byId("resume_file");
  const file = input.files && input.files[0];
  if (!file) return;
  state.resumeUpload = { state: "reading", pages: null, code: null };
  renderResumeStatus();
  try {
    const result = await uploadResume(file);
    byId("resume_text").value = result.text; // the candidate can still edit it
    state.resumeUpload = { state: "done", pages: result.pages || null, code: null };
  } catch (e) {
    state.resumeUpload = { state: "error", pages: null, code: e.code || "internal_error" };
    notifyError(e);
  } finally {
    input.value = ""; // choosing the same file again reads it again
  }
  renderResumeStatus();
}

/** Leave the interview shown for the start form (the session is forgotten on this tab, not deleted). */
function backToStart() {
  client.forget();
  stopTts();
  resetInterview();
  resetCountdown();
  store(PAGE_KEYS.language, null);
  clearNotices();
  setView("start");
  render();
}

/** Wire the start form, the language switches, "Start a new interview" and "Start again with the same set-up". */
export function initForm() {
  byId("start-form").addEventListener("submit", submit);
  byId("resume_file").addEventListener("change", readResumeFile);
  for (const radio of document.querySelectorAll('input[name="language"]')) {
    radio.addEventListener("change", () => setUiLang(radio.value));
  }
  // Spoken questions follow the answer mode (voice: on, text: off) until the candidate sets them.
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => { byId("speak_questions").checked = radio.value === "voice"; });
  }
  byId("lang-toggle").addEventListener("click", () => setUiLang(state.uiLang === "ko" ? "en" : "ko"));
  byId("new-btn").addEventListener("click", backToStart);
  byId("again-btn").addEventListener("click", () => {
    backToStart();
    byId("start-form").requestSubmit(); // in the click's gesture: the questions may be played
  });
  initSetup();
  addRenderer(renderResumeStatus);
  addRenderer(() => {
    byId("again-btn").hidden = state.view !== "feedback" || Boolean(state.past) || state.starting;
  });
}
