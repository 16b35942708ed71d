// Question audio: streamed tts_chunk/tts_end played through MediaSource, or as one Blob
// per question when MediaSource cannot play the type.
import { byId, state } from "/static/state.js";
import { renderInterview } from "/static/view.js";

const audioEl = byId("tts-audio");
// `?tts=blob` forces the per-question Blob fallback (for tests and for browsers with a broken MSE).
const mseSupported =
  new URLSearchParams(window.location.search).get("tts") !== "blob" &&
  "MediaSource" in window &&
  window.MediaSource.isTypeSupported("audio/mpeg");
state.tts.mode = mseSupported ? "mse" : "blob";

const asBuffer = async (audio) => {
  if (audio instanceof ArrayBuffer) return audio;
  if (ArrayBuffer.isView(audio)) return audio.buffer.slice(audio.byteOffset, audio.byteOffset + audio.byteLength);
  if (audio instanceof Blob) return audio.arrayBuffer();
  return null;
};

export const tts = {
  index: null,
  chain: Promise.resolve(),
  queue: [],
  blobParts: [],
  mime: "audio/mpeg",
  mediaSource: null,
  sourceBuffer: null,
  url: null,
  ended: false,

  unlock() {
    // A user gesture (the start button) lets later playback start without another click.
    try {
      const before = audioEl.src;
      audioEl.muted = true;
      const p = audioEl.play();
      // Pause the silent unlock only if no question audio took the element over meanwhile:
      // the first question's speech can arrive before this promise settles.
      const done = () => { if (audioEl.src === before) audioEl.pause(); audioEl.muted = false; };
      if (p) p.catch(() => {}).finally(done);
      else done();
    } catch {
      audioEl.muted = false;
    }
  },

  begin(index, mime) {
    stopTts();
    this.index = index;
    this.mime = mime || "audio/mpeg";
    this.queue = [];
    this.blobParts = [];
    this.ended = false;
    state.tts.index = index;
    if (mseSupported && (this.mime === "audio/mpeg" || window.MediaSource.isTypeSupported(this.mime))) {
      state.tts.mode = "mse";
      const ms = new MediaSource();
      this.mediaSource = ms;
      this.url = URL.createObjectURL(ms);
      audioEl.src = this.url;
      ms.addEventListener("sourceopen", () => {
        if (this.mediaSource !== ms) return;
        this.sourceBuffer = ms.addSourceBuffer(this.mime);
        this.sourceBuffer.mode = "sequence";
        this.sourceBuffer.addEventListener("updateend", () => this.pump());
        this.pump();
      }, { once: true });
      this.play();
    } else {
      state.tts.mode = "blob";
    }
  },

  chunk(data) {
    const index = Number(data.index);
    if (state.mic === "recording" && !state.handsFree) return; // never play into an open microphone (hands-free: AEC)
    state.tts.received += 1;
    this.chain = this.chain.then(async () => {
      if (index !== this.index) this.begin(index, data.mime);
      const buffer = await asBuffer(data.audio);
      if (!buffer || index !== this.index) return;
      if (state.tts.mode === "mse") {
        this.queue.push(buffer);
        this.pump();
      } else {
        this.blobParts.push(buffer);
      }
    });
  },

  end(data) {
    const index = Number(data.index);
    this.chain = this.chain.then(() => {
      state.tts.ended += 1;
      if (index !== this.index) return;
      if (data.interrupted) {
        stopTts(); // barge-in confirmed: the rest of the question is never played
        return;
      }
      this.ended = true;
      if (state.tts.mode === "mse") {
        this.pump();
      } else if (this.blobParts.length) {
        // No MediaSource for this type: play the whole question once it is complete.
        const count = this.blobParts.length;
        this.url = URL.createObjectURL(new Blob(this.blobParts, { type: this.mime }));
        audioEl.src = this.url;
        audioEl.addEventListener("playing", () => { state.tts.played += count; }, { once: true });
        this.play();
      }
    });
  },

  pump() {
    const sb = this.sourceBuffer;
    const ms = this.mediaSource;
    if (!sb || !ms || sb.updating || ms.readyState !== "open") return;
    if (this.queue.length) {
      try {
        sb.appendBuffer(this.queue.shift());
        state.tts.played += 1;
      } catch (e) {
        console.warn("tts: append failed", e);
      }
    } else if (this.ended) {
      try {
        ms.endOfStream();
      } catch {
        /* already ended */
      }
    }
  },

  play() {
    const p = audioEl.play();
    if (p && p.catch) {
      p.then(() => { state.tts.blocked = false; renderInterview(); })
        .catch((e) => {
          if (e && e.name === "NotAllowedError") {
            state.tts.blocked = true; // autoplay refused (e.g. after a reload): offer a button
            renderInterview();
          }
        });
    }
  },
};

/** Barge-in: pause the question at once, keeping what is buffered (a false interruption resumes it). */
export function pauseTts() {
  tts.paused = true;
  try {
    audioEl.pause();
  } catch {
    /* nothing playing */
  }
}

/** The server decided the interruption was false (`tts_resumed`): play on from where it stopped. */
export function resumeTts(data) {
  if (Number(data.index) !== tts.index || !tts.paused) return;
  tts.paused = false;
  tts.play();
}

export function stopTts() {
  tts.paused = false;
  try {
    audioEl.pause();
  } catch {
    /* nothing playing */
  }
  if (tts.url) URL.revokeObjectURL(tts.url);
  tts.url = null;
  tts.mediaSource = null;
  tts.sourceBuffer = null;
  tts.queue = [];
  tts.blobParts = [];
  tts.index = null;
  state.tts.blocked = false;
  state.tts.playing = false;
}

/** Wire the audio element and its "Play the question" button. */
export function initPlayer() {
  audioEl.addEventListener("playing", () => { state.tts.playing = true; renderInterview(); });
  for (const name of ["pause", "ended", "emptied"]) {
    audioEl.addEventListener(name, () => { state.tts.playing = false; renderInterview(); });
  }
  byId("audio-play").addEventListener("click", () => tts.play());
}
