// linear16 capture (16 kHz mono PCM16 in 100 ms chunks) with MediaRecorder's shape, so the microphone
// records either way: start(), stop(), pause(), resume(), `state`, and the "dataavailable" (a Blob per
// chunk) and "stop" events. The server asks for it (GET /api/v1/capabilities' `audio_format`, the start
// ack's) when its speech recognition does not hear the end of speech itself: its own VAD judges the PCM.
const WORKLET = "/static/pcm_worklet.js";
const loaded = new WeakSet();
const FLUSH_MS = 500;

/** Whether this browser can capture linear16 (AudioWorklet). */
export const pcmSupported = () => Boolean(window.AudioContext && window.AudioWorkletNode);

/** Load the worklet into `ctx` (once per context). */
export async function loadPcmCapture(ctx) {
  if (loaded.has(ctx)) return;
  await ctx.audioWorklet.addModule(WORKLET);
  loaded.add(ctx);
}

export class PcmRecorder extends EventTarget {
  constructor(ctx, stream) {
    super();
    this.ctx = ctx;
    this.state = "inactive";
    this.source = ctx.createMediaStreamSource(stream);
    this.node = new AudioWorkletNode(ctx, "pcm16-capture", { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1 });
    this.mute = ctx.createGain(); // pulled by the destination, heard by nobody
    this.mute.gain.value = 0;
    this.node.port.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) {
        if (this.state === "recording") this.dispatch("dataavailable", { data: new Blob([event.data]) });
      } else if (event.data && event.data.done) {
        this.finish();
      }
    };
  }

  dispatch(name, fields) {
    this.dispatchEvent(Object.assign(new Event(name), fields));
  }

  start() {
    this.source.connect(this.node);
    this.node.connect(this.mute);
    this.mute.connect(this.ctx.destination);
    this.state = "recording";
  }

  pause() {
    if (this.state === "recording") this.state = "paused"; // chunks captured meanwhile are dropped
  }

  resume() {
    if (this.state === "paused") this.state = "recording";
  }

  /** Send the part-chunk left, then "stop" (within FLUSH_MS even if the audio thread is suspended). */
  stop() {
    if (this.state === "inactive" || this.stopping) return;
    this.stopping = true;
    this.node.port.postMessage("flush");
    setTimeout(() => this.finish(), FLUSH_MS);
  }

  finish() {
    if (this.state === "inactive") return;
    for (const node of [this.source, this.node, this.mute]) node.disconnect();
    this.state = "inactive";
    this.dispatchEvent(new Event("stop"));
  }
}
