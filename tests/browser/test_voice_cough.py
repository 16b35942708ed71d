"""A cough over a question in hands-free mode: playback pauses, resumes where it stopped, the answer is only the words.

The page's voice-activity check (``microphone.js``) pauses a question the moment
it hears sound over it, before it can know whether that is speech: a burst
shorter than ``INTERRUPTION_MIN_MS`` (500 ms) is a noise, so playback resumes
where it paused once the sound stops, no ``interrupt`` is sent (the server never
hears of it: no ``tts_resumed``), the question's audio plays to its end and
``tts_end`` is not interrupted. The burst still starts the answer's recording
(sound while the microphone listens belongs to the answer, in case it was the
first syllable).

The fake microphone plays one WAV from the moment the microphone is switched on
(by itself, once question 1 has been played): answer 1 (espeak-ng, 5 s), then silence, with
two 200 ms cough-like bursts 5 s apart. Question 2 is made long (8 s of audio),
so whenever it starts between about 3 s and 16 s into the file (answer 1 ends
by itself about 2.5 s after its last word, near 8 s) a burst falls inside its
playback, which the test checks from the page's own state first.

The fake Deepgram cannot decode Opus: it "hears" its script at a fixed rate of
audio bytes, noise included. So "the burst adds no words" is checked as far as
the fakes allow: the answer is exactly the candidate's words, on one STT stream
per answer that received every audio chunk the page sent (nothing lost,
repeated or added by the burst's path through the page and the server).
``ANSWER_MIN_WORDS=8`` keeps the words the fake counts for the bursts' bytes
(about two per burst) from ending answer 2 by themselves while question 2 plays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import conversation, hook, open_page, start, wait_feedback, wait_hook
from tests.browser.conftest import launch_chromium, new_page
from tests.browser.test_voice_page import vendors  # noqa: F401 (fixture)
from tests.support.services import need

QUESTIONS = [
    "Tell me about a project you are proud of.",
    "How do you decide what to build first when the deadline is fixed and the scope keeps growing every week?",
]
ANSWERS = [
    "I owned the payment service and cut its latency by forty percent with a cache and an index.",
    "I cut the scope to what the first customers needed and shipped that on time.",
]
BURSTS_AT = (11.0, 16.0)  # seconds into the fake microphone's file
BURST_S = 0.2

RECORD = """() => {
    // Page facts the test asserts on: the question audio's pauses and end, server events.
    const s = window.__interview;
    const audio = document.getElementById('tts-audio');
    const rec = { pauses: [], ends: [], resumed: [], ttsEnds: [] };
    audio.addEventListener('pause', () => rec.pauses.push({ index: s.currentIndex, ended: audio.ended, time: audio.currentTime }));
    audio.addEventListener('ended', () => rec.ends.push({ index: s.currentIndex, time: audio.currentTime, duration: audio.duration }));
    s.client.on('tts_resumed', (d) => rec.resumed.push(d));
    s.client.on('tts_end', (d) => rec.ttsEnds.push(d));
    window.__rec = rec;
}"""


@pytest.fixture(scope="module")
def cough_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Answer 1, then silence with a cough-like burst at each of ``BURSTS_AT``, then a long silence."""
    need("espeak-ng", fake_mic.espeak_available())
    parts = [fake_mic.speech(ANSWERS[0])]
    for at in BURSTS_AT:
        parts += [fake_mic.silence(at - fake_mic.seconds_of(b"".join(parts))), fake_mic.burst(BURST_S)]
    parts.append(fake_mic.silence(20))
    return fake_mic.write(tmp_path_factory.mktemp("cough") / "cough.wav", *parts)


@pytest.fixture(scope="module")
def cough_page_browser(cough_wav: Path) -> Iterator[object]:
    yield from launch_chromium(fake_mic.chromium_args(cough_wav))


@pytest.fixture
def cough_page(cough_page_browser) -> Iterator[object]:
    yield from new_page(cough_page_browser)


@pytest.fixture
def cough_server(server_factory, vendors):  # noqa: F811
    # Question 2 more than once: drafts of it are written and discarded while answer 1 goes on.
    vendors.openai.replies.extend([QUESTIONS[0], *[QUESTIONS[1]] * 5])
    vendors.deepgram.script = ANSWERS
    vendors.deepgram.script_bytes_per_word = 1000  # speech-sized Opus: about 3.4 kB/s of speech, 2 kB a burst
    return server_factory(env={**vendors.env, "ANSWER_MIN_WORDS": "8"}).start()


@pytest.mark.timeout(240)
def test_a_cough_over_the_question_pauses_it_then_it_plays_on_and_adds_no_words(cough_server, vendors, cough_page):  # noqa: F811
    page = cough_page
    open_page(page, cough_server.url)
    page.evaluate(RECORD)
    start(page, language="en", mode="voice", questions=2)
    page.wait_for_function("() => document.getElementById('tts-audio').ended", timeout=20_000)  # question 1 was heard
    vendors.elevenlabs.audio_repeat = 12  # question 2: about 8 s of audio

    # No press: the microphone opened by itself once question 1 was played, and the file started.
    wait_hook(page, "s.answers['1'] !== undefined && s.mic === 'listening'", timeout=40_000)
    assert hook(page, "s.answers['1']") == ANSWERS[0] and hook(page, "s.handsFree") is True
    sent_for_answer_1 = hook(page, "s.audioChunksSent")

    # A burst falls inside question 2's playback: the page paused the question the moment it heard it.
    wait_hook(page, "s.ttsHolds >= 1", timeout=30_000)
    assert hook(page, "s.mic") == "recording", "the sound started the answer's recording"
    page.wait_for_function("() => window.__rec.ends.some(e => e.index === 2)", timeout=30_000)

    rec = page.evaluate("window.__rec")
    assert hook(page, "s.bargeIns") == 0
    held = [p for p in rec["pauses"] if p["index"] == 2 and not p["ended"]]
    assert held, "the sound paused the question at once"
    assert hook(page, "s.noiseResumes") == hook(page, "s.ttsHolds") >= 1, "and it played on once the burst stopped"
    end_of_audio = next(e for e in rec["ends"] if e["index"] == 2)
    assert end_of_audio["time"] == pytest.approx(end_of_audio["duration"], abs=0.05) and end_of_audio["time"] > 6
    tts_end = next(e for e in rec["ttsEnds"] if e["index"] == 2)
    assert tts_end["ok"] is True and "interrupted" not in tts_end, tts_end
    assert rec["resumed"] == []
    assert hook(page, "s.ttsChunksPlayed === s.ttsChunksReceived")
    assert hook(page, "s.answers['2']") is None, "the bursts did not end the answer"

    page.click("#done-btn")  # the candidate has said everything (the override of hands-free mode)
    wait_hook(page, "s.answers['2'] !== undefined")
    assert hook(page, "s.answers['2']") == ANSWERS[1]
    wait_feedback(page)
    assert conversation(page) == [("q", QUESTIONS[0]), ("a", ANSWERS[0]), ("q", QUESTIONS[1]), ("a", ANSWERS[1])]
    assert len(vendors.deepgram.connections) == 2  # one STT stream per answer
    answer_2 = vendors.deepgram.connections[1]
    assert answer_2.frames == hook(page, "s.audioChunksSent") - sent_for_answer_1 > 0
