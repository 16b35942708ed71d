// The feedback view: score, scores by category, how they spoke, summary, lists, per-question comments, the whole
// conversation, and the report to keep ("Open report" in a new tab through a short-lived link, "Download report"
// as Markdown, "Print" with the print style sheet).
import { fetchReportFile, fetchReportLink } from "/static/api.js";
import { codeMessage } from "/static/i18n.js";
import { notifyError } from "/static/notices.js";
import { speakingBlock } from "/static/speaking.js";
import { byId, label, reportSession, state } from "/static/state.js";
import { addRenderer, band, conversationItems, element } from "/static/view.js";

function fillList(id, items) {
  const ul = byId(id);
  const list = (items || []).filter(Boolean);
  ul.replaceChildren(
    ...(list.length ? list : [label("feedback.none")]).map((text) => element("li", list.length ? "" : "muted", text)),
  );
}

const CATEGORIES = ["relevance", "structure", "evidence", "clarity"];

/** "Relevance 80" chips for a feedback's categories ([] when it has none: feedback from before they existed). */
function categoryItems(categories) {
  if (!categories || typeof categories !== "object") return [];
  return CATEGORIES.filter((name) => Number.isFinite(Number(categories[name]))).map((name) => {
    const score = Math.round(Number(categories[name]));
    const text = label("feedback.category_score", { name: label(`feedback.category.${name}`), score });
    const li = element("li", `category band-${band(score)}`, text);
    li.dataset.category = name;
    return li;
  });
}

function perQuestionItem(item) {
  const li = element("li", "pq");
  li.dataset.index = item.index;
  const s = Math.round(Number(item.score) || 0);
  const head = element("div", "pq-head");
  head.append(
    element("span", "pq-title", label("interview.question", { index: item.index })),
    element("span", `pq-score band-${band(s)}`, label("feedback.question_score", { score: s })),
  );
  li.append(head);
  const q = state.questions.get(Number(item.index));
  if (q) li.append(element("p", "pq-question", q.text));
  li.append(element("p", "pq-comment", item.comment || ""));
  const chips = categoryItems(item.categories);
  if (chips.length) {
    const ul = element("ul", "categories pq-categories");
    ul.setAttribute("aria-label", label("feedback.categories"));
    ul.append(...chips);
    li.append(ul);
  }
  const spoken = speakingBlock(item.speaking);
  if (spoken) li.append(spoken);
  return li;
}

function renderFeedback() {
  const f = state.feedback;
  byId("feedback-waiting").hidden = Boolean(f) || Boolean(state.feedbackError);
  const score = f ? Math.round(Number(f.overall_score) || 0) : null;
  byId("score").textContent = score === null ? "–" : String(score);
  byId("score-ring").style.setProperty("--score", String(score || 0));
  byId("score-ring").dataset.band = score === null ? "" : band(score);
  byId("summary").textContent = f ? f.summary || "" : state.feedbackError ? codeMessage(state.uiLang, state.feedbackError) : "";
  const overall = categoryItems(f && f.categories);
  byId("categories").replaceChildren(...overall);
  byId("categories-block").hidden = !overall.length;
  const spoken = speakingBlock(f && f.speaking);
  byId("speaking").replaceChildren(...(spoken ? [spoken] : []));
  byId("speaking-block").hidden = !spoken;
  fillList("strengths", f && f.strengths);
  fillList("improvements", f && f.improvements);
  byId("per-question").replaceChildren(...((f && f.per_question) || []).map(perQuestionItem));
  if (state.view === "feedback") byId("report-conversation").replaceChildren(...conversationItems());
  byId("report-card").hidden = !state.questions.size;
  const past = state.past && state.past.entry;
  byId("past-label").hidden = !past;
  if (past) {
    const title = [past.job_title || label("history.untitled"), past.company].filter(Boolean).join(" · ");
    byId("past-label").textContent = label("history.read_only", { title });
  }
  byId("report-actions").hidden = !reportSession();
  byId("new-btn").textContent = state.past ? label("history.back") : label("feedback.new");
}

async function downloadReport() {
  const session = reportSession();
  if (!session) return;
  const button = byId("download-btn");
  button.disabled = true;
  try {
    const { blob, filename } = await fetchReportFile(session.sessionId, session.token, "md");
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    notifyError(e);
  } finally {
    button.disabled = false;
  }
}

/** Open the HTML report in a new tab: the tab is opened in the click (no popup blocker), then sent to a
 * short-lived signed link (the resume token stays in the request header, never in a URL). */
async function openReport() {
  const session = reportSession();
  if (!session) return;
  const tab = window.open("", "_blank");
  const button = byId("open-report-btn");
  button.disabled = true;
  try {
    const { url } = await fetchReportLink(session.sessionId, session.token);
    if (tab) {
      tab.opener = null;
      tab.location.href = url;
    } else {
      window.location.assign(url); // no new tab allowed: open it here (the interview resumes on Back)
    }
  } catch (e) {
    if (tab) tab.close();
    notifyError(e);
  } finally {
    button.disabled = false;
  }
}

/** Wire the report buttons and render with the rest of the page. */
export function initFeedback() {
  addRenderer(renderFeedback);
  byId("open-report-btn").addEventListener("click", openReport);
  byId("download-btn").addEventListener("click", downloadReport);
  byId("print-btn").addEventListener("click", () => window.print());
}
