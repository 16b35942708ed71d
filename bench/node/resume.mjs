// Holds N interviews at question 2 for the resume-storm benchmark (bench/resume.py), with the
// official socket.io-client: websocket transport, no permessage-deflate, Socket.IO's own
// reconnection with the Python adapter's back-off (0.25 s doubling to 2 s, ±50 % jitter) and the
// resume `auth` of docs/PROTOCOL.md ({resume_token, last_seq}, read at every reconnection).
//
//   node bench/node/resume.mjs URL N [bare]
//
// Each socket starts a text interview, answers question 1 and waits for question 2 (with "bare",
// for a bare Socket.IO server: each socket only connects, and its reconnection counts as resumed,
// the floor a resume cannot beat); then one JSON
// line {"ready", "errors", "seconds"}. A line "kill SECONDS" on stdin (sent right after the server
// was SIGKILLed) arms the stamps: every socket stamps its first `session_resumed` after it with
// CLOCK_MONOTONIC (process.hrtime, the clock of Python's time.monotonic). After SECONDS, or once all
// resumed, one line {"resumed": [stamps], "rejected", "lost"}; then "close" ends the process.
// "kill SECONDS EXPECTED SINCE" (the failover benchmark, bench/failover.py: one of two servers behind a
// proxy was killed at CLOCK_MONOTONIC SINCE, holding EXPECTED of the sessions) counts only what
// happened after SINCE (a socket may see its disconnect before this line arrives; rounds repeat),
// reports the disconnects too, and waits until EXPECTED sockets resumed; "lost" = EXPECTED − resumed.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { CONFIG, openAll, say, withTimeout } from "./holders.mjs";

const [url, countArg, mode] = process.argv.slice(2);
const bare = mode === "bare";
const count = Number(countArg);
const monotonic = () => Number(process.hrtime.bigint()) / 1e9;
const ANSWER = "I led the migration of our billing service to an event-driven design.";
let since = null; // CLOCK_MONOTONIC of the kill: stamps before it belong to an earlier round or the set-up
const after = (stamps) => stamps.find((t) => t >= since) ?? null;

function question(held, index) {
  return new Promise((resolve) => {
    if (held.questions.has(index)) return resolve();
    held.waiting.set(index, resolve);
  });
}

async function openOne() {
  const held = {
    token: null, lastSeq: 0, questions: new Set(), waiting: new Map(), drops: [], resumes: [], rejected: false,
  };
  const socket = io(`${url}/interview`, {
    transports: ["websocket"], forceNew: true, perMessageDeflate: false,
    reconnectionDelay: 250, reconnectionDelayMax: 2000, randomizationFactor: 0.5,
    auth: (cb) => cb(held.token ? { resume_token: held.token, last_seq: held.lastSeq } : {}),
  });
  held.socket = socket;
  socket.on("question", (q) => {
    held.lastSeq = Math.max(held.lastSeq, q.seq || 0);
    held.questions.add(q.index);
    held.waiting.get(q.index)?.();
  });
  socket.on("session_resumed", (data) => {
    held.lastSeq = Math.max(held.lastSeq, data.last_seq || 0);
    held.resumes.push(monotonic());
  });
  if (bare) socket.on("connect", () => held.resumes.push(monotonic()));
  socket.on("disconnect", () => held.drops.push(monotonic()));
  socket.on("connect_error", (err) => {
    if (since !== null && err?.data?.code === "resume_rejected") held.rejected = true;
  });
  await withTimeout(new Promise((resolve) => socket.once("connect", resolve)), "connect");
  if (bare) return held;
  const ack = await withTimeout(socket.emitWithAck("start_interview", CONFIG), "start_interview");
  if (!ack.ok) throw new Error(`start_interview: ${JSON.stringify(ack)}`);
  held.token = ack.resume_token;
  await withTimeout(question(held, 1), "question 1");
  const answered = await withTimeout(socket.emitWithAck("answer_text", { index: 1, text: ANSWER }), "answer_text");
  if (!answered.ok) throw new Error(`answer_text: ${JSON.stringify(answered)}`);
  await withTimeout(question(held, 2), "question 2");
  return held;
}

const { held, errors, seconds } = await openAll(count, openOne);
say({ ready: held.length, errors, seconds });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [word, arg] = line.trim().split(/\s+/);
  if (word === "kill") {
    const [, , expectArg, sinceArg] = line.trim().split(/\s+/);
    const expected = expectArg === undefined || expectArg === "all" ? held.length : Number(expectArg);
    since = sinceArg === undefined ? monotonic() : Number(sinceArg);
    for (const h of held) h.rejected = false;
    const resumedAt = (h) => after(h.resumes);
    const done = () => held.filter((h) => resumedAt(h) !== null || h.rejected).length >= expected;
    const deadline = Date.now() + Number(arg) * 1000;
    while (Date.now() < deadline && !done()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const resumed = held.map(resumedAt).filter((t) => t !== null);
    say({
      resumed,
      dropped: held.map((h) => after(h.drops)).filter((t) => t !== null),
      rejected: held.filter((h) => h.rejected).length,
      lost: expected - resumed.length,
    });
  } else if (word === "close") {
    break;
  }
}
for (const h of held) h.socket.disconnect();
process.exit(0);
