// Runs the shared conformance scenarios (scenarios.json) with the shipped JS adapter,
// client_adapter/interview-client.js, in Node over the official socket.io-client.
// The twin of runner.py: the same ops, the same report (see checks.py).
//
//   node tests/conformance/runner.mjs <server url> <admin token> [scenario ...]
//
// Prints one JSON line per scenario: {"scenario", "ok": true, "report"} or {"scenario",
// "ok": false, "error"}. A server action (kill, start, restart) is asked for with a
// line {"control": action}; the harness does it and answers {"done": action} on stdin.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { InterviewClient, InterviewError, memoryStorage } from "../../client_adapter/interview-client.js";

const SCENARIOS = JSON.parse(readFileSync(new URL("./scenarios.json", import.meta.url), "utf8"));
const STEP_TIMEOUT = 30000;
const [url, adminToken, ...names] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function control(action) {
  say({ control: action });
  const { value, done } = await stdinLines.next();
  if (done || JSON.parse(value).done !== action) throw new Error(`the harness did not do ${action}`);
}

const answerFor = (scenario, client, index) =>
  SCENARIOS.answer_template.replace("{scenario}", scenario).replace("{client}", client).replace("{index}", String(index));

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolve once `predicate()` holds, re-checked on every adapter event. */
function until(client, predicate) {
  return new Promise((resolve, reject) => {
    const offs = [];
    const check = () => {
      if (predicate()) {
        offs.forEach((off) => off());
        resolve();
      } else if (client.fatal && !predicate()) {
        offs.forEach((off) => off());
        reject(client.fatal);
      }
    };
    for (const name of ["connection", "ready", "question", "feedback", "session_resumed", "disconnect", "connect_error"]) offs.push(client.on(name, check));
    check();
  });
}

/** One client and what it saw, per session (a new session starts at `start` and at a resume by token). */
class Recorder {
  constructor(name, client, sessionId) {
    this.name = name;
    this.client = client;
    this.sessions = [];
    this.pending = null;
    this.t0 = performance.now();
    this.attempts = [];
    this.refusals = [];
    this.shutdowns = [];
    this.errors = [];
    if (sessionId) this.newSession(sessionId);
    for (const event of ["question", "feedback"]) {
      client.on(event, (data) => this.sessions.at(-1).events.push([event, data.seq, data.index ?? null]));
    }
    client.on("connection", ({ attempt }) => attempt >= 1 && this.attempts.push(this.ms()));
    client.on("connect_error", ({ code }) => this.refusals.push([code, this.ms()]));
    client.on("server_shutdown", (d) => this.shutdowns.push([d ? d.reconnect_after_ms : null, this.ms()]));
  }

  /** Milliseconds since this client was made. */
  ms() {
    return performance.now() - this.t0;
  }

  newSession(sessionId) {
    this.sessions.push({ session_id: sessionId, events: [], answers: [], finished: false });
  }

  report() {
    const c = this.client;
    return {
      state: c.state,
      fatal: c.fatal ? c.fatal.code : null,
      resumes: c.resumes,
      has_session: c.hasSession,
      duplicates_dropped: c.duplicatesDropped,
      sessions: this.sessions,
      attempts: this.attempts,
      refusals: this.refusals,
      shutdowns: this.shutdowns,
      errors: this.errors,
    };
  }
}

class NodeRunner {
  constructor(scenario) {
    this.scenario = scenario;
    this.clients = new Map();
  }

  async run() {
    try {
      for (const step of this.scenario.steps) await withTimeout(this.step(step), JSON.stringify(step));
    } finally {
      for (const rec of this.clients.values()) rec.client.close();
    }
    return Object.fromEntries([...this.clients].map(([name, rec]) => [name, rec.report()]));
  }

  async step(step) {
    if (step.op === "server") return control(step.action);
    if (step.op === "client") {
      const other = this.clients.get(step.token_of);
      const storage = memoryStorage();
      if (other) storage.setItem("interview.resume_token", other.client.resumeToken);
      const client = new InterviewClient({ url, io, storage }); // every rule from protocol.json, as in runner.py
      this.clients.set(step.as, new Recorder(step.as, client, other ? other.client.sessionId : null));
      return undefined;
    }
    const rec = this.clients.get(step.client);
    return this[step.op](rec, rec.client, step);
  }

  async connect(rec, client, step) {
    client.connect();
    if (!step.error) return client.waitReady();
    try {
      await client.waitReady();
    } catch (e) {
      if (e.code !== step.error) throw e;
      return undefined;
    }
    throw new Error(`connect did not fail with ${step.error}`);
  }

  async start(rec, client, step) {
    rec.newSession(null);
    const ack = await client.start(step.config);
    rec.sessions.at(-1).session_id = ack.session_id;
  }

  async answerNext(rec, client) {
    const question = await client.nextQuestion();
    const ack = await client.answerText(question.index, answerFor(this.scenario.name, rec.name, question.index));
    rec.sessions.at(-1).answers.push([question.index, ack.duplicate]);
    return question;
  }

  answer(rec, client) {
    return this.answerNext(rec, client);
  }

  wait_question(rec, client, step) {
    return until(client, () => client.questions.has(step.index));
  }

  wait_state(rec, client, step) {
    return until(client, () => client.state === step.state);
  }

  wait_resumed(rec, client) {
    return until(client, () => client.resumes >= 1 && client.ready);
  }

  wait_refused(rec, client, step) {
    const count = step.count ?? 1;
    return until(client, () => rec.refusals.filter(([code]) => code === step.code).length >= count);
  }

  answer_later(rec, client) {
    const promise = this.answerNext(rec, client);
    rec.pending = { done: false, promise };
    promise.then(() => { rec.pending.done = true; }, () => { rec.pending.done = true; });
  }

  expect_pending(rec) {
    if (!rec.pending || rec.pending.done) throw new Error("the answer completed while the server was down");
  }

  async await_answer(rec) {
    await rec.pending.promise;
  }

  async expect_error(rec, client, step) {
    const calls = { answer_text: () => client.answerText(1, "after the end"), start: () => client.start(step.config) };
    const began = rec.ms();
    try {
      await calls[step.call]();
    } catch (e) {
      if (!(e instanceof InterviewError) || e.code !== step.code) throw e;
      rec.errors.push([step.call, e.code, rec.ms() - began]);
      return;
    }
    throw new Error(`${step.call} did not fail with ${step.code}`);
  }

  async finish(rec, client) {
    while (!(await this.answerNext(rec, client)).is_last);
    await client.feedback();
    rec.sessions.at(-1).finished = true;
  }

  async fetch_feedback(rec, client) {
    const fetched = await client.fetchFeedback();
    const event = await client.feedback();
    if (fetched.session_id !== event.session_id || fetched.overall_score !== event.overall_score) {
      throw new Error(`fetched feedback ${JSON.stringify(fetched)} differs from the event`);
    }
  }

  async delete_session(rec) {
    const r = await fetch(`${url}/api/v1/sessions/${rec.sessions.at(-1).session_id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    if (r.status !== 204) throw new Error(`delete answered ${r.status}`);
    rec.sessions.at(-1).deleted = true;
  }

  close(rec, client) {
    client.close();
  }
}

const wanted = SCENARIOS.scenarios.filter((s) => names.length === 0 || names.includes(s.name));
for (const scenario of wanted) {
  try {
    say({ scenario: scenario.name, ok: true, report: await new NodeRunner(scenario).run() });
  } catch (e) {
    say({ scenario: scenario.name, ok: false, error: `${e && e.stack ? e.stack : e}` });
  }
}
process.exit(0);
