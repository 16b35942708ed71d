// Browser client adapter: one interview over the official socket.io-client bundle
// (the global `io`, loaded by <script src="/vendor/socket.io.min.js">) that survives
// reconnects, server restarts and page reloads.
//
// The same client protocol as client_adapter/client.py (these method names are the
// canonical API; Python spells them in snake_case), with the shared rules read from
// protocol.json. Runs in the browser and in Node (pass `io` from socket.io-client and `url`).
// - the resume token and the highest `seq` seen go to the server in Socket.IO's `auth`
//   on every (re)connect, so Socket.IO's own reconnection does the resume;
// - token, session id and highest seq live in sessionStorage, so a reloaded page
//   resumes the same session;
// - events with a `seq` are de-duplicated (`seq <= lastSeq` is dropped); a new start()
//   resets the sequence state, so one client can run several interviews in a row;
// - an answer sent but not acked when the connection dropped is re-sent after the
//   resume (answers are idempotent: the server acks a re-send with duplicate: true);
//   retryable error codes are retried with back-off, others reject with InterviewError;
// - resume_rejected (or a malformed token) forgets the session: state "rejected";
//   error `superseded`: state "superseded". Both are terminal: pending waits reject
//   with `fatal` and nothing reconnects;
// - no audio is kept: each tts_chunk goes to the on("tts_chunk") handlers only.
//
// Usage:
//   import { InterviewClient } from "/client/interview-client.js";
//   const client = new InterviewClient();
//   client.on("connection", ({ state, attempt }) => ...);
//   client.on("question", (q) => ...);
//   client.connect();
//   await client.start({ language: "en", mode: "text", max_questions: 3 });
//   await client.answerText(1, "...");
import PROTOCOL from "./protocol.json" with { type: "json" };

export { PROTOCOL };
export const NAMESPACE = PROTOCOL.namespace;
export const STORAGE_KEYS = Object.freeze({
  token: "interview.resume_token",
  sessionId: "interview.session_id",
  lastSeq: "interview.last_seq",
});
const RETRYABLE_CODES = new Set(PROTOCOL.retryable_codes);
const REJECTED_CODES = new Set(PROTOCOL.rejected_codes);
const TERMINAL_STATES = new Set(PROTOCOL.terminal_states);
const SEQ_EVENTS = PROTOCOL.seq_events;
const LIVE_EVENTS = PROTOCOL.live_events;

/** The server answered a request with `ok: false` (or it could not be sent). */
export class InterviewError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = "InterviewError";
    this.code = code;
    this.serverMessage = message;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Storage kept in memory (Node, or a browser with storage disabled). */
export function memoryStorage() {
  const data = new Map();
  return {
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k),
  };
}

function defaultStorage() {
  try {
    const s = globalThis.sessionStorage;
    s.setItem("interview.__probe", "1");
    s.removeItem("interview.__probe");
    return s;
  } catch {
    return memoryStorage(); // storage disabled: the session still resumes within this page
  }
}

export class InterviewClient {
  /**
   * @param {object} [options]
   * @param {string} [options.url] server base URL; default: this page's origin
   * @param {Storage} [options.storage] where token, session id and last seq are kept (sessionStorage)
   * @param {string[]} [options.transports] websocket first, polling as fallback
   */
  constructor(options = {}) {
    const {
      url = globalThis.location ? globalThis.location.origin : "",
      storage = defaultStorage(),
      io = globalThis.io,
      transports = ["websocket", "polling"],
      reconnectionDelay = 300,
      reconnectionDelayMax = 3000,
      requestTimeout = 30000,
    } = options;
    if (typeof io !== "function") throw new Error("socket.io-client is not loaded (/vendor/socket.io.min.js)");
    this.url = url;
    this.storage = storage;
    this.requestTimeout = requestTimeout;
    this.resumeToken = storage.getItem(STORAGE_KEYS.token) || null;
    this.sessionId = storage.getItem(STORAGE_KEYS.sessionId) || null;
    this.lastSeq = Number.parseInt(storage.getItem(STORAGE_KEYS.lastSeq) || "0", 10) || 0;
    this.state = "idle"; // idle | connecting | connected | reconnecting | resuming | resumed | rejected | superseded
    this.attempt = 0;
    this.resumes = 0;
    this.duplicatesDropped = 0;
    this.lastResumed = null;
    this.ready = false;
    this.fatal = null; // the InterviewError of a terminal state (rejected, superseded)
    this.questions = new Map(); // this session's questions by index
    this.feedbackData = null;
    this._asked = 0;
    this._catchUpTo = null;
    this._handlers = new Map();
    this._waiters = new Set();
    this._dropCount = 0;
    this._manualRetry = null;
    this._shutdownDelay = null;
    this._closed = false;

    this.socket = io(`${url}${NAMESPACE}`, {
      autoConnect: false,
      transports,
      tryAllTransports: true,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay,
      reconnectionDelayMax,
      randomizationFactor: 0.5,
      timeout: 10000,
      auth: (cb) => cb(this.resumeToken ? { resume_token: this.resumeToken, last_seq: this.lastSeq } : {}),
    });
    this._register();
  }

  // -- subscription ---------------------------------------------------------------

  /**
   * Subscribe to a server event (question, feedback, transcript, tts_chunk, tts_end, state,
   * warning, error, session_resumed, server_shutdown) or to "connection" ({state, attempt})
   * and "ready" (connected, and caught up after a resume). Returns an unsubscribe function.
   */
  on(name, handler) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set());
    this._handlers.get(name).add(handler);
    return () => this._handlers.get(name)?.delete(handler);
  }

  _fire(name, ...args) {
    for (const handler of this._handlers.get(name) || []) {
      try {
        handler(...args);
      } catch (e) {
        console.error(`interview-client: ${name} handler failed`, e);
      }
    }
  }

  _setState(state, attempt = this.attempt) {
    this.state = state;
    this.attempt = attempt;
    this._fire("connection", { state, attempt });
  }

  _setReady(ready) {
    this.ready = ready;
    if (ready) this._fire("ready");
    this._wake();
  }

  /** Re-check every pending wait: resolve the satisfied ones, reject all in a terminal state. */
  _wake() {
    for (const waiter of [...this._waiters]) waiter();
  }

  /** Resolve with `predicate()` once truthy; reject in a terminal state or after `timeout` ms. */
  _until(predicate, timeout, what) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const check = () => {
        const value = predicate();
        if (!value && !this.fatal) return;
        clearTimeout(timer);
        this._waiters.delete(check);
        if (value) resolve(value);
        else reject(this.fatal);
      };
      timer = setTimeout(() => {
        this._waiters.delete(check);
        reject(new InterviewError("timeout", what));
      }, timeout);
      this._waiters.add(check);
      check();
    });
  }

  /** Resolve once connected (and, when resuming, caught up); reject after `timeout` ms. */
  async waitReady(timeout = this.requestTimeout) {
    await this._until(() => this.ready, timeout, "the server cannot be reached");
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

  /** Enter a terminal state: pending waits reject with `error`, nothing reconnects. */
  _terminate(state, error) {
    this.fatal = error;
    this._closed = true;
    clearTimeout(this._manualRetry);
    this._setState(state, 0); // before the socket's "disconnect" handlers run
    this._setReady(false);
    this.socket.disconnect();
    this._wake();
  }

  // -- connection -----------------------------------------------------------------

  /** Open the connection; with a stored token this resumes the stored session. */
  connect() {
    this._closed = false;
    this.fatal = null;
    this._setState(this.resumeToken ? "resuming" : "connecting", 0);
    this.socket.connect();
    return this;
  }

  /** Disconnect for good (no reconnection). */
  close() {
    this._closed = true;
    clearTimeout(this._manualRetry);
    this.socket.disconnect();
  }

  /** True when a token is stored: connect() will resume a session. */
  get hasSession() {
    return Boolean(this.resumeToken);
  }

  /** Forget the session (token, id, seq); the next start() begins a new interview. */
  forget() {
    this.resumeToken = null;
    this.sessionId = null;
    this._newSession();
    for (const key of Object.values(STORAGE_KEYS)) this.storage.removeItem(key);
  }

  /** Sequence state of a session that has sent nothing yet. */
  _newSession() {
    this.lastSeq = 0;
    this._catchUpTo = null;
    this._asked = 0;
    this.questions = new Map();
    this.feedbackData = null;
  }

  _save() {
    const s = this.storage;
    if (this.resumeToken) s.setItem(STORAGE_KEYS.token, this.resumeToken);
    if (this.sessionId) s.setItem(STORAGE_KEYS.sessionId, this.sessionId);
    s.setItem(STORAGE_KEYS.lastSeq, String(this.lastSeq));
  }

  _register() {
    const socket = this.socket;
    const manager = socket.io;

    socket.on("connect", () => {
      clearTimeout(this._manualRetry);
      this._shutdownDelay = null;
      if (this.resumeToken) {
        this._setState("resuming", this.attempt);
      } else {
        this._setState("connected", 0);
        this._setReady(true);
      }
    });

    socket.on("disconnect", (reason) => {
      this._dropCount += 1;
      this._catchUpTo = null;
      this._setReady(false);
      this._fire("disconnect", reason);
      if (this._closed || TERMINAL_STATES.has(this.state)) return;
      this._setState("reconnecting", 0);
      // The server closed the namespace itself (not the transport): Socket.IO does not
      // reconnect by itself then, so do it after the delay the server asked for.
      if (reason === "io server disconnect") this._retryLater(this._shutdownDelay ?? PROTOCOL.server_disconnect_retry_ms);
    });

    socket.on("connect_error", (err) => {
      const code = err && err.data && err.data.code;
      this._fire("connect_error", { code: code || null, message: err ? err.message : "" });
      if (REJECTED_CODES.has(code)) {
        // The session is gone (purged, deleted) or the stored token is malformed: start over.
        this.forget();
        this._terminate("rejected", new InterviewError(code, (err.data && err.data.message) || err.message));
        return;
      }
      if (!socket.active) {
        // Refused by the server (e.g. store_unavailable): Socket.IO does not retry by itself.
        this._setState("reconnecting", this.attempt + 1);
        const { first_delay_ms: first, max_delay_ms: max } = PROTOCOL.connect_retry;
        this._retryLater(Math.min(first * 2 ** Math.min(this.attempt, 4), max));
      }
    });

    manager.on("reconnect_attempt", (attempt) => {
      if (!TERMINAL_STATES.has(this.state)) this._setState("reconnecting", attempt);
    });

    socket.on("session_resumed", (data) => {
      this.resumes += 1;
      this.lastResumed = data;
      this.sessionId = data.session_id || this.sessionId;
      this._catchUpTo = Number(data.last_seq || 0);
      this._save();
      this._fire("session_resumed", data);
      this._checkCaughtUp();
    });

    for (const name of SEQ_EVENTS) socket.on(name, (data) => this._accept(name, data));
    for (const name of LIVE_EVENTS) {
      socket.on(name, (data) => {
        if (name === "server_shutdown" && data) this._shutdownDelay = Number(data.reconnect_after_ms) || null;
        if (name === "error" && data && data.code === PROTOCOL.superseded_code) {
          this._terminate("superseded", new InterviewError(data.code, String(data.message || "")));
        }
        this._fire(name, data);
      });
    }
  }

  _retryLater(ms) {
    clearTimeout(this._manualRetry);
    this._manualRetry = setTimeout(() => {
      if (!this._closed && !this.socket.connected) this.socket.connect();
    }, ms);
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

  /**
   * Emit `event` and resolve with its ack. When the connection drops before the ack
   * and `resend` is true, wait for the resume and send it again.
   */
  async _request(event, payload, { resend }) {
    const deadline = Date.now() + this.requestTimeout;
    let delay = PROTOCOL.request_retry.first_delay_ms;
    for (;;) {
      await this.waitReady(Math.max(0, deadline - Date.now()));
      const drops = this._dropCount;
      const ack = await new Promise((resolve) => {
        const timer = setTimeout(() => finish({ timeout: true }), Math.max(0, deadline - Date.now()));
        const offDrop = this.on("disconnect", () => finish({ dropped: true }));
        function finish(result) {
          clearTimeout(timer);
          offDrop();
          resolve(result);
        }
        this.socket.emit(event, payload, (reply) => {
          if (this._dropCount === drops) finish({ reply });
        });
      });
      if (ack.timeout) throw new InterviewError("timeout", `no answer to ${event}`);
      if (ack.dropped) {
        if (!resend) throw new InterviewError("connection_lost", `the connection dropped before ${event} was acknowledged`);
        continue; // re-sent after the resume
      }
      const reply = ack.reply;
      if (reply && reply.ok === false) {
        const error = reply.error || {};
        const code = String(error.code || "unknown");
        if (RETRYABLE_CODES.has(code) && Date.now() + delay < deadline) {
          await sleep(delay);
          delay = Math.min(delay * 2, PROTOCOL.request_retry.max_delay_ms);
          continue;
        }
        throw new InterviewError(code, String(error.message || ""));
      }
      return reply && typeof reply === "object" ? reply : {};
    }
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
