// The AudioWorklet that captures linear16 answers: the microphone's samples (the context's rate,
// usually 48 kHz) averaged down to 16 kHz mono PCM16 and posted in 100 ms chunks (3,200 bytes,
// little-endian as every browser platform is). "flush" posts the part-chunk left, then {done: true}.
const RATE = 16000;
const CHUNK_SAMPLES = RATE / 10;

class Pcm16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / RATE; // input samples per output sample
    this.pos = 0;
    this.sum = 0;
    this.count = 0;
    this.out = new Int16Array(CHUNK_SAMPLES);
    this.length = 0;
    this.port.onmessage = (event) => {
      if (event.data !== "flush") return;
      this.post();
      this.port.postMessage({ done: true });
    };
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i += 1) {
      this.sum += channel[i];
      this.count += 1;
      this.pos += 1;
      if (this.pos < this.ratio) continue;
      this.pos -= this.ratio; // a box filter over each output sample's inputs: enough against aliasing for speech
      const value = Math.round((this.sum / this.count) * 32768);
      this.sum = 0;
      this.count = 0;
      this.out[this.length] = Math.max(-32768, Math.min(32767, value));
      this.length += 1;
      if (this.length === CHUNK_SAMPLES) this.post();
    }
    return true;
  }

  post() {
    if (!this.length) return;
    const chunk = this.out.slice(0, this.length);
    this.length = 0;
    this.port.postMessage(chunk.buffer, [chunk.buffer]);
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
