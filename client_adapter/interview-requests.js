// Requests with an ack: one send, the re-send after a dropped connection, the retry of retryable
// codes. The twin of client_adapter/requests.py: an answer sent but not acked when the
// connection dropped is re-sent after the resume (answers are idempotent: the server acks a
// re-send with duplicate: true); an ack with a code in protocol.json's request_retry.codes is
// re-sent after its back-off until the request timeout; any other code rejects with InterviewError.
import { InterviewError, REQUEST_RETRY, backoffMs, sleep } from "./interview-protocol.js";

/** One attempt: {reply}, {dropped} when the connection dropped first, or {timeout}. */
function sendOnce(client, event, payload, deadline) {
  const drops = client._dropCount;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish({ timeout: true }), Math.max(0, deadline - Date.now()));
    const offDrop = client.on("disconnect", () => finish({ dropped: true }));
    function finish(result) {
      clearTimeout(timer);
      offDrop();
      resolve(result);
    }
    client.socket.emit(event, payload, (reply) => {
      // Bound to this attempt: a late ack of an earlier connection cannot answer a later one.
      if (client._dropCount === drops) finish({ reply });
    });
  });
}

/** Emit `event` and resolve with its ack; when the connection drops first and `resend`, send it again after the resume. */
export async function request(client, event, payload, { resend }) {
  const deadline = Date.now() + client.requestTimeout;
  let retries = 0;
  for (;;) {
    await client.waitReady(Math.max(0, deadline - Date.now()));
    const ack = await sendOnce(client, event, payload, deadline);
    if (ack.timeout) throw new InterviewError("timeout", `no answer to ${event}`);
    if (ack.dropped) {
      if (!resend) throw new InterviewError("connection_lost", `the connection dropped before ${event} was acknowledged`);
      continue; // re-sent after the resume
    }
    const reply = ack.reply;
    if (!reply || reply.ok !== false) return reply && typeof reply === "object" ? reply : {};
    const error = reply.error || {};
    const code = String(error.code || "unknown");
    const delay = backoffMs(REQUEST_RETRY, retries);
    if (!REQUEST_RETRY.codes.includes(code) || Date.now() + delay >= deadline) {
      throw new InterviewError(code, String(error.message || ""));
    }
    retries += 1;
    await sleep(delay);
  }
}
