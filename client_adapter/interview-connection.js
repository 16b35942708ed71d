// The connection state machine of the JS adapter: connect, reconnect, refusals, shutdown
// notices, terminal states. The twin of client_adapter/connection.py; the rules, from
// protocol.json:
// - a drop, or an attempt that fails before the server answers, is retried forever with the
//   `reconnect` back-off (socket.io-client's own reconnection, given those numbers); after the
//   server closed the namespace, the first retry comes after `after_server_disconnect_ms`;
// - a connect_error with a code follows `refusals`: `terminal` codes forget the session and end
//   in the state "rejected"; `retry` codes are retried with the `refusals` back-off;
// - after the server's `server_shutdown` notice no attempt is made before its
//   `reconnect_after_ms` (plus the `spread`) have passed since the notice;
// - the transports are tried in order; the first that opens is used.
import {
  InterviewError, NAMESPACE, PROTOCOL, REFUSALS, TERMINAL_STATES, backoffMs, refusalAction, refusalOf, shutdownDelayMs,
} from "./interview-protocol.js";

export const STORAGE_KEYS = Object.freeze({
  token: "interview.resume_token",
  sessionId: "interview.session_id",
  lastSeq: "interview.last_seq",
});

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

export class Connection {
  /**
   * @param {object} [options]
   * @param {string} [options.url] server base URL; default: this page's origin
   * @param {Storage} [options.storage] where token, session id and last seq are kept (sessionStorage)
   * @param {string[]} [options.transports] in order of preference (protocol.json)
   * @param {number} [options.reconnectionDelay] first delay of the reconnect back-off, ms (protocol.json)
   * @param {number} [options.reconnectionDelayMax] its largest delay, ms (protocol.json)
   * @param {number} [options.requestTimeout] ms (protocol.json)
   */
  constructor(options = {}) {
    const {
      url = globalThis.location ? globalThis.location.origin : "",
      storage = defaultStorage(),
      io = globalThis.io,
      transports = PROTOCOL.transports,
      reconnectionDelay = PROTOCOL.reconnect.first_delay_ms,
      reconnectionDelayMax = PROTOCOL.reconnect.max_delay_ms,
      requestTimeout = PROTOCOL.request_timeout_ms,
    } = options;
    if (typeof io !== "function") throw new Error("socket.io-client is not loaded (/vendor/socket.io.min.js)");
    this.url = url;
    this.storage = storage;
    this.requestTimeout = requestTimeout;
    this._reconnectPolicy = { ...PROTOCOL.reconnect, first_delay_ms: reconnectionDelay, max_delay_ms: reconnectionDelayMax };
    this.resumeToken = storage.getItem(STORAGE_KEYS.token) || null;
    this.state = "idle"; // one of protocol.json's states
    this.attempt = 0;
    this.ready = false;
    this.fatal = null; // the InterviewError of a terminal state (rejected, superseded)
    this._handlers = new Map();
    this._waiters = new Set();
    this._dropCount = 0;
    this._retryTimer = null;
    this._refusals = 0; // refusals since the last connect: the step of the refusal back-off
    this._quietUntil = null; // Date.now() before which a shutdown notice forbids attempts
    this._closed = false;
    this.socket = io(`${url}${NAMESPACE}`, {
      autoConnect: false,
      transports,
      tryAllTransports: true,
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay,
      reconnectionDelayMax,
      randomizationFactor: PROTOCOL.reconnect.randomization,
      timeout: PROTOCOL.connect_timeout_ms,
      auth: (cb) => cb(this.resumeToken ? { resume_token: this.resumeToken, last_seq: this.lastSeq } : {}),
    });
    this._registerConnection();
  }

  // -- subscription ---------------------------------------------------------------

  /**
   * Subscribe to a server event (question, feedback, transcript, tts_chunk, tts_end, state,
   * warning, error, session_resumed, server_shutdown) or to "connection" ({state, attempt}),
   * "ready" (connected, and caught up after a resume), "disconnect" and "connect_error"
   * ({code, message}). Returns an unsubscribe function.
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

  /** True when a token is stored: connect() will resume a session. */
  get hasSession() {
    return Boolean(this.resumeToken);
  }

  /** Forget the session token; the next start() begins a new interview. */
  forget() {
    this.resumeToken = null;
    for (const key of Object.values(STORAGE_KEYS)) this.storage.removeItem(key);
  }

  // -- connecting -----------------------------------------------------------------

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
    clearTimeout(this._retryTimer);
    this.socket.disconnect();
  }

  /** Enter a terminal state: pending waits reject with `error`, nothing reconnects. */
  _terminate(state, error) {
    this.fatal = error;
    this._closed = true;
    clearTimeout(this._retryTimer);
    this._setState(state, 0); // before the socket's "disconnect" handlers run
    this._setReady(false);
    this.socket.disconnect();
    this._wake();
  }

  _quietMs() {
    return this._quietUntil === null ? 0 : Math.max(0, this._quietUntil - Date.now());
  }

  /** The server's server_shutdown: no attempt before its delay has passed (socket.io-client's own retries stop). */
  _noteShutdown(notice) {
    const delay = shutdownDelayMs(notice);
    if (delay === null) return;
    this._quietUntil = Date.now() + delay;
    this.socket.io.reconnection(false);
  }

  /** The next attempt, after `ms` (or what is left of a shutdown's pause); socket.io-client retries a failure. */
  _retryLater(ms) {
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      if (this._closed || this.socket.connected) return;
      this.socket.io.reconnection(true);
      this._setState("reconnecting", this.attempt + 1);
      this.socket.connect();
    }, Math.max(ms, this._quietMs()));
  }

  /** Hook: the connection dropped (the client forgets an unfinished catch-up). */
  _onDrop() {}

  _registerConnection() {
    const socket = this.socket;
    socket.on("connect", () => {
      clearTimeout(this._retryTimer);
      this._refusals = 0;
      this._quietUntil = null;
      socket.io.reconnection(true);
      if (this.resumeToken) {
        this._setState("resuming", this.attempt);
      } else {
        this._setState("connected", 0);
        this._setReady(true);
      }
    });

    socket.on("disconnect", (reason) => {
      this._dropCount += 1;
      this._onDrop();
      this._setReady(false);
      this._fire("disconnect", reason);
      if (this._closed || TERMINAL_STATES.has(this.state) || reason === "io client disconnect") return;
      this._setState("reconnecting", 0);
      // After a shutdown notice socket.io-client's reconnection is off until the pause is over; after
      // the server closed the namespace itself (not the transport) it does not reconnect by itself.
      if (this._quietUntil !== null) this._retryLater(0);
      else if (reason === "io server disconnect") this._retryLater(PROTOCOL.after_server_disconnect_ms);
    });

    socket.on("connect_error", (err) => {
      const { code, message } = refusalOf(err);
      this._fire("connect_error", { code, message });
      if (code === null) {
        // Unreachable: socket.io-client retries with the reconnect back-off, unless the namespace itself
        // refused without a code (then the socket is no longer active).
        if (!socket.active) this._retryLater(backoffMs(this._reconnectPolicy, 0));
        return;
      }
      if (refusalAction(code) === "terminal") {
        // The session is gone (purged, deleted) or the stored token is malformed: start over.
        this.forget();
        this._terminate("rejected", new InterviewError(code, message));
        return;
      }
      this._retryLater(backoffMs(REFUSALS, this._refusals));
      this._refusals += 1;
    });

    socket.io.on("reconnect_attempt", () => {
      if (!TERMINAL_STATES.has(this.state)) this._setState("reconnecting", this.attempt + 1);
    });
  }
}
