"""Barge-in in headless Chromium: the candidate's speech over a question, to playback stopped and the last audio chunk.

The real page against ``python -m sio_server`` (own process) and the fake
vendors (a thread of this process). Chromium's fake microphone loops one WAV:
espeak-ng speech (3.5 s) then 3.6 s of silence. The microphone opens by itself
once question 1 was played (hands-free, the form's default); answer 1 then ends
by itself (``ANSWER_END_SILENCE_MS=1000``) and every later
question (8 s of silent MP3, streamed by the fake TTS at about real time:
2,048-byte chunks of 128 ms every 120 ms) is still playing when the next
speech of the loop starts, about 2 s into it. The page's own voice-activity
check pauses it at the first loud meter frame and, once the sound has lasted
``INTERRUPTION_MIN_MS`` (500 ms), sends ``interrupt`` (a shorter sound would
have let it play on); the speech is that question's answer, which ends by itself, and
the next question comes. ``n`` barge-ins need ``n + 1`` questions.

Clocks (all ``performance.now()`` in the page, recorded by a script this
benchmark adds to the page, not by the page's code):

- *start of speech*: a second analyser on the page's microphone stream
  (``getUserMedia`` wrapped), polled every 4 ms: the first poll whose last
  512 samples peak at 0.02 or more after at least 1 s below it. That is when
  the speech reaches the page's audio graph (a real microphone's capture
  latency is not in it), at most one poll late;
- *playback stopped*: the first ``pause`` event of the question's ``<audio>``
  element after the start of speech (the page pauses it, then sends
  ``interrupt`` once the sound has lasted ``INTERRUPTION_MIN_MS``);
- *server*: the arrival in the page of the question's last ``tts_chunk``
  minus the moment the page called ``client.interrupt``. Arrival is later than
  sending by one localhost hop and the send is earlier than the server's
  receipt by one too, so this bounds the server's own time from above; a
  negative value means every chunk had arrived before the page sent
  ``interrupt``.

A barge-in is counted only when its question was playing when the speech
started (else the speech began before the question's audio: a timing miss of
the loop, reported as skipped).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from sio_server.devtools.browser.helpers import open_page, start, wait_hook
from sio_server.devtools.browser.vendors import Vendors
from sio_server.web.pages import socketio_bundle

from .common import SERVER_CPUS, BenchServer

SPEECH = "I would start with the data model and then talk to the users."
SILENCE_S = 3.6
QUESTION = "Walk me through how you would design a system that sends a reminder to a million users every morning."
SCRIPT = " ".join([SPEECH] * 8)  # what the fake STT hears, one word per 1,500 bytes of WebM (24 kbit/s Opus): always more to come
CHUNK_BYTES = 2048
CHUNK_S = CHUNK_BYTES * 8 / 128_000  # 128 kbit/s MP3: one chunk's duration
INTERRUPTION_MIN_MS = 500
ONSET_LEVEL = 0.02  # peak sample (full scale 1.0) that counts as speech for the benchmark's own analyser
QUIET_MS = 1000  # below the level this long before an onset

RECORDER = """([level, quietMs]) => {
    const rec = { onsets: [], pauses: [], playing: [], interrupts: [], chunks: [], ends: [] };
    window.__bench = rec;
    const devices = navigator.mediaDevices;
    const open = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
        const stream = await open(constraints);
        const ctx = new AudioContext();
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 512;
        ctx.createMediaStreamSource(stream).connect(analyser);
        const data = new Float32Array(analyser.fftSize);
        let lastLoud = -Infinity;
        setInterval(() => {
            analyser.getFloatTimeDomainData(data);
            let peak = 0;
            for (const v of data) peak = Math.max(peak, Math.abs(v));
            if (peak < level) return;
            const now = performance.now();
            if (now - lastLoud >= quietMs) rec.onsets.push(now);
            lastLoud = now;
        }, 4);
        return stream;
    };
    addEventListener('DOMContentLoaded', () => {
        const audio = document.getElementById('tts-audio');
        audio.addEventListener('pause', () => rec.pauses.push({ t: performance.now(), ended: audio.ended }));
        audio.addEventListener('playing', () => rec.playing.push(performance.now()));
    });
}"""

CLIENT_RECORDER = """() => {
    const rec = window.__bench;
    const client = window.__interview.client;
    const interrupt = client.interrupt.bind(client);
    client.interrupt = (index) => { rec.interrupts.push({ index, t: performance.now() }); return interrupt(index); };
    client.on('tts_chunk', (d) => rec.chunks.push({ index: d.index, t: performance.now() }));
    client.on('tts_end', (d) => rec.ends.push({ ...d, t: performance.now() }));
}"""


def missing() -> str | None:
    """What this machine lacks to run the benchmark (None: nothing)."""
    needs = {
        "Chromium": os.path.exists(CHROMIUM),
        "espeak-ng": fake_mic.espeak_available(),
        "Python Playwright": importlib.util.find_spec("playwright") is not None,
        "the socket.io-client bundle (npm ci)": socketio_bundle() is not None,
    }
    absent = [name for name, there in needs.items() if not there]
    return ", ".join(absent) or None


def _wav(folder: Path) -> Path:
    return fake_mic.write(folder / "barge-in.wav", fake_mic.speech(SPEECH), fake_mic.silence(SILENCE_S))


def _one(rec: dict[str, Any], interrupt: dict[str, Any]) -> dict[str, Any] | None:
    """The timings of one barge-in (None when its question was not playing when the speech began)."""
    sent = interrupt["t"]
    onsets = [t for t in rec["onsets"] if t <= sent]
    if not onsets:
        return None
    onset = onsets[-1]
    pauses = [p["t"] for p in rec["pauses"] if onset <= p["t"] <= sent + 50 and not p["ended"]]
    if not pauses:
        return None
    playing = [t for t in rec["playing"] if t <= onset]
    if not playing or any(playing[-1] < p["t"] < onset for p in rec["pauses"]):
        return None
    chunks = [c["t"] for c in rec["chunks"] if c["index"] == interrupt["index"]]
    return {
        "index": interrupt["index"],
        "stopped_ms": min(pauses) - onset,
        "interrupt_ms": sent - onset,
        "last_chunk_ms": (max(chunks) - sent) if chunks else float("nan"),
        "chunks_after": sum(1 for t in chunks if t > sent),
        "into_question_ms": onset - playing[-1],
    }


def measure(count: int) -> dict[str, Any]:
    """``count`` barge-ins in one hands-free interview; their timings (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-barge-in-") as tmp, Vendors() as vendors:
        wav = _wav(Path(tmp))
        vendors.openai.replies.extend([QUESTION] * (count + 10))  # drafts discarded while answers go on take some
        vendors.deepgram.script = [SCRIPT]
        vendors.deepgram.script_bytes_per_word = 1500
        env = {
            **vendors.env,
            "ANSWER_END_SILENCE_MS": "1000",
            "ANSWER_END_NOTICE_MS": "500",
            "INTERRUPTION_MIN_MS": str(INTERRUPTION_MIN_MS),
        }
        server = BenchServer(env=env, cpus=SERVER_CPUS).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *fake_mic.chromium_args(wav)]
                )
                try:
                    rec = _interview(browser, server.url, vendors, count)
                finally:
                    browser.close()
        finally:
            server.close()
    rows = [row for row in (_one(rec, i) for i in rec["interrupts"] if i["index"] >= 2) if row is not None]
    return {"rows": rows, "interrupts": len(rec["interrupts"]), "skipped": len(rec["interrupts"]) - len(rows)}


def _interview(browser: Any, url: str, vendors: Vendors, count: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.add_init_script(script=f"({RECORDER})([{ONSET_LEVEL}, {QUIET_MS}])")
        open_page(page, url)
        page.evaluate(CLIENT_RECORDER)
        start(page, language="en", mode="voice", questions=count + 1)
        page.wait_for_function("() => document.getElementById('tts-audio').ended")  # question 1, short, heard
        vendors.elevenlabs.audio_repeat = 12  # the next questions: about 8 s of audio each
        vendors.elevenlabs.chunk_size = CHUNK_BYTES
        vendors.elevenlabs.chunk_delay = CHUNK_S * 0.94  # streamed a little faster than it plays, as vendors do
        # Hands-free (the form's default): the microphone opened by itself once question 1 was played, and
        # stays on from here; nothing is pressed.
        wait_hook(page, "s.mic === 'recording' || s.micStatus === 'listening' || s.micStatus === 'recording'")
        last = count + 1
        wait_hook(page, f"s.bargeIns >= {count}", timeout=20_000 + 8_000 * count)
        page.wait_for_function(f"() => window.__bench.ends.some(e => e.index === {last})", timeout=20_000)
        return page.evaluate("window.__bench")
    finally:
        context.close()


def summary(rows: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """``{measure: (p50, max)}`` in ms over the counted barge-ins."""
    out = {}
    for key in ("stopped_ms", "interrupt_ms", "last_chunk_ms", "chunks_after", "into_question_ms"):
        values = [r[key] for r in rows]
        out[key] = (statistics.median(values), max(values)) if values else (float("nan"), float("nan"))
    return out
