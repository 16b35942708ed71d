// The microphone: MediaRecorder's WebM chunks (speech-sized Opus) sent as binary audio_chunk, or, when
// the server asks for linear16 (`audio_format` of the start ack), 16 kHz PCM16 from an AudioWorklet
// (pcm_recorder.js); a level meter, pause/resume, and "Done answering" (answer_end once the last chunk is out).
// Hands-free (turn_detection "auto", as the start ack or session_resumed says): the microphone opens
// by itself once a question has been played (the Start click gave the page its user gesture and the
// permission), also after a reconnect or a reload, and stays open between answers ("listening");
// recording starts when the question has been played or as soon as the candidate speaks. Sound over
// the question pauses its playback at once; if it lasts INTERRUPTION_MIN_MS it is a barge-in (the
// server is told: `interrupt`), if it stops sooner (a cough, a door) playback resumes where it paused
// and the server never hears of it. Push-to-talk ("manual"): nothing opens until "Start speaking".
import { notify, notifyError } from "/static/notices.js";
import { loadPcmCapture, PcmRecorder } from "/static/pcm_recorder.js";
import { pauseTts, resumeTts, stopTts } from "/static/player.js";
import { byId, client, openIndex, state } from "/static/state.js";
import { render, renderInterview } from "/static/view.js";

const mic = { stream: null, recorder: null, ctx: null, raf: 0, chain: Promise.resolve(), stopped: null };
let ending = null; // the question whose answer_end is on its way
let opening = false; // getUserMedia is being asked (once at a time)
const VAD_LEVEL = 20; // meter level (0-100) above which the microphone hears speech
const VAD_HANGOVER_MS = 250; // quieter moments inside speech (between syllables) shorter than this are speech
// Opus at a speech bitrate (what Deepgram and OpenAI recommend for speech): about 3 kB/s upstream
// instead of MediaRecorder's default (~13 kB/s); docs/benchmarks.md has the measured figure.
const OPUS_BITS_PER_SECOND = 24_000;
// speech began at, last loud frame at (ms); the question interrupted; the question paused for a sound not yet
// long enough to be an interruption
const vad = { since: 0, loud: 0, interrupted: null, held: null };

/** Barge-in: stop the question's audio now and tell the server (which holds the rest or drops it). */
function bargeIn() {
  const index = state.tts.index;
  vad.held = null;
  if (index === null || vad.interrupted === index) return;
  vad.interrupted = index;
  state.bargeIns += 1;
  pauseTts();
  client.interrupt(index).catch(() => {}); // nothing to stop any more: the page has paused anyway
}

/** Sound over the question: pause it at once, before knowing whether it is speech or a noise. */
function holdQuestion() {
  vad.held = state.tts.index;
  state.ttsHolds += 1;
  pauseTts();
}

/** The sound stopped before INTERRUPTION_MIN_MS: a noise, not an interruption; play on. */
function releaseQuestion() {
  const index = vad.held;
  vad.held = null;
  state.noiseResumes += 1;
  resumeTts({ index });
}

/** The voice-activity check, on every meter tick. */
function hearLevel(level) {
  const now = performance.now();
  if (level < VAD_LEVEL) {
    if (now - vad.loud > VAD_HANGOVER_MS) {
      vad.since = 0;
      if (vad.held !== null) releaseQuestion();
    }
    return;
  }
  vad.loud = now;
  if (!vad.since) vad.since = now;
  if (state.mic === "listening" && openIndex()) startRecorder(); // the candidate speaks: it is the answer's audio
  if (state.mic === "recording" && !state.speechHeard && now - vad.since >= state.interruptionMinMs) heardSpeech();
  if (!state.handsFree) return;
  if (state.tts.playing && vad.held === null && vad.interrupted !== state.tts.index) holdQuestion();
  if (vad.held !== null && vad.held === state.tts.index && now - vad.since >= state.interruptionMinMs) bargeIn();
}

async function openStream() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    notify("error", "mic_unsupported");
    return false;
  }
  try {
    // Echo cancellation only where the question may play into the open microphone (hands-free).
    const aec = state.turnDetection === "auto";
    mic.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: aec, noiseSuppression: false, autoGainControl: false },
    });
  } catch {
    notify("error", "mic_denied");
    return false;
  }
  state.micDenied = false;
  startMeter(mic.stream);
  if (state.audioFormat === "linear16") {
    try {
      await loadPcmCapture(mic.ctx);
    } catch {
      notify("error", "mic_unsupported");
      return false;
    }
  }
  return true;
}

/** Words (or INTERRUPTION_MIN_MS of speech) were heard in this answer: "Done answering" can end it. */
export function heardSpeech() {
  if (state.speechHeard || !openIndex()) return;
  state.speechHeard = true;
  renderInterview();
}

async function startMic() {
  if (state.tts.playing && state.handsFree) bargeIn(); // speaking over the question on purpose
  else stopTts();
  if (!mic.stream && !(await openStream())) return;
  startRecorder();
}

function startRecorder() {
  const mime = "audio/webm;codecs=opus";
  const options = { audioBitsPerSecond: OPUS_BITS_PER_SECOND };
  if (MediaRecorder.isTypeSupported(mime)) options.mimeType = mime;
  const pcm = state.audioFormat === "linear16";
  const recorder = pcm ? new PcmRecorder(mic.ctx, mic.stream) : new MediaRecorder(mic.stream, options);
  mic.recorder = recorder;
  mic.chain = Promise.resolve();
  recorder.addEventListener("dataavailable", (e) => {
    if (!e.data || !e.data.size || mic.recorder !== recorder) return; // a closed answer's tail is not sent
    // Keep the chunks in order: each one is sent as one binary audio_chunk.
    mic.chain = mic.chain.then(async () => {
      const buffer = await e.data.arrayBuffer();
      if (client.sendAudio(buffer)) state.audioChunksSent += 1;
    });
  });
  mic.stopped = new Promise((resolve) => recorder.addEventListener("stop", resolve, { once: true }));
  recorder.start(pcm ? undefined : 250); // PCM comes in the worklet's 100 ms chunks
  state.mic = "recording";
  renderInterview();
}

function startMeter(stream) {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    mic.ctx = new Ctx();
    const source = mic.ctx.createMediaStreamSource(stream);
    const analyser = mic.ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    const bar = byId("mic-meter-bar");
    const meter = byId("mic-meter");
    // After a reload the context may wait for a gesture: the first click or key starts the meter.
    if (mic.ctx.state === "suspended") {
      const wake = () => mic.ctx && mic.ctx.resume().catch(() => {});
      for (const name of ["pointerdown", "keydown"]) document.addEventListener(name, wake, { once: true });
    }
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      const rms = Math.sqrt(sum / data.length);
      const live = state.mic === "recording" || state.mic === "listening";
      const level = live ? Math.min(100, Math.round(Math.sqrt(rms) * 160)) : 0;
      state.micLevel = level;
      hearLevel(level);
      bar.style.width = `${level}%`;
      meter.setAttribute("aria-valuenow", String(level));
      mic.raf = requestAnimationFrame(tick);
    };
    tick();
  } catch {
    mic.ctx = null; // no meter: recording still works, and "Done answering" cannot wait for heard speech
    state.speechHeard = true;
  }
}

/** Stop recording; resolves when the last chunk has been sent. */
export async function stopMic(flush = true) {
  const recorder = mic.recorder;
  cancelAnimationFrame(mic.raf);
  byId("mic-meter-bar").style.width = "0%";
  if (recorder && recorder.state !== "inactive") recorder.stop();
  if (flush && mic.stopped) await mic.stopped;
  if (flush) await mic.chain;
  if (mic.stream) for (const track of mic.stream.getTracks()) track.stop();
  if (mic.ctx) mic.ctx.close().catch(() => {});
  mic.stream = null;
  mic.recorder = null;
  mic.ctx = null;
  state.mic = "off";
  renderInterview();
}

/** Hands-free: the answer is over; keep the microphone open to hear the next one (and barge-ins).
 * `flush`: send the last chunk first (the page ends the answer); without it (the server ended the
 * answer) the tail is dropped, so that it does not start the next answer's stream without a header. */
async function listen(flush) {
  const recorder = mic.recorder;
  if (!flush) mic.recorder = null;
  if (recorder && recorder.state !== "inactive") recorder.stop();
  if (mic.stopped) await mic.stopped;
  await mic.chain;
  mic.recorder = null;
  if (mic.stream) state.mic = "listening";
  renderInterview();
}

/** The server ended the answer by itself (`answer_ended`: a pause, or the time limit). */
export async function answerEndedByServer(data) {
  const index = Number(data.index);
  state.answers.set(index, data.transcript || state.transcriptFinal);
  state.transcriptFinal = "";
  state.transcriptPartial = "";
  state.answerEnding = null;
  state.speechHeard = false;
  state.status = "processing";
  if (state.handsFree && data.reason !== "time_limit" && state.mic === "recording") {
    await listen(false);
  } else if (state.mic !== "off") {
    await stopMic(false); // the server closed the answer: its tail is not sent
  }
  render();
}

/** Hands-free: the candidate's turn once the open question has been played. The microphone opens by
 * itself (not again after a refusal: "Start speaking" asks again); recording starts unless the question
 * still plays (the candidate's voice over it starts it). `questionOver`: called as its audio ended (the
 * player may not have marked it stopped yet). */
export async function listenForAnswer(questionOver = false) {
  const index = openIndex();
  if (!state.handsFree || state.mode !== "voice" || !index || state.questionPlayed !== index) return;
  if (state.mic === "off") {
    if (state.micDenied || opening) return;
    opening = true;
    try {
      if (!(await openStream())) {
        state.micDenied = true;
        return;
      }
    } finally {
      opening = false;
    }
    if (openIndex() !== index) return stopMic(false); // answered meanwhile (typed)
    state.mic = "listening";
  }
  if (state.mic === "listening" && (questionOver || !state.tts.playing)) startRecorder();
  else renderInterview();
}

/** The open question's audio is over (played to its end, failed, or not to be played again after a
 * reload): hands-free listens now. */
export function afterQuestionPlayed() {
  const index = openIndex();
  if (!index) return;
  state.questionPlayed = index;
  listenForAnswer(true);
}

/** How this interview's answers end and the audio it sends, from the start ack or `session_resumed`
 * (`turn_detection` in force, `turn_detection_reason` when not what was asked, `audio_format`). */
export function setTurnDetection(turnDetection, audioFormat, reason = null) {
  state.turnDetection = turnDetection === "manual" ? "manual" : "auto";
  state.audioFormat = audioFormat === "linear16" ? "linear16" : "webm";
  state.turnReason = reason || null;
  state.handsFree = state.mode === "voice" && state.turnDetection === "auto";
  listenForAnswer(); // the question may have been played before the ack came
}

/** The spoken answer is complete ("Done answering", or the answer's time ran out). */
export async function finishVoiceAnswer() {
  const index = openIndex();
  if (!index || ending === index) return; // Done pressed as the time ran out: one answer_end
  ending = index;
  state.speechHeard = false;
  if (state.mic === "recording" && state.handsFree) {
    state.mic = "finishing";
    renderInterview();
    await listen(true); // hands-free: "Done" ends this answer, the microphone keeps listening
  } else if (state.mic !== "off") {
    state.mic = "finishing";
    renderInterview();
    await stopMic(true);
  }
  try {
    const ack = await client.answerEnd(index);
    state.answers.set(index, ack.transcript || state.transcriptFinal);
    state.transcriptFinal = "";
    state.transcriptPartial = "";
    state.status = "processing";
  } catch (e) {
    notifyError(e);
  } finally {
    ending = null;
  }
  render();
}

/** Wire the microphone and "Done answering" buttons. */
export function initMicrophone() {
  byId("mic-btn").addEventListener("click", async () => {
    if (state.mic === "off" || state.mic === "listening") return startMic();
    if (state.mic === "recording") {
      mic.recorder.pause();
      state.mic = "paused";
    } else if (state.mic === "paused") {
      mic.recorder.resume();
      state.mic = "recording";
    }
    renderInterview();
  });
  byId("done-btn").addEventListener("click", () => finishVoiceAnswer());
  for (const name of ["ended", "error"]) byId("tts-audio").addEventListener(name, () => afterQuestionPlayed());
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", renderTurnChoice);
  renderTurnChoice();
}

/** The start form's choice of how answers end is offered for voice interviews only. */
function renderTurnChoice() {
  const voice = document.querySelector('input[name="mode"]:checked');
  byId("turn-choice").hidden = !voice || voice.value !== "voice";
}
