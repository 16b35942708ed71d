"""A voice interview in headless Chromium: the fake microphone plays a WAV (espeak-ng), MediaRecorder's
WebM chunks reach the real server and through it the fake Deepgram, transcripts show up on the page, the
transcript becomes the answer, and the questions' TTS chunks are received and played (page state)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import (
    conversation,
    fill_form,
    hook,
    open_page,
    start,
    wait_feedback,
    wait_hook,
)
from sio_server.devtools.browser.vendors import Vendors
from sio_server.devtools.fakes.fake_elevenlabs import silent_mp3_for
from tests.browser.a11y import contrast
from tests.browser.conftest import launch_chromium, new_page
from tests.support.services import need

EBML_MAGIC = bytes.fromhex("1a45dfa3")  # a WebM (Matroska) file starts with an EBML header
MAX_KBIT_PER_S = 40  # speech-sized Opus (the page asks MediaRecorder for 24 kbit/s; its default was ~106)
SPOKEN_CHUNKS = 20  # 250 ms chunks recorded per answer: 5 s of speech, enough to measure the bitrate
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
    need("espeak-ng", fake_mic.espeak_available())
    return fake_mic.write(tmp_path_factory.mktemp("voice") / "answer.wav", fake_mic.speech(SPEECH))


@pytest.fixture(scope="module")
def mic_browser(speech_wav: Path) -> Iterator[object]:
    """Headless Chromium whose (auto-granted) microphone plays ``speech_wav``."""
    yield from launch_chromium(fake_mic.chromium_args(speech_wav))


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
    # These tests end answers with the button or the time limit; a pause must not end them first
    # (the hands-free end is tested in tests/integration/test_voice_turns.py).
    return server_factory(env={**vendors.env, "ANSWER_END_SILENCE_MS": "30000"}).start()


@pytest.fixture
def mic_page(mic_browser) -> Iterator[object]:
    yield from new_page(mic_browser)


RECORD = """() => {
    // What the adapter delivered to the page, per event (the page's own state only counts).
    const rec = { transcripts: [], ttsBytes: {}, ttsChunks: {}, ttsEnds: [] };
    const client = window.__interview.client;
    client.on('transcript', (d) => rec.transcripts.push({ text: d.text, is_final: d.is_final }));
    client.on('tts_chunk', (d) => {
        rec.ttsChunks[d.index] = (rec.ttsChunks[d.index] || 0) + 1;
        rec.ttsBytes[d.index] = (rec.ttsBytes[d.index] || 0) + (d.audio.byteLength ?? d.audio.size ?? 0);
    });
    client.on('tts_end', (d) => rec.ttsEnds.push(d));
    window.__rec = rec;
}"""

AUDIO_STATE = """() => {
    const a = document.getElementById('tts-audio');
    return { time: a.currentTime, error: a.error ? a.error.code : null, message: a.error ? a.error.message : '' };
}"""


def question_audio_is_received_and_queued(page, vendors: Vendors, index: int) -> None:
    """Question ``index``'s TTS: every chunk the server streamed reached the page and was appended for playback."""
    wait_hook(page, f"s.ttsEnded >= {index} && s.ttsChunksPlayed === s.ttsChunksReceived")
    end = page.evaluate(f"window.__rec.ttsEnds.find(e => e.index === {index})")
    assert end and end["ok"] is True and end["chunks"] > 0, end
    assert page.evaluate(f"window.__rec.ttsChunks[{index}]") == end["chunks"]
    # The bytes are the vendor's audio for the question's sentences, nothing lost on the way.
    sentences = [r.text.strip() for r in vendors.elevenlabs.requests if r.text.strip() in QUESTIONS[index - 1]]
    assert " ".join(sentences) == QUESTIONS[index - 1]
    expected = sum(len(silent_mp3_for(text)) for text in sentences)
    assert page.evaluate(f"window.__rec.ttsBytes[{index}]") == expected
    assert hook(page, "s.ttsMode") == "mse"
    # The fake speaks decodable (silent) MP3: the element really plays it through the MediaSource.
    page.wait_for_function(
        "() => document.getElementById('tts-audio').currentTime > 0.2 || document.getElementById('tts-audio').error"
    )
    audio = page.evaluate(AUDIO_STATE)
    assert audio["error"] is None and audio["time"] > 0.2, audio


def speak_answer(page, vendors: Vendors, index: int) -> None:
    """Answer question ``index`` through the microphone: record, see the live transcript, press done."""
    sent_before = hook(page, "s.audioChunksSent")
    # Push-to-talk: nothing listens by itself, and "Done answering" waits for words (its reason is said).
    assert hook(page, "s.mic") == "off" and page.is_disabled("#done-btn")
    assert page.inner_text("#done-hint") == "“Done answering” becomes available once your words are heard."
    assert page.get_attribute("#done-btn", "aria-describedby") == "done-hint"
    disabled = contrast(page, "#done-btn")  # still readable: WCAG AA, not a faded copy
    assert disabled["ratio"] >= 4.5 and disabled["opacity"] == 1, disabled
    page.click("#mic-btn")
    wait_hook(page, "s.mic === 'recording'")
    started_ms = page.evaluate("performance.now()")
    assert page.get_attribute("#mic-btn", "aria-pressed") == "true"
    # The fake microphone really plays the WAV: the level meter moves.
    page.wait_for_function("() => Number(document.getElementById('mic-meter').getAttribute('aria-valuenow')) > 0")
    # Deepgram's interim results show up live while the candidate speaks.
    page.wait_for_function("() => document.getElementById('transcript-partial').textContent.trim().length > 0")
    partial = page.inner_text("#transcript-partial").strip()
    assert partial in SPOKEN[index - 1], partial  # the words after the last final result
    wait_hook(page, f"s.audioChunksSent - {sent_before} >= {SPOKEN_CHUNKS}")
    recorded_s = (page.evaluate("performance.now()") - started_ms) / 1000
    page.click("#done-btn")
    wait_hook(page, f"s.answers['{index}'] !== undefined && s.mic === 'off'")
    assert hook(page, f"s.answers['{index}']") == SPOKEN[index - 1]
    # The server got MediaRecorder's WebM chunks, one binary frame each, and sent them on as they were.
    conn = vendors.deepgram.connections[index - 1]
    sent = hook(page, "s.audioChunksSent") - sent_before
    assert sent >= 2 and conn.frames == sent, (sent, conn.frames)
    assert bytes(conn.audio[:4]) == EBML_MAGIC, bytes(conn.audio[:16]).hex()
    # Speech-sized: the bytes the server received (and passed on) over the seconds recorded.
    kbit_per_s = len(conn.audio) * 8 / recorded_s / 1000
    print(f"answer {index}: {len(conn.audio)} bytes of Opus/WebM in {recorded_s:.2f} s = {kbit_per_s:.1f} kbit/s")
    assert 8 < kbit_per_s <= MAX_KBIT_PER_S, (len(conn.audio), recorded_s)
    assert "encoding" not in conn.query and "sample_rate" not in conn.query  # WebM: Deepgram reads the header
    assert conn.query["language"] == "en" and conn.query["interim_results"] == "true"
    assert [t["type"] for t in conn.texts if t["type"] != "KeepAlive"] == ["Finalize", "CloseStream"]


def test_voice_interview_with_the_fake_microphone(voice_server, vendors, mic_page):
    page = mic_page
    open_page(page, voice_server.url)
    page.evaluate(RECORD)
    start(page, language="en", mode="voice", questions=2, turn="manual")
    assert hook(page, "s.mode") == "voice"  # the start ack: STT and TTS are configured
    assert hook(page, "s.turnDetection") == "manual" and hook(page, "s.handsFree") is False
    assert page.is_visible("#voice-controls") and page.is_hidden("#mode-notice")

    question_audio_is_received_and_queued(page, vendors, 1)
    speak_answer(page, vendors, 1)

    wait_hook(page, "s.currentIndex === 2")
    question_audio_is_received_and_queued(page, vendors, 2)
    speak_answer(page, vendors, 2)

    feedback = wait_feedback(page)
    assert [q["index"] for q in feedback["per_question"]] == [1, 2]
    assert conversation(page) == [("q", QUESTIONS[0]), ("a", SPOKEN[0]), ("q", QUESTIONS[1]), ("a", SPOKEN[1])]
    transcripts = page.evaluate("window.__rec.transcripts")
    assert any(not t["is_final"] for t in transcripts) and any(t["is_final"] for t in transcripts)
    assert " ".join(t["text"] for t in transcripts if t["is_final"]) == " ".join(SPOKEN)
    assert len(vendors.deepgram.connections) == 2  # one stream per answer
    assert hook(page, "s.ttsChunksReceived") == sum(e["chunks"] for e in page.evaluate("window.__rec.ttsEnds"))


@pytest.mark.timeout(240)
def test_time_limit_ends_a_spoken_answer(voice_server, vendors, mic_page):
    """At zero the page ends the spoken answer as "Done answering" would: the last chunk, then answer_end."""
    page = mic_page
    open_page(page, voice_server.url)
    fill_form(page, language="en", mode="voice", questions=1, turn="manual")
    page.select_option("#answer_time_limit_s", "30")
    page.click("#start-btn")
    wait_hook(page, "s.view === 'interview' && s.currentIndex === 1 && s.mode === 'voice'")
    assert page.is_visible("#countdown")
    page.click("#mic-btn")
    wait_hook(page, "s.mic === 'recording'")
    wait_hook(page, "s.answers['1'] !== undefined && s.mic === 'off'", timeout=45_000)
    assert hook(page, "s.expired") == [1]
    assert hook(page, "s.answers['1']") == SPOKEN[0]
    conn = vendors.deepgram.connections[0]
    assert [t["type"] for t in conn.texts if t["type"] != "KeepAlive"] == ["Finalize", "CloseStream"]
    assert conn.frames == hook(page, "s.audioChunksSent") > 0
    wait_feedback(page)


SPOKEN_WITH_FILLERS = [
    # The fake hears these as the candidate's words; at 15 characters a second a run of 30 spaces is a 2 s pause.
    "Um, I owned the payment service." + " " * 30 + "Like, we cut latency by forty percent, you know, in a month.",
    "Uh, I listen first, then we agree on a small experiment, measure it for two weeks and decide together.",
]


def test_feedback_shows_how_each_spoken_answer_was_said(voice_server, vendors, mic_page):
    """Rate, fillers and the longest pause of each spoken answer, from the fake Deepgram's word timings."""
    page = mic_page
    vendors.deepgram.script = SPOKEN_WITH_FILLERS
    vendors.deepgram.bytes_per_second = 15  # the script's text offsets become speech-like times
    open_page(page, voice_server.url)
    start(page, language="en", mode="voice", questions=2, turn="manual")
    for index in (1, 2):
        wait_hook(page, f"s.currentIndex === {index}")
        page.click("#mic-btn")
        wait_hook(page, "s.speechHeard")  # words heard: "Done answering" is enabled; Finalize flushes the rest
        page.click("#done-btn")
        wait_hook(page, f"s.answers['{index}'] !== undefined && s.mic === 'off'")
    feedback = wait_feedback(page)
    for item in feedback["per_question"]:
        spoken = item["speaking"]
        assert spoken is not None, item
        assert spoken["timed"] is True and spoken["unit"] == "words" and spoken["rate_per_min"] > 0, spoken
        figures = page.eval_on_selector_all(
            f".pq[data-index='{item['index']}'] .speaking-figure",
            "items => Object.fromEntries(items.map(li => [li.dataset.figure, li.textContent]))",
        )
        assert figures["rate"] == f"{round(spoken['rate_per_min'])} words a minute"
        heard = ", ".join(f"{w} ×{n}" for w, n in list(spoken["fillers_heard"].items())[:3])
        assert figures["fillers"] == f"{spoken['fillers_per_min']:g} fillers a minute ({heard})"
        assert figures["pause"] == f"longest pause {spoken['longest_pause_s']:g} s"
        assert figures["talk"] == f"talked {round(spoken['talk_s'])} s"
    first, second = (item["speaking"] for item in feedback["per_question"])
    assert first["fillers_heard"] == {"um": 1, "like": 1, "you know": 1} and second["fillers_heard"] == {"uh": 1}
    assert 2.0 <= first["longest_pause_s"] <= 2.3 and second["longest_pause_s"] < 1.0
    shown = page.eval_on_selector_all(".pq[data-index='1'] .speaking-hints li", "items => items.map(li => li.textContent)")
    assert shown == first["hints"]  # the server's hints, in the interview's language
    overall = page.eval_on_selector_all("#speaking .speaking-figure", "items => items.map(li => li.dataset.figure)")
    assert overall == ["answers", "rate", "fillers", "pause", "talk"] and page.is_visible("#speaking-block")
    shoot(page, "feedback-voice-en.png")


def shoot(page, name: str) -> None:
    """A full-page screenshot: into docs/screenshots with ``UPDATE_SCREENSHOTS=1`` (checked for size), else none."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / name
    page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="initial")
    assert path.stat().st_size > 10_000, f"{name} looks blank"
