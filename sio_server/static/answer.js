// Typed answers (Enter sends, Shift+Enter is a new line) and ending the interview early.
import { clearDraft } from "/static/drafts.js";
import { notifyError } from "/static/notices.js";
import { stopMic } from "/static/microphone.js";
import { $, L, S, client, openIndex } from "/static/state.js";
import { render, setView } from "/static/view.js";

/** Send the typed answer to the open question (nothing when the box is empty). */
export async function sendAnswer() {
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
    clearDraft(index);
    S.answers.set(index, text);
    S.status = S.status === "ended" ? "ended" : "processing";
  } catch (e) {
    if (!S.answers.has(index) && !box.value) box.value = text;
    if (e.code === "session_ended") S.status = "ended";
    notifyError(e);
  } finally {
    if (S.pendingAnswer && S.pendingAnswer.index === index) S.pendingAnswer = null;
    render();
  }
}

/** Wire the answer box and the "End interview" button. */
export function initAnswers() {
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

  $("end-btn").addEventListener("click", async () => {
    if (!window.confirm(L("interview.end.confirm"))) return;
    stopMic(false);
    try {
      await client.end();
      S.status = "ended";
      setView("feedback");
    } catch (e) {
      notifyError(e);
    }
    render();
  });
}
