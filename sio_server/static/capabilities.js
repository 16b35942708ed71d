// What this server can do by voice (GET /api/v1/capabilities), read before Start: the form
// offers only what works (voice answers disabled, with the reason, when the server has no
// speech recognition in the chosen language) and says in one line what will not work, or that
// the transcript will be rough (offline recognition).
import { fetchCapabilities } from "/static/api.js";
import { byId, label, state } from "/static/state.js";
import { addRenderer, render } from "/static/view.js";

const works = (mode, language) => Boolean(state.capabilities && state.capabilities[mode].languages.includes(language));

/** The notice's i18n key for `language` and the chosen `mode`, or null when everything asked for works. */
export function capabilityNotice(language, mode) {
  if (!state.capabilities) return null;
  const spoken = works("spoken_questions", language);
  if (!works("voice_answers", language)) return spoken ? "form.capability.spoken_typed" : "form.capability.text_only";
  if (!spoken) return "form.capability.silent_questions";
  const manual = mode === "voice" && !works("hands_free", language);
  if (mode === "voice" && state.capabilities.voice_answers.rough_transcript) {
    return manual ? "form.capability.rough_manual_end" : "form.capability.rough_transcript";
  }
  if (manual) return "form.capability.manual_end";
  return null;
}

function formChoice(name) {
  const checked = document.querySelector(`input[name="${name}"]:checked`);
  return checked ? checked.value : null;
}

function renderCapabilities() {
  if (!state.capabilities) return;
  const language = formChoice("language");
  const voice = byId("mode-voice");
  const noVoice = !works("voice_answers", language);
  voice.disabled = noVoice;
  const speak = byId("speak_questions");
  if (noVoice && voice.checked) {
    byId("mode-text").checked = true;
    speak.checked = true; // the candidate asked for voice: the questions are still read aloud where the server can
  }
  speak.disabled = !works("spoken_questions", language);
  if (speak.disabled) speak.checked = false;
  const reason = byId("mode-voice-reason");
  reason.hidden = !noVoice;
  const elsewhere = state.capabilities.voice_answers.available; // in another language only (offline STT: English)
  reason.textContent = noVoice ? label(elsewhere ? "form.mode.voice.other_language" : "form.mode.voice.unavailable") : "";
  const key = capabilityNotice(language, formChoice("mode"));
  const notice = byId("capability-notice");
  notice.hidden = !key;
  notice.textContent = key ? label(key) : "";
}

/** Ask the server what works and keep the form to it; without an answer the form stays as it is. */
export async function initCapabilities() {
  addRenderer(renderCapabilities);
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", renderCapabilities);
  try {
    state.capabilities = await fetchCapabilities();
  } catch {
    return; // an older server: the start ack still says when voice is not available
  }
  render();
}
