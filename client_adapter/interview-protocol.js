// The client protocol's shared rules, from protocol.json (which client_adapter/protocol.py
// loads too): the back-off, the refusal policy and the shutdown delay, written the same way
// in both adapters.
import PROTOCOL from "./protocol.json" with { type: "json" };

export { PROTOCOL };
export const NAMESPACE = PROTOCOL.namespace;
export const RESUME = PROTOCOL.resume;
export const SHUTDOWN = PROTOCOL.shutdown;
export const REFUSALS = PROTOCOL.refusals;
export const REQUEST_RETRY = PROTOCOL.request_retry;
export const TERMINAL_STATES = new Set(PROTOCOL.terminal_states);
const MAX_DOUBLINGS = 30; // 2 ** 30 times any first delay is past every max_delay_ms

/** The server answered a request with `ok: false` (or it could not be sent). */
export class InterviewError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = "InterviewError";
    this.code = code;
    this.serverMessage = message;
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The delay before retry `retry` (0-based) of a back-off `policy` of protocol.json; `u` in [-1, 1) is the jitter. */
export function backoffMs(policy, retry, u = Math.random() * 2 - 1) {
  const spread = 1 + (policy.randomization || 0) * u;
  return Math.min(policy.first_delay_ms * 2 ** Math.min(retry, MAX_DOUBLINGS) * spread, policy.max_delay_ms);
}

/** What a connect_error with `code` leads to: "terminal" or "retry". */
export function refusalAction(code) {
  if (REFUSALS.terminal.includes(code)) return "terminal";
  if (REFUSALS.retry.includes(code)) return "retry";
  return REFUSALS.unknown;
}

/** How long after a shutdown `notice` no reconnect is attempted (null: it names no delay); `u` in [0, 1). */
export function shutdownDelayMs(notice, u = Math.random()) {
  const value = notice && typeof notice === "object" ? notice[SHUTDOWN.delay_field] : undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return null;
  return Math.min(value, SHUTDOWN.max_delay_ms) * (1 + SHUTDOWN.spread * u);
}

/** The code (null for a failure without one: the server is unreachable) and message of a connect_error. */
export function refusalOf(err) {
  const data = err && err.data;
  const code = data && typeof data.code === "string" && data.code ? data.code : null;
  return { code, message: (data && data.message) || (err ? err.message : "") };
}
