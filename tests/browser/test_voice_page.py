"""A voice interview in headless Chromium: the fake microphone plays a WAV (espeak-ng), MediaRecorder's
WebM chunks reach the real server and through it the fake Deepgram, transcripts show up on the page, the
transcript becomes the answer, and the questions' TTS chunks are received and played (page state)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.pages import socketio_bundle
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.helpers import conversation, hook, open_page, start, wait_feedback, wait_hook
from tests.browser.vendors import Vendors
from tests.support.services import need

EBML_MAGIC = bytes.fromhex("1a45dfa3")  # a WebM (Matroska) file starts with an EBML header
QUESTIONS = [
    "Tell me about a project you are proud of. What did you own?",
    "How do you handle disagreement in a team?",
]
SPOKEN = [
    "I owned the payment service and cut latency by forty percent.",
    "I listen first, then we agree on a small experiment.",
]
SPEECH = "I owned the payment service and cut latency by forty percent. I listen first."


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake microphone's input: espeak-ng's 16-bit PCM WAV of an answer."""
    need("espeak-ng", shutil.which("espeak-ng") is not None)
    wav = tmp_path_factory.mktemp("voice") / "answer.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "170", "-w", str(wav), SPEECH], check=True, timeout=30)
    assert wav.stat().st_size > 44
    return wav


@pytest.fixture(scope="module")
def mic_browser(speech_wav: Path) -> Iterator[object]:
    """Headless Chromium whose (auto-granted) microphone plays ``speech_wav``."""
    need("Chromium", os.path.exists(CHROMIUM))
    need("socket.io-client bundle (npm ci)", socketio_bundle() is not None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        need("Python Playwright (pip install playwright)", False)
        raise
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def vendors() -> Iterator[Vendors]:
    with Vendors() as v:
        yield v


@pytest.fixture
def voice_server(server_factory, vendors: Vendors):
    vendors.openai.replies.extend(QUESTIONS)
    vendors.deepgram.script = SPOKEN
    # Opus at Chromium's default bitrate gives a few kB per 250 ms chunk: a word every ~half second.
    vendors.deepgram.script_bytes_per_word = 1500
    return server_factory(env=vendors.env).start()


@pytest.fixture
def mic_page(mic_browser) -> Iterator[object]:
    context = mic_browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: print("console:", msg.type, msg.text))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_voice_interview_with_the_fake_microphone(voice_server, vendors, mic_page):
    page = mic_page
    open_page(page, voice_server.url)
    page.evaluate(
        """() => {
        window.__ttsEnds = [];
        window.__interview.client.on('tts_end', (d) => window.__ttsEnds.push(d));
    }"""
    )
    start(page, language="en", mode="voice", questions=2)
    assert hook(page, "s.mode") == "voice"
    print(hook(page, "({r: s.ttsChunksReceived, p: s.ttsChunksPlayed, e: s.ttsEnded, m: s.ttsMode})"))
    wait_hook(page, "s.ttsEnded >= 1")
    print(hook(page, "({r: s.ttsChunksReceived, p: s.ttsChunksPlayed, e: s.ttsEnded, m: s.ttsMode})"))
    print(page.evaluate("window.__ttsEnds"))
    page.wait_for_timeout(1000)
    print(page.evaluate("(() => { const a = document.getElementById('tts-audio'); return {t: a.currentTime, e: a.error && a.error.message, p: a.paused}; })()"))
    page.click("#mic-btn")
    wait_hook(page, "s.mic === 'recording'")
    page.wait_for_function("() => document.getElementById('transcript-partial').textContent.length > 0")
    print(page.inner_text("#transcript"))
    page.click("#done-btn")
    wait_hook(page, "s.answers['1'] !== undefined")
    print(conversation(page))
    c = vendors.deepgram.connections[0]
    print(c.query, bytes(c.audio[:8]).hex(), c.frames, len(c.audio), c.texts)
