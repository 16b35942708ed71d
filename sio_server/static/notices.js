// Notices (warnings, errors, info) shown above the views, and screen-reader announcements.
import { codeMessage } from "/static/i18n.js";
import { byId, label, state } from "/static/state.js";

export function announce(text) {
  const el = byId("announcer");
  el.textContent = "";
  setTimeout(() => { el.textContent = text; }, 50);
}

// Notices about a wait (the interviewer is slow): shown until the question or the feedback arrives.
const WAIT_CODES = new Set(["llm_slow"]);

export function notify(kind, code, message = "") {
  state.notices = state.notices.filter((n) => n.code !== code);
  const notice = { id: Math.random().toString(36).slice(2), kind, code, message };
  state.notices.push(notice);
  if (state.notices.length > 3) state.notices.shift();
  if ((kind === "warning" || kind === "info") && !WAIT_CODES.has(code)) setTimeout(() => dismiss(notice.id), 9000);
  renderNotices();
}

/** The wait is over (a question or the feedback came): drop the notices about it. */
export function endWaitNotices() {
  const kept = state.notices.filter((n) => !WAIT_CODES.has(n.code));
  if (kept.length === state.notices.length) return;
  state.notices = kept;
  renderNotices();
}

/** Show an error caught from the adapter or an HTTP call. */
export const notifyError = (e) => notify("error", e.code || "internal_error", e.serverMessage || e.message);

export function dismiss(id) {
  state.notices = state.notices.filter((n) => n.id !== id);
  renderNotices();
}

export function clearNotices() {
  state.notices = [];
  renderNotices();
}

export function renderNotices() {
  const box = byId("notices");
  box.replaceChildren(
    ...state.notices.map((n) => {
      const div = document.createElement("div");
      div.className = `notice notice-${n.kind}`;
      div.dataset.code = n.code;
      div.setAttribute("role", n.kind === "error" ? "alert" : "status");
      const p = document.createElement("p");
      p.textContent = n.code === "_text" ? n.message : codeMessage(state.uiLang, n.code, n.message);
      const b = document.createElement("button");
      b.type = "button";
      b.className = "notice-close";
      b.setAttribute("aria-label", label("dismiss"));
      b.textContent = "×";
      b.addEventListener("click", () => dismiss(n.id));
      div.append(p, b);
      return div;
    }),
  );
}
