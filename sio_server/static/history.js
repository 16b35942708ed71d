// Past interviews on this browser: session id, resume token, job title, company, date, status
// and score in localStorage (they outlive the tab), listed on the start view; one can be
// forgotten or opened read-only (its conversation and feedback from the report API, no socket
// resume). The status and score are written when the feedback arrives and when one is opened.
import { fetchReportData } from "/static/api.js";
import { clearNotices, notifyError } from "/static/notices.js";
import { stopTts } from "/static/player.js";
import { byId, label, resetInterview, state } from "/static/state.js";
import { loadLocal, PAGE_KEYS, storeLocal } from "/static/storage.js";
import { addRenderer, band, element, render, setView } from "/static/view.js";

const MAX_ENTRIES = 50;

const OPTIONAL_TEXT = ["job_title", "company", "started_at"];

const STATUSES = ["active", "ended"];

/** A stored entry as a fresh plain object, or null when it is malformed (it is skipped, the others stay).
 * A status or score that does not fit is dropped (the row shows none). */
function entryOf(e) {
  if (!e || typeof e !== "object" || Array.isArray(e)) return null;
  if (typeof e.session_id !== "string" || !e.session_id || typeof e.token !== "string" || !e.token) return null;
  if (OPTIONAL_TEXT.some((key) => e[key] !== undefined && typeof e[key] !== "string")) return null;
  const { session_id, token, job_title = "", company = "", started_at = "" } = e;
  const entry = { session_id, token, job_title, company, started_at };
  if (STATUSES.includes(e.status)) entry.status = e.status;
  if (Number.isInteger(e.score) && e.score >= 0 && e.score <= 100) entry.score = e.score;
  return entry;
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
  state.history = list;
  storeLocal(PAGE_KEYS.history, list.length ? JSON.stringify(list) : null);
}

export const history = {
  /** Remember a started interview (newest first). */
  add({ session_id, token, job_title = "", company = "" }) {
    const entry = { session_id, token, job_title, company, started_at: new Date().toISOString(), status: "active" };
    write([entry, ...read().filter((e) => e.session_id !== session_id)].slice(0, MAX_ENTRIES));
  },

  /** Note an interview's `status` ("active" | "ended") and `score` (0-100 or null) on its row. */
  update(sessionId, { status, score = null }) {
    const list = read();
    const entry = list.find((e) => e.session_id === sessionId);
    if (!entry) return;
    if (STATUSES.includes(status)) entry.status = status;
    if (Number.isInteger(score)) entry.score = score;
    write(list);
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
    state.past = { sessionId: entry.session_id, token: entry.token, entry };
    state.status = report.status;
    state.maxQuestions = report.config.max_questions;
    for (const turn of report.turns) {
      state.questions.set(turn.index, { index: turn.index, text: turn.question, is_last: turn.index === state.maxQuestions });
      if (turn.answer !== null && turn.answer !== undefined) state.answers.set(turn.index, turn.answer);
    }
    state.feedback = report.feedback;
    const score = report.feedback ? Math.round(Number(report.feedback.overall_score) || 0) : null;
    history.update(entry.session_id, { status: report.status, score });
    if (!report.feedback) state.feedbackError = report.status === "ended" ? "no_feedback" : "session_active";
    setView("feedback");
    render();
  },
};

const dateFormat = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(state.uiLang === "ko" ? "ko-KR" : "en-US", {
    dateStyle: "medium",
    timeStyle: "short",
  });
};

function button(key, className, title, onClick) {
  const b = element("button", `btn btn-ghost btn-small ${className}`, label(key));
  b.type = "button";
  b.setAttribute("aria-label", `${label(key)}: ${title}`);
  b.addEventListener("click", onClick);
  return b;
}

function item(entry) {
  const li = element("li", "history-item");
  li.dataset.sessionId = entry.session_id;
  const title = [entry.job_title || label("history.untitled"), entry.company].filter(Boolean).join(" · ");
  const when = element("time", "muted small", dateFormat(entry.started_at));
  when.dateTime = entry.started_at;
  const text = element("div", "history-text");
  const facts = element("span", "history-facts small");
  if (entry.status) facts.append(element("span", `history-status status-${entry.status}`, label(`history.status.${entry.status}`)));
  if (entry.score !== undefined) {
    facts.append(element("span", `history-score band-${band(entry.score)}`, label("history.score", { score: entry.score })));
  }
  text.append(element("span", "history-title", title), when, facts);
  li.append(
    text,
    button("history.open", "history-open", title, () => history.open(entry.session_id)),
    button("history.forget", "history-forget", title, () => history.forget(entry.session_id)),
  );
  return li;
}

function renderHistory() {
  byId("history").hidden = !state.history.length || state.view !== "start";
  byId("history-list").replaceChildren(...state.history.map(item));
}

/** Load the list and render it with the start view. */
export function initHistory() {
  state.history = read();
  addRenderer(renderHistory);
  window.addEventListener("storage", (event) => {
    if (event.key !== PAGE_KEYS.history) return;
    state.history = read(); // another tab started or forgot one
    renderHistory();
  });
}
