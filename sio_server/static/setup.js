// The last set-up on this browser: every option of the start form is kept in localStorage when an
// interview starts and put back in the form when the page opens; the résumé text only when the
// candidate ticks "remember my résumé" (unticking it forgets the stored one).
import { byId } from "/static/state.js";
import { loadLocal, PAGE_KEYS, storeLocal } from "/static/storage.js";

const TEXT = ["job_title", "company", "job_description", "persona", "interview_type", "difficulty", "max_questions", "answer_time_limit_s"];
const RADIOS = ["mode", "turn_detection"];
const CHECKS = ["speak_questions", "remember_resume"];

/** Keep the set-up `config` (the start_interview payload) on this browser. */
export function saveSetup(config) {
  const remember = byId("remember_resume").checked;
  const kept = { ...config, remember_resume: remember };
  delete kept.resume_text;
  if (remember && config.resume_text) kept.resume_text = config.resume_text;
  storeLocal(PAGE_KEYS.setup, JSON.stringify(kept));
}

function read() {
  try {
    const value = JSON.parse(loadLocal(PAGE_KEYS.setup) || "null");
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

const text = (value) => (typeof value === "string" || typeof value === "number" ? String(value) : null);

/** Put the last set-up back in the start form (a field the stored value does not fit keeps its default). */
export function restoreSetup() {
  const setup = read();
  if (!setup) return;
  for (const name of TEXT) {
    const value = text(setup[name]);
    const field = byId(name);
    if (value === null || !field) continue;
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) continue;
    field.value = value;
  }
  if (setup.answer_time_limit_s === undefined) byId("answer_time_limit_s").value = "";
  for (const name of RADIOS) {
    const radio = document.querySelector(`input[name="${name}"][value="${CSS.escape(String(setup[name]))}"]`);
    if (radio) radio.checked = true;
  }
  for (const name of CHECKS) if (typeof setup[name] === "boolean") byId(name).checked = setup[name];
  if (setup.remember_resume && typeof setup.resume_text === "string") byId("resume_text").value = setup.resume_text;
}

/** Unticking "remember my résumé" forgets the stored one at once. */
export function initSetup() {
  restoreSetup();
  byId("remember_resume").addEventListener("change", () => {
    if (byId("remember_resume").checked) return;
    const setup = read();
    if (!setup) return;
    delete setup.resume_text;
    setup.remember_resume = false;
    storeLocal(PAGE_KEYS.setup, JSON.stringify(setup));
  });
}
