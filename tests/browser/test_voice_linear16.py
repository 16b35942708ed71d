"""Hands-free with one OpenAI key in headless Chromium: the page captures 16 kHz PCM16 with its AudioWorklet
because the server asks for it, the fake OpenAI realtime socket gets it (at 24 kHz, resampled by the server)
and transcribes live, and the server's VAD ends the answer after the fake microphone's pause."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import hook, open_page, start, wait_hook
from sio_server.devtools.fakes.fake_elevenlabs import silent_mp3_for
from tests.browser.conftest import spoken_page
from tests.browser.test_voice_page import vendors  # noqa: F401 (fixture)

ANSWER = "I owned the payment service and cut latency by forty percent."


@pytest.fixture
def pcm_page(tmp_path: Path) -> Iterator[object]:
    """A page whose fake microphone plays the answer, then a long pause (the WAV plays in a loop)."""
    yield from spoken_page(tmp_path / "answer.wav", fake_mic.speech(ANSWER), fake_mic.silence(8.0))


@pytest.mark.timeout(180)
def test_one_key_the_page_sends_linear16_and_the_answer_ends_by_itself(server_factory, vendors, pcm_page) -> None:  # noqa: F811
    vendors.openai.realtime.segments.append(ANSWER)
    vendors.openai.speech.audio_factory = silent_mp3_for  # OpenAI speaks the question: decodable, really played
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": vendors.openai.url, "ELEVENLABS_API_KEY": "", "DEEPGRAM_API_KEY": ""}
    server = server_factory(env=env).start()
    page = pcm_page
    open_page(page, server.url)
    page.wait_for_function("() => document.getElementById('mode-voice') && !document.getElementById('mode-voice').disabled")
    start(page, language="en", mode="voice", questions=1)
    assert hook(page, "s.audioFormat") == "linear16" and hook(page, "s.turnDetection") == "auto"
    assert "Hands-free" in page.inner_text("#turn-mode")
    wait_hook(page, "s.mic === 'recording'", timeout=30_000)
    wait_hook(page, "s.answers['1'] !== undefined", timeout=40_000)  # nothing pressed: the pause ended it
    assert hook(page, "s.answers['1']") == ANSWER
    conn = vendors.openai.realtime.connections[0]
    assert conn.updates[0]["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    # one append per page chunk: 100 ms of 16 kHz PCM16 (3,200 bytes) is 4,800 bytes at 24 kHz
    assert conn.appends > 10 and 4700 <= conn.appended / conn.appends <= 4900, (conn.appends, conn.appended)
    assert not vendors.openai.transcriptions.requests
