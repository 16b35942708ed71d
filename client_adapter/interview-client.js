// Browser client adapter: one interview over the official socket.io-client bundle
// (the global `io`, loaded by <script src="/vendor/socket.io.min.js">) that survives
// reconnects, server restarts and page reloads.
//
// The same client protocol as client_adapter/client.py (these method names are the
// canonical API; Python spells them in snake_case), with the shared rules read from
// protocol.json. Runs in the browser and in Node (pass `io` from socket.io-client and `url`).
// Plain ES modules, served to the page from /client/:
// - interview-connection.js: connecting, reconnecting, refusals, the shutdown notice;
// - interview-requests.js: acks, the re-send after a drop, the retry of retryable codes;
// - audio-buffer.js: the bounded buffer of received audio;
// - interview-protocol.js: the rules of protocol.json as functions.
// This module adds the interview: token, session id and highest seq live in sessionStorage
// (a reloaded page resumes the same session); events with a `seq` are de-duplicated
// (`seq <= lastSeq` is dropped); a new start() resets the sequence state, so one client can
// run several interviews in a row; after session_resumed the client is ready once the replay
// reached the server's last_seq; error `superseded` ends in the terminal state "superseded".
//
// Usage:
//   import { InterviewClient } from "/client/interview-client.js";
//   const client = new InterviewClient();
//   client.on("connection", ({ state, attempt }) => ...);
//   client.on("question", (q) => ...);
//   client.connect();
//   await client.start({ language: "en", mode: "text", max_questions: 3 });
//   await client.answerText(1, "...");
import { AudioBuffer } from "./audio-buffer.js";
import { Connection, STORAGE_KEYS, memoryStorage } from "./interview-connection.js";
import { InterviewError, NAMESPACE, PROTOCOL, RESUME, SHUTDOWN } from "./interview-protocol.js";
import { request } from "./interview-requests.js";

export { AudioBuffer, InterviewError, NAMESPACE, PROTOCOL, STORAGE_KEYS, memoryStorage };

export class InterviewClient extends Connection {
  /**
   * @param {object} [options] those of Connection, and
   * @param {number} [options.audioBufferBytes] audio kept in `audio` (protocol.json; 0 keeps none)
   */
  constructor(options = {}) {
    super(options);
    const { audioBufferBytes = PROTOCOL.audio.buffer_bytes } = options;
    this.sessionId = this.storage.getItem(STORAGE_KEYS.sessionId) || null;
    this.lastSeq = Number.parseInt(this.storage.getItem(STORAGE_KEYS.lastSeq) || "0", 10) || 0;
    this.resumes = 0;
    this.duplicatesDropped = 0;
    this.lastResumed = null;
    this.questions = new Map(); // this session's questions by index
    this.feedbackData = null;
    this.audio = new AudioBuffer(audioBufferBytes);
    this._asked = 0;
    this._catchUpTo = null;
    this._registerSession();
  }

  /** Resolve with the question after the last one returned (this session's questions, in order). */
  async nextQuestion(timeout = this.requestTimeout) {
    const question = await this._until(() => this.questions.get(this._asked + 1), timeout, "no next question");
    this._asked = question.index;
    return question;
  }

  /** Resolve with the interview's `feedback` event (at once when it has arrived). */
  feedback(timeout = this.requestTimeout) {
    return this._until(() => this.feedbackData, timeout, "no feedback");
  }

  /** Forget the session (token, id, seq); the next start() begins a new interview. */
  forget() {
    super.forget();
    this.sessionId = null;
    this._newSession();
  }

  /** Sequence state of a session that has sent nothing yet. */
  _newSession() {
    this.lastSeq = 0;
    this._catchUpTo = null;
    this._asked = 0;
    this.questions = new Map();
    this.feedbackData = null;
    this.audio.clear();
  }

  _save() {
    const s = this.storage;
    if (this.resumeToken) s.setItem(STORAGE_KEYS.token, this.resumeToken);
    if (this.sessionId) s.setItem(STORAGE_KEYS.sessionId, this.sessionId);
    s.setItem(STORAGE_KEYS.lastSeq, String(this.lastSeq));
  }

  _onDrop() {
    this._catchUpTo = null;
  }

  _registerSession() {
    const socket = this.socket;
    socket.on(RESUME.event, (data) => {
      this.resumes += 1;
      this.lastResumed = data;
      this.sessionId = data[RESUME.session_field] || this.sessionId;
      this._catchUpTo = Number(data[RESUME.seq_field] || 0);
      this._save();
      this._fire(RESUME.event, data);
      this._checkCaughtUp();
    });

    for (const name of PROTOCOL.seq_events) socket.on(name, (data) => this._accept(name, data));
    for (const name of PROTOCOL.live_events) {
      socket.on(name, (data) => {
        if (name === "tts_chunk" && data) this.audio.add(data);
        if (name === SHUTDOWN.event) this._noteShutdown(data);
        if (name === "error" && data && data.code === PROTOCOL.superseded_code) {
          this._terminate("superseded", new InterviewError(data.code, String(data.message || "")));
        }
        this._fire(name, data);
      });
    }
  }

  _checkCaughtUp() {
    if (this._catchUpTo !== null && this.lastSeq >= this._catchUpTo) {
      this._catchUpTo = null;
      this._setState("resumed", this.attempt);
      this._setReady(true);
    }
  }

  _accept(name, data) {
    const seq = Number(data && data.seq);
    if (!Number.isFinite(seq) || seq <= this.lastSeq) {
      this.duplicatesDropped += 1;
      return;
    }
    this.lastSeq = seq;
    if (name === "question") this.questions.set(data.index, data);
    if (name === "feedback") {
      this.feedbackData = data;
      if (data.session_id) this.sessionId = data.session_id;
    }
    this._save();
    this._fire(name, data);
    this._checkCaughtUp();
    this._wake();
  }

  // -- requests -------------------------------------------------------------------

  /** Emit `event` and resolve with its ack (see interview-requests.js). */
  _request(event, payload, options) {
    return request(this, event, payload, options);
  }

  /** Start an interview (`start_interview`); keeps the token so reconnects and reloads resume. */
  async start(config = {}) {
    await this.waitReady();
    // A new session numbers its events from 1; its first question may arrive before this ack.
    const kept = [this.lastSeq, this.questions, this.feedbackData, this._asked];
    this._newSession();
    let ack;
    try {
      ack = await this._request("start_interview", config, { resend: false });
    } catch (e) {
      [this.lastSeq, this.questions, this.feedbackData, this._asked] = kept;
      throw e;
    }
    this.resumeToken = ack.resume_token;
    this.sessionId = ack.session_id;
    this._save();
    return ack;
  }

  /** Answer question `index` in text; re-sent after a reconnect until acked. */
  answerText(index, text) {
    return this._request("answer_text", { index, text }, { resend: true });
  }

  /** The spoken answer to question `index` is complete; resolves with the ack (transcript). */
  answerEnd(index) {
    return this._request("answer_end", { index }, { resend: true });
  }

  /** Barge-in: the candidate speaks over question `index`'s audio; resolves with `{interrupted}`. */
  interrupt(index) {
    return this._request("interrupt", { index }, { resend: false });
  }

  /** End the interview early; `feedback` follows. */
  end() {
    return this._request("end_interview", {}, { resend: true });
  }

  /** Send one binary audio chunk (no ack); dropped while disconnected. */
  sendAudio(chunk) {
    if (!this.socket.connected) return false;
    this.socket.emit("audio_chunk", chunk);
    return true;
  }

  /** The session's feedback over HTTP (session bearer), e.g. after a reload past the feedback event. */
  async fetchFeedback() {
    if (!this.sessionId || !this.resumeToken) throw new InterviewError("no_session", "no session");
    const r = await fetch(`${this.url}/api/v1/sessions/${encodeURIComponent(this.sessionId)}/feedback`, {
      headers: { Authorization: `Bearer ${this.resumeToken}` },
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const error = body.error || {};
      throw new InterviewError(error.code || `http_${r.status}`, error.message || r.statusText);
    }
    return body;
  }
}
