// The microphone: MediaRecorder's WebM chunks sent as binary audio_chunk, a level meter,
// pause/resume, and "Done answering" (answer_end once the last chunk is out).
import { notify, notifyError } from "/static/notices.js";
import { stopTts } from "/static/player.js";
import { $, S, client, openIndex } from "/static/state.js";
import { render, renderInterview } from "/static/view.js";

const mic = { stream: null, recorder: null, ctx: null, raf: 0, chain: Promise.resolve(), stopped: null };
let ending = null; // the question whose answer_end is on its way

async function startMic() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    notify("error", "mic_unsupported");
    return;
  }
  stopTts();
  try {
    mic.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch {
    notify("error", "mic_denied");
    return;
  }
  const mime = "audio/webm;codecs=opus";
  const recorder = new MediaRecorder(mic.stream, MediaRecorder.isTypeSupported(mime) ? { mimeType: mime } : {});
  mic.recorder = recorder;
  mic.chain = Promise.resolve();
  recorder.addEventListener("dataavailable", (e) => {
    if (!e.data || !e.data.size) return;
    // Keep the chunks in order: each one is sent as one binary audio_chunk.
    mic.chain = mic.chain.then(async () => {
      const buffer = await e.data.arrayBuffer();
      if (client.sendAudio(buffer)) S.audioChunksSent += 1;
    });
  });
  mic.stopped = new Promise((resolve) => recorder.addEventListener("stop", resolve, { once: true }));
  recorder.start(250);
  S.mic = "recording";
  startMeter(mic.stream);
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
    const bar = $("mic-meter-bar");
    const meter = $("mic-meter");
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      const rms = Math.sqrt(sum / data.length);
      const level = S.mic === "recording" ? Math.min(100, Math.round(Math.sqrt(rms) * 160)) : 0;
      S.micLevel = level;
      bar.style.width = `${level}%`;
      meter.setAttribute("aria-valuenow", String(level));
      mic.raf = requestAnimationFrame(tick);
    };
    tick();
  } catch {
    /* no meter: recording still works */
  }
}

/** Stop recording; resolves when the last chunk has been sent. */
export async function stopMic(flush = true) {
  const recorder = mic.recorder;
  cancelAnimationFrame(mic.raf);
  $("mic-meter-bar").style.width = "0%";
  if (recorder && recorder.state !== "inactive") recorder.stop();
  if (flush && mic.stopped) await mic.stopped;
  if (flush) await mic.chain;
  if (mic.stream) for (const track of mic.stream.getTracks()) track.stop();
  if (mic.ctx) mic.ctx.close().catch(() => {});
  mic.stream = null;
  mic.recorder = null;
  mic.ctx = null;
  S.mic = "off";
  renderInterview();
}

/** The spoken answer is complete ("Done answering", or the answer's time ran out). */
export async function finishVoiceAnswer() {
  const index = openIndex();
  if (!index || ending === index) return; // Done pressed as the time ran out: one answer_end
  ending = index;
  if (S.mic !== "off") {
    S.mic = "finishing";
    renderInterview();
    await stopMic(true);
  }
  try {
    const ack = await client.answerEnd(index);
    S.answers.set(index, ack.transcript || S.transcriptFinal);
    S.transcriptFinal = "";
    S.transcriptPartial = "";
    S.status = "processing";
  } catch (e) {
    notifyError(e);
  } finally {
    ending = null;
  }
  render();
}

/** Wire the microphone and "Done answering" buttons. */
export function initMicrophone() {
  $("mic-btn").addEventListener("click", async () => {
    if (S.mic === "off") return startMic();
    if (S.mic === "recording") {
      mic.recorder.pause();
      S.mic = "paused";
    } else if (S.mic === "paused") {
      mic.recorder.resume();
      S.mic = "recording";
    }
    renderInterview();
  });
  $("done-btn").addEventListener("click", () => finishVoiceAnswer());
}
