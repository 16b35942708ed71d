// window.__interview: the page's state for tests and debugging (state, not pixels).
import { S, client, openIndex } from "/static/state.js";

export function installTestHook() {
  window.__interview = Object.freeze({
    get view() { return S.view; },
    get connection() { return S.connection; },
    get reconnectAttempt() { return S.attempt; },
    get sessionId() { return client.sessionId; },
    get mode() { return S.mode; },
    get status() { return S.status; },
    get language() { return S.language; },
    get uiLanguage() { return S.uiLang; },
    get questions() { return [...S.questions.values()].sort((a, b) => a.index - b.index).map((q) => ({ ...q })); },
    get answers() { return Object.fromEntries([...S.answers.entries()].map(([k, v]) => [String(k), v])); },
    get currentIndex() { return openIndex(); },
    get feedback() { return S.feedback ? structuredClone(S.feedback) : null; },
    get last_seq() { return client.lastSeq; },
    get lastSeq() { return client.lastSeq; },
    get resumes() { return client.resumes; },
    get duplicatesDropped() { return client.duplicatesDropped; },
    get notices() { return S.notices.map(({ kind, code }) => ({ kind, code })); },
    get mic() { return S.mic; },
    get audioChunksSent() { return S.audioChunksSent; },
    get ttsMode() { return S.tts.mode; },
    get ttsChunks() { return S.tts.received; },
    get ttsChunksReceived() { return S.tts.received; },
    get ttsChunksPlayed() { return S.tts.played; },
    get ttsPlaying() { return S.tts.playing; },
    get ttsEnded() { return S.tts.ended; },
    get timeLimit() { return S.timeLimit; },
    get countdown() { return S.countdown.remaining; },
    get expired() { return [...S.countdown.expired]; },
    get past() { return S.past ? S.past.sessionId : null; },
    get history() { return S.history.map(({ session_id, job_title, company }) => ({ session_id, job_title, company })); },
    get resumeUpload() { return { ...S.resumeUpload }; },
    client,
  });
}
