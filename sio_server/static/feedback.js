// The feedback view: score, scores by category, how they spoke, summary, lists, per-question comments, the whole
// conversation, and the report to keep ("Open report" in a new tab through a short-lived link, "Download report"
// as Markdown, "Print" with the print style sheet).
import { fetchReportFile, fetchReportLink } from "/static/api.js";
import { codeMessage } from "/static/i18n.js";
import { notifyError } from "/static/notices.js";
import { speakingBlock } from "/static/speaking.js";
import { $, L, S, reportSession } from "/static/state.js";
import { addRenderer, band, conversationItems, el } from "/static/view.js";

function fillList(id, items) {
  const ul = $(id);
  const list = (items || []).filter(Boolean);
  ul.replaceChildren(
    ...(list.length ? list : [L("feedback.none")]).map((text) => el("li", list.length ? "" : "muted", text)),
  );
}

const CATEGORIES = ["relevance", "structure", "evidence", "clarity"];

/** "Relevance 80" chips for a feedback's categories ([] when it has none: feedback from before they existed). */
function categoryItems(categories) {
  if (!categories || typeof categories !== "object") return [];
  return CATEGORIES.filter((name) => Number.isFinite(Number(categories[name]))).map((name) => {
    const score = Math.round(Number(categories[name]));
    const text = L("feedback.category_score", { name: L(`feedback.category.${name}`), score });
    const li = el("li", `category band-${band(score)}`, text);
    li.dataset.category = name;
    return li;
  });
}

function perQuestionItem(item) {
  const li = el("li", "pq");
  li.dataset.index = item.index;
  const s = Math.round(Number(item.score) || 0);
  const head = el("div", "pq-head");
  head.append(
    el("span", "pq-title", L("interview.question", { index: item.index })),
    el("span", `pq-score band-${band(s)}`, L("feedback.question_score", { score: s })),
  );
  li.append(head);
  const q = S.questions.get(Number(item.index));
  if (q) li.append(el("p", "pq-question", q.text));
  li.append(el("p", "pq-comment", item.comment || ""));
  const chips = categoryItems(item.categories);
  if (chips.length) {
    const ul = el("ul", "categories pq-categories");
    ul.setAttribute("aria-label", L("feedback.categories"));
    ul.append(...chips);
    li.append(ul);
  }
  const spoken = speakingBlock(item.speaking);
  if (spoken) li.append(spoken);
  return li;
}

function renderFeedback() {
  const f = S.feedback;
  $("feedback-waiting").hidden = Boolean(f) || Boolean(S.feedbackError);
  const score = f ? Math.round(Number(f.overall_score) || 0) : null;
  $("score").textContent = score === null ? "–" : String(score);
  $("score-ring").style.setProperty("--score", String(score || 0));
  $("score-ring").dataset.band = score === null ? "" : band(score);
  $("summary").textContent = f ? f.summary || "" : S.feedbackError ? codeMessage(S.uiLang, S.feedbackError) : "";
  const overall = categoryItems(f && f.categories);
  $("categories").replaceChildren(...overall);
  $("categories-block").hidden = !overall.length;
  const spoken = speakingBlock(f && f.speaking);
  $("speaking").replaceChildren(...(spoken ? [spoken] : []));
  $("speaking-block").hidden = !spoken;
  fillList("strengths", f && f.strengths);
  fillList("improvements", f && f.improvements);
  $("per-question").replaceChildren(...((f && f.per_question) || []).map(perQuestionItem));
  if (S.view === "feedback") $("report-conversation").replaceChildren(...conversationItems());
  $("report-card").hidden = !S.questions.size;
  const past = S.past && S.past.entry;
  $("past-label").hidden = !past;
  if (past) {
    const title = [past.job_title || L("history.untitled"), past.company].filter(Boolean).join(" · ");
    $("past-label").textContent = L("history.read_only", { title });
  }
  $("report-actions").hidden = !reportSession();
  $("new-btn").textContent = S.past ? L("history.back") : L("feedback.new");
}

async function downloadReport() {
  const session = reportSession();
  if (!session) return;
  const button = $("download-btn");
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
  const button = $("open-report-btn");
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
  $("open-report-btn").addEventListener("click", openReport);
  $("download-btn").addEventListener("click", downloadReport);
  $("print-btn").addEventListener("click", () => window.print());
}
