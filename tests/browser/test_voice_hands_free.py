"""Hands-free voice in headless Chromium with the fake microphone (espeak-ng WAV, played in a loop).

After the Start click the interview runs by itself: the microphone opens once question 1 has
been played (nothing is pressed; tests/browser/test_voice_first_word.py times it), the server ends each answer
after its pause (the scripted fake Deepgram stops hearing new words), the page keeps the
microphone open, and the candidate's voice over the next question stops its playback at once
(the page's own voice-activity check), the server drops the rest of that question's audio
(``tts_end`` with ``interrupted: true``), and the words spoken over it are the answer.
"""

from __future__ import annotations

import pytest

from sio_server.devtools.browser.helpers import conversation, hook, open_page, start, wait_feedback, wait_hook
from tests.browser.test_voice_page import RECORD, SPOKEN, mic_browser, mic_page, speech_wav, vendors  # noqa: F401

QUESTIONS = [
    "Tell me about a project you are proud of.",
    (
        "How do you handle disagreement in a team? Walk me through a real example from start to end. "
        "Tell me what each side wanted, what you proposed first, what you changed after listening, "
        "and how the decision held up a few months later."
    ),
]
# The scripted fake hears a word per 1500 bytes of audio: a long second answer is still being spoken
# when the candidate talks over question 2 (so words follow the interruption: a real one).
ANSWERS = [
    SPOKEN[0],
    (
        "I listen first and ask each side what they need. Then we agree on a small experiment with a clear "
        "measure of success, we run it for two weeks, and we look at the numbers together before deciding."
    ),
]


@pytest.fixture
def hands_free_server(server_factory, vendors):  # noqa: F811
    vendors.openai.replies.extend(QUESTIONS)
    vendors.deepgram.script = ANSWERS
    vendors.deepgram.script_bytes_per_word = 1500
    return server_factory(env=vendors.env).start()


@pytest.mark.timeout(240)
def test_a_hands_free_interview_with_a_barge_in(hands_free_server, vendors, mic_page):  # noqa: F811
    page = mic_page
    open_page(page, hands_free_server.url)
    page.evaluate(RECORD)
    start(page, language="en", mode="voice", questions=2)
    assert "Hands-free" in page.inner_text("#turn-mode")
    wait_hook(page, "s.ttsEnded >= 1", timeout=20_000)
    vendors.elevenlabs.chunk_size = 128
    vendors.elevenlabs.chunk_delay = 0.1  # question 2's audio streams for a few seconds

    wait_hook(page, "s.mic === 'recording'", timeout=20_000)  # question 1 was heard: the microphone opened
    assert page.evaluate("document.getElementById('tts-audio').ended")
    wait_hook(page, "s.answers['1'] !== undefined", timeout=40_000)
    assert hook(page, "s.bargeIns") == 0
    assert hook(page, "s.answers['1']") == SPOKEN[0]
    assert hook(page, "s.handsFree") is True

    # Question 2 plays into the open microphone: the candidate's voice stops it.
    wait_hook(page, "s.bargeIns >= 1", timeout=30_000)
    assert page.evaluate("document.getElementById('tts-audio').paused")
    page.wait_for_function("() => window.__rec.ttsEnds.some(e => e.index === 2)", timeout=20_000)
    end = page.evaluate("window.__rec.ttsEnds.find(e => e.index === 2)")
    assert end["interrupted"] is True and end["ok"] is False, end
    assert page.evaluate("window.__rec.ttsChunks[2]") == end["chunks"]
    assert end["chunks"] < len(vendors.elevenlabs.requests[-1].text), "the rest of the question was never sent"

    feedback = wait_feedback(page)  # answer 2 ended by itself too
    assert [q["index"] for q in feedback["per_question"]] == [1, 2]
    assert conversation(page) == [("q", QUESTIONS[0]), ("a", ANSWERS[0]), ("q", QUESTIONS[1]), ("a", ANSWERS[1])]
    done_presses = [c for c in vendors.deepgram.connections if c.closed_by_client_stream]
    assert len(done_presses) == 2  # both answers were finalized by the server (Finalize, CloseStream)
