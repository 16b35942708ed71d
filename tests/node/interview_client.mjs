// One interview through the official socket.io-client in Node, including a resume
// after the server is restarted. Driven by tests/integration/test_node_client.py:
// it prints one JSON line per step and waits for the harness where asked.
import { io } from "socket.io-client";

const url = process.argv[2];
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (why) => { say({ step: "failed", why }); process.exit(1); };
setTimeout(() => fail("timed out"), 60000).unref();

let token = null;
let lastSeq = 0;
const questions = new Map();
let feedback = null;
let resumes = 0;
let disconnects = 0;
let duplicates = 0;
const waiters = [];
const changed = () => { for (const w of waiters.splice(0)) w(); };
const until = async (pred) => { while (!pred()) await new Promise((r) => waiters.push(r)); return pred(); };

const socket = io(`${url}/interview`, {
  transports: ["websocket"],
  reconnectionDelay: 200,
  reconnectionDelayMax: 1000,
  auth: (cb) => cb(token ? { resume_token: token, last_seq: lastSeq } : {}),
});

const accept = (name) => (data) => {
  if (data.seq <= lastSeq) { duplicates += 1; return; }
  if (data.seq !== lastSeq + 1) fail(`gap: got seq ${data.seq} after ${lastSeq}`);
  lastSeq = data.seq;
  if (name === "question") questions.set(data.index, data);
  else feedback = data;
  changed();
};
socket.on("question", accept("question"));
socket.on("feedback", accept("feedback"));
socket.on("session_resumed", (data) => { resumes += 1; say({ step: "resumed", last_seq: data.last_seq, history: data.history.length }); changed(); });
socket.on("disconnect", (reason) => { disconnects += 1; say({ step: "disconnected", reason }); changed(); });
socket.on("connect", () => changed());
socket.on("connect_error", (err) => say({ step: "connect_error", message: err.message, code: err.data && err.data.code }));

const emitAck = (event, payload) => new Promise((resolve, reject) => {
  socket.timeout(10000).emit(event, payload, (err, ack) => (err ? reject(err) : resolve(ack)));
});

// Answers are idempotent: re-send after a reconnect until acked.
async function answer(index, text) {
  for (;;) {
    await until(() => socket.connected);
    try {
      const ack = await emitAck("answer_text", { index, text });
      if (!ack.ok) fail(`answer ${index}: ${JSON.stringify(ack.error)}`);
      return ack;
    } catch (e) {
      say({ step: "answer_retry", index });
    }
  }
}

await until(() => socket.connected);
const started = await emitAck("start_interview", { language: "en", mode: "text", max_questions: 3, job_title: "Frontend Engineer" });
if (!started.ok) fail(JSON.stringify(started.error));
token = started.resume_token;
say({ step: "started", session_id: started.session_id });

await until(() => questions.has(1));
await answer(1, "I rebuilt our checkout page in React and cut load time by 35% by splitting bundles.");
await until(() => questions.has(2));
say({ step: "ready_for_restart" });
await until(() => resumes >= 1);
await answer(2, "We had a deadline conflict; I proposed a smaller first release, and we shipped on time.");
await until(() => questions.has(3));
await answer(3, "I would like to know how the team reviews code.");
await until(() => feedback !== null);
say({
  step: "done",
  session_id: started.session_id,
  seqs: lastSeq,
  questions: [...questions.keys()],
  score: feedback.overall_score,
  resumes,
  disconnects,
  duplicates,
});
socket.close();
process.exit(0);
