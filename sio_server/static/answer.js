// Typed answers (Enter sends, Shift+Enter is a new line) and ending the interview early.
import { clearDraft } from "/static/drafts.js";
import { notifyError } from "/static/notices.js";
import { stopMic } from "/static/microphone.js";
import { byId, client, label, openIndex, state } from "/static/state.js";
import { render, setView } from "/static/view.js";

/** Send the typed answer to the open question (nothing when the box is empty). */
export async function sendAnswer() {
  const index = openIndex();
  const box = byId("answer");
  const text = box.value.trim();
  if (!index || !text) return;
  if (state.mic !== "off") stopMic(false);
  state.pendingAnswer = { index, text };
  box.value = "";
  render();
  try {
    await client.answerText(index, text);
    clearDraft(index);
    state.answers.set(index, text);
    state.status = state.status === "ended" ? "ended" : "processing";
  } catch (e) {
    if (!state.answers.has(index) && !box.value) box.value = text;
    if (e.code === "session_ended") state.status = "ended";
    notifyError(e);
  } finally {
    if (state.pendingAnswer && state.pendingAnswer.index === index) state.pendingAnswer = null;
    render();
  }
}

/** Wire the answer box and the "End interview" button. */
export function initAnswers() {
  byId("answer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sendAnswer();
  });

  byId("answer").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return; // IME (Korean) composition
    if (event.shiftKey && !(event.ctrlKey || event.metaKey)) return; // Shift+Enter: new line
    event.preventDefault();
    sendAnswer();
  });

  byId("end-btn").addEventListener("click", async () => {
    if (!window.confirm(label("interview.end.confirm"))) return;
    stopMic(false);
    try {
      await client.end();
      state.status = "ended";
      setView("feedback");
    } catch (e) {
      notifyError(e);
    }
    render();
  });
}
