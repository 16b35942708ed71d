// The bounded buffer of received tts_chunk audio: the twin of client_adapter/audio.py.

const sizeOf = (audio) => (audio ? (audio.byteLength ?? audio.length ?? audio.size ?? 0) : 0);

/** The newest tts_chunk payloads, at most `maxBytes` of audio; the oldest chunks go first. */
export class AudioBuffer {
  constructor(maxBytes) {
    this.maxBytes = maxBytes;
    this.bytes = 0;
    this.dropped = 0;
    this._chunks = [];
  }

  /** Keep `chunk`, dropping the oldest chunks while over the bound. */
  add(chunk) {
    this._chunks.push(chunk);
    this.bytes += sizeOf(chunk.audio);
    while (this.bytes > this.maxBytes && this._chunks.length) {
      this.bytes -= sizeOf(this._chunks.shift().audio);
      this.dropped += 1;
    }
  }

  /** The kept chunks of question `index`, in order. */
  of(index) {
    return this._chunks.filter((c) => c.index === index);
  }

  /** Forget every kept chunk. */
  clear() {
    this._chunks = [];
    this.bytes = 0;
  }

  get length() {
    return this._chunks.length;
  }

  [Symbol.iterator]() {
    return this._chunks[Symbol.iterator]();
  }
}
