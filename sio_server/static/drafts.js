// Typed answers not yet sent survive a reload: kept per session and question in localStorage
// while they are typed, put back in the empty answer box when that question is open again,
// and forgotten once the server acknowledged the answer (or the interview ended).
import { byId, client, openIndex, state } from "/static/state.js";
import { dropLocal, loadLocal, PAGE_KEYS, storeLocal } from "/static/storage.js";
import { addRenderer } from "/static/view.js";

const keyOf = (sessionId, index) => `${PAGE_KEYS.draftPrefix}${sessionId}.${index}`;
let restored = null; // the "<session>.<index>" whose draft was last put back (once per open question)

/** Forget the draft of question `index` (its answer was acknowledged). */
export function clearDraft(index) {
  if (client.sessionId) storeLocal(keyOf(client.sessionId, index), null);
}

/** Forget every draft of the session `sessionId` (its interview ended). */
export function clearDrafts(sessionId) {
  if (sessionId) dropLocal(`${PAGE_KEYS.draftPrefix}${sessionId}.`);
}

function keep() {
  const index = openIndex();
  if (!index || !client.sessionId) return;
  storeLocal(keyOf(client.sessionId, index), byId("answer").value || null);
}

function restore() {
  const index = openIndex();
  if (!index || !client.sessionId || state.pendingAnswer) return;
  const key = keyOf(client.sessionId, index);
  if (restored === key) return;
  restored = key;
  const draft = loadLocal(key);
  const box = byId("answer");
  if (draft && !box.value) box.value = draft;
}

/** Keep the answer box's text as it is typed, and put it back after a reload. */
export function initDrafts() {
  byId("answer").addEventListener("input", keep);
  addRenderer(restore);
}
