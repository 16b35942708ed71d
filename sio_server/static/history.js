// Past interviews on this browser: session id, resume token, job title, company and date in
// localStorage (they outlive the tab), listed on the start view; one can be forgotten or
// opened read-only (its conversation and feedback from the report API, no socket resume).
import { fetchReportData } from "/static/api.js";
import { clearNotices, notifyError } from "/static/notices.js";
import { stopTts } from "/static/player.js";
import { $, L, S, resetInterview } from "/static/state.js";
import { PAGE_KEYS, loadLocal, storeLocal } from "/static/storage.js";
import { addRenderer, el, render, setView } from "/static/view.js";

const MAX_ENTRIES = 50;

const OPTIONAL_TEXT = ["job_title", "company", "started_at"];

/** A stored entry as a fresh plain object, or null when it is malformed (it is skipped, the others stay). */
function entryOf(e) {
  if (!e || typeof e !== "object" || Array.isArray(e)) return null;
  if (typeof e.session_id !== "string" || !e.session_id || typeof e.token !== "string" || !e.token) return null;
  if (OPTIONAL_TEXT.some((key) => e[key] !== undefined && typeof e[key] !== "string")) return null;
  const { session_id, token, job_title = "", company = "", started_at = "" } = e;
  return { session_id, token, job_title, company, started_at };
}

function read() {
  let list;
  try {
    list = JSON.parse(loadLocal(PAGE_KEYS.history) || "[]");
  } catch {
    return []; // not JSON at all: nothing can be read
  }
  return Array.isArray(list) ? list.map(entryOf).filter(Boolean) : [];
}

function write(list) {
  S.history = list;
  storeLocal(PAGE_KEYS.history, list.length ? JSON.stringify(list) : null);
}

export const history = {
  /** Remember a started interview (newest first). */
  add({ session_id, token, job_title = "", company = "" }) {
    const entry = { session_id, token, job_title, company, started_at: new Date().toISOString() };
    write([entry, ...read().filter((e) => e.session_id !== session_id)].slice(0, MAX_ENTRIES));
  },

  /** Forget one interview on this browser (the server keeps it until its retention ends). */
  forget(sessionId) {
    write(read().filter((e) => e.session_id !== sessionId));
    render();
  },

  /** Show a past interview read-only in the feedback view. */
  async open(sessionId) {
    const entry = read().find((e) => e.session_id === sessionId);
    if (!entry) return;
    clearNotices();
    let report;
    try {
      report = await fetchReportData(entry.session_id, entry.token);
    } catch (e) {
      notifyError(e);
      return;
    }
    stopTts();
    resetInterview();
    S.past = { sessionId: entry.session_id, token: entry.token, entry };
    S.status = report.status;
    S.maxQuestions = report.config.max_questions;
    for (const turn of report.turns) {
      S.questions.set(turn.index, { index: turn.index, text: turn.question, is_last: turn.index === S.maxQuestions });
      if (turn.answer !== null && turn.answer !== undefined) S.answers.set(turn.index, turn.answer);
    }
    S.feedback = report.feedback;
    if (!report.feedback) S.feedbackError = report.status === "ended" ? "no_feedback" : "session_active";
    setView("feedback");
    render();
  },
};

const dateFormat = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(S.uiLang === "ko" ? "ko-KR" : "en-US", {
    dateStyle: "medium",
    timeStyle: "short",
  });
};

function button(key, className, title, onClick) {
  const b = el("button", `btn btn-ghost btn-small ${className}`, L(key));
  b.type = "button";
  b.setAttribute("aria-label", `${L(key)}: ${title}`);
  b.addEventListener("click", onClick);
  return b;
}

function item(entry) {
  const li = el("li", "history-item");
  li.dataset.sessionId = entry.session_id;
  const title = [entry.job_title || L("history.untitled"), entry.company].filter(Boolean).join(" · ");
  const when = el("time", "muted small", dateFormat(entry.started_at));
  when.dateTime = entry.started_at;
  const text = el("div", "history-text");
  text.append(el("span", "history-title", title), when);
  li.append(
    text,
    button("history.open", "history-open", title, () => history.open(entry.session_id)),
    button("history.forget", "history-forget", title, () => history.forget(entry.session_id)),
  );
  return li;
}

function renderHistory() {
  $("history").hidden = !S.history.length || S.view !== "start";
  $("history-list").replaceChildren(...S.history.map(item));
}

/** Load the list and render it with the start view. */
export function initHistory() {
  S.history = read();
  addRenderer(renderHistory);
  window.addEventListener("storage", (event) => {
    if (event.key !== PAGE_KEYS.history) return;
    S.history = read(); // another tab started or forgot one
    renderHistory();
  });
}
