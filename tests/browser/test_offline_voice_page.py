"""No key, the [offline-stt] extra installed: an English voice interview end to end in Chromium.

The fake microphone plays recorded speech (espeak-ng's Klatt voice, which pocketsphinx recognises best); the
page captures 16 kHz PCM16 because the capabilities ask for it, pocketsphinx transcribes it in its decoder
process, the server's VAD ends the answer after the pause, and espeak-ng speaks the questions. Nothing is
clicked after Start. The server's event loop stays free meanwhile (``/healthz`` probed every 20 ms).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import hook, open_page, start, wait_hook
from sio_server.devtools.speech16k import VOICE, words_recognised
from sio_server.vendors.espeak_tts import synthesize
from sio_server.vendors.pocketsphinx_stt import installed
from tests.browser.conftest import spoken_page
from tests.support.health_probe import HealthProbe

pytestmark = [
    pytest.mark.alone,  # it measures the server's event loop: nothing else of the suite beside it
    pytest.mark.skipif(not installed(), reason="pocketsphinx (the [offline-stt] extra) is not installed"),
]

ANSWER = "I built the billing service and cut the response time in half with a cache."


@pytest.fixture
def offline_page(tmp_path: Path) -> Iterator[object]:
    """A page whose fake microphone plays a pause, the recorded answer, then a long pause."""
    rate, pcm = synthesize(ANSWER, VOICE)
    assert rate == fake_mic.RATE
    yield from spoken_page(tmp_path / "answer.wav", fake_mic.silence(1.5), pcm, fake_mic.silence(8.0))


@pytest.mark.timeout(240)
def test_an_english_voice_interview_with_no_key_is_transcribed_offline(server_factory, offline_page) -> None:
    server = server_factory({"OFFLINE_STT": "true"}).start()
    page = offline_page
    open_page(page, server.url)
    page.wait_for_function("() => document.getElementById('mode-voice') && !document.getElementById('mode-voice').disabled")
    assert "rough" in page.inner_text("#capability-notice").lower(), "the page says the transcript is rough"
    with HealthProbe(server.port) as probe:
        start(page, language="en", mode="voice", questions=2)
        assert hook(page, "s.audioFormat") == "linear16" and hook(page, "s.turnDetection") == "auto"
        wait_hook(page, "s.ttsEnded >= 1", timeout=30_000)  # espeak-ng spoke question 1
        wait_hook(page, "s.answers['1'] !== undefined", timeout=60_000)  # nothing pressed: the pause ended it
    answer = hook(page, "s.answers['1']")
    # A rough transcript (pocketsphinx's word error rate is 0.32-0.38 on read human speech); through Chromium's
    # capture and resampling 0.47-0.8 of these words were recognised in order: most of the answer, not noise.
    assert words_recognised(ANSWER, answer) >= 0.35, answer
    wait_hook(page, "s.currentIndex === 2", timeout=30_000)
    assert "pocketsphinx" not in Path(f"/proc/{server.pid}/maps").read_text(), "decoded in its own process"
    assert len(probe.latencies) > 100 and probe.share_over(0.05) <= 0.01, sorted(probe.latencies)[-5:]
