// The per-answer time limit: a countdown while a question is open. At zero a spoken answer
// ends as if "Done answering" was pressed, a typed answer is sent as it is, and an empty
// one gets a "time is up" notice (the candidate may still answer).
import { sendAnswer } from "/static/answer.js";
import { finishVoiceAnswer } from "/static/microphone.js";
import { notify } from "/static/notices.js";
import { byId, label, openIndex, state } from "/static/state.js";
import { load, PAGE_KEYS, store } from "/static/storage.js";

const DEADLINE_KEY = `${PAGE_KEYS.timeLimit}.deadline`;
let ticker = 0;

function savedDeadline(index) {
  try {
    const saved = JSON.parse(load(DEADLINE_KEY) || "null");
    return saved && saved.index === index ? Number(saved.deadline) : null;
  } catch {
    return null;
  }
}

function stop() {
  clearInterval(ticker);
  ticker = 0;
  state.countdown.index = null;
  state.countdown.remaining = null;
}

function expire(index) {
  state.countdown.expired.push(index);
  if (state.mode === "voice") {
    finishVoiceAnswer();
  } else if (byId("answer").value.trim()) {
    sendAnswer();
  } else {
    notify("info", "time_up");
  }
}

function tick() {
  const c = state.countdown;
  if (c.index === null) return;
  c.remaining = Math.max(0, Math.ceil((c.deadline - Date.now()) / 1000));
  const el = byId("countdown");
  const minutes = Math.floor(c.remaining / 60);
  const seconds = String(c.remaining % 60).padStart(2, "0");
  el.textContent = c.remaining ? label("interview.countdown", { time: `${minutes}:${seconds}` }) : label("interview.time_up");
  el.dataset.urgent = String(c.remaining <= 10);
  el.setAttribute("datetime", `PT${c.remaining}S`);
  if (!c.remaining && !c.expired.includes(c.index)) expire(c.index);
}

/** Start, keep or stop the countdown for the open question (runs on every render). */
export function syncCountdown() {
  const open = state.timeLimit ? openIndex() : null;
  byId("countdown").hidden = !open;
  if (!open) {
    stop();
    return;
  }
  if (state.countdown.index === open) return;
  state.countdown.index = open;
  state.countdown.deadline = savedDeadline(open) || Date.now() + state.timeLimit * 1000;
  store(DEADLINE_KEY, JSON.stringify({ index: open, deadline: state.countdown.deadline }));
  clearInterval(ticker);
  ticker = setInterval(tick, 250);
  tick();
}

/** Forget the saved deadline (a new interview starts). */
export function resetCountdown() {
  stop();
  store(DEADLINE_KEY, null);
}
