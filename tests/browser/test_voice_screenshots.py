"""Screenshots of the hands-free microphone's states (listening, recording, paused), like test_screenshots.py.

A module of its own: its Chromium plays a fake microphone (a launch option), and a
module's shared ``browser`` (another Playwright) cannot run beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import fill_form, open_page, wait_hook
from tests.browser.conftest import spoken_page
from tests.browser.test_screenshots import FORMS, out, shot  # noqa: F401 (out is a fixture)
from tests.browser.test_voice_page import vendors  # noqa: F401 (fixture)

VOICE_QUESTION = "Tell me about a project you are proud of. What did you own, and what changed because of it?"
VOICE_ANSWER = "I owned the payment service and cut its latency by forty percent with a cache and an index."


@pytest.fixture
def voice_page(tmp_path: Path) -> Iterator[object]:
    """The fake microphone: 4 s of silence (the page listens), the answer, then silence."""
    yield from spoken_page(tmp_path / "voice.wav", fake_mic.silence(4), fake_mic.speech(VOICE_ANSWER), fake_mic.silence(30))


def test_voice_state_screenshots(server_factory, vendors, voice_page, out):  # noqa: F811
    vendors.openai.replies.append(VOICE_QUESTION)
    vendors.deepgram.script = [VOICE_ANSWER]
    vendors.deepgram.script_bytes_per_word = 700  # words with the speech (silence is cheap Opus)
    server = server_factory(env={**vendors.env, "ANSWER_END_SILENCE_MS": "30000"}).start()
    page = voice_page
    open_page(page, server.url)
    fill_form(page, language="en", mode="voice", questions=3, **FORMS["en"])
    page.click("#start-btn")
    wait_hook(page, "s.currentIndex === 1 && s.micStatus === 'listening'", timeout=30_000)
    shot(page, out, "voice-listening-en.png")
    wait_hook(page, "s.micStatus === 'recording' && s.micLevel > 0", timeout=20_000)
    wait_hook(page, "document.getElementById('transcript').textContent.trim().split(/\\s+/).length >= 8", timeout=20_000)
    shot(page, out, "voice-recording-en.png")
    page.click("#mic-btn")
    wait_hook(page, "s.mic === 'paused'")
    shot(page, out, "voice-paused-en.png")
