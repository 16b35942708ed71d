"""Hands-free from the first word, with the form's defaults (voice, hands-free) and every vendor (fakes).

After the Start click nothing is clicked: once question 1's audio has been played the page
opens the microphone by itself (the click gave it the user gesture, the fake UI grants the
permission), shows and announces that it is listening, and the candidate's words reach the live
transcript within 2 s of the end of the question's audio; a pause of ``ANSWER_END_SILENCE_MS``
after the last word ends the answer. After a reload the page listens again by itself (the open
question's audio is not sent again, so it counts as played).

The fake microphone plays the answer, then silence (so no sound falls over question 2). The fake
Deepgram hears its script at a fixed rate of audio bytes (it cannot decode Opus).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import hook, open_page, wait_hook
from tests.browser.conftest import spoken_page
from tests.browser.test_voice_page import vendors  # noqa: F401 (fixture)

QUESTIONS = ["Tell me about a project you are proud of.", "How do you handle disagreement in a team?"]
ANSWERS = [
    "I owned the payment service and cut latency by forty percent.",
    "I listen first, then we agree on a small experiment.",
]
SILENCE_MS = 2500  # the server's default ANSWER_END_SILENCE_MS, said explicitly

RECORD = """() => {
    // When things happened on the page (performance.now()), from its own elements and events.
    const s = window.__interview;
    const rec = { audioEnded: [], firstWords: null, statuses: [], transcripts: [], ended: [] };
    document.getElementById('tts-audio').addEventListener('ended', () => rec.audioEnded.push({ index: s.currentIndex, at: performance.now() }));
    const box = document.getElementById('transcript');
    new MutationObserver(() => {
        if (rec.firstWords === null && box.textContent.trim()) rec.firstWords = performance.now();
    }).observe(box, { childList: true, subtree: true, characterData: true });
    const status = document.getElementById('mic-status');
    const seen = () => { if (rec.statuses[rec.statuses.length - 1] !== status.dataset.state) rec.statuses.push(status.dataset.state); };
    new MutationObserver(seen).observe(status, { attributes: true, attributeFilter: ['data-state'] });
    seen();
    s.client.on('transcript', (d) => rec.transcripts.push({ text: d.text, at: performance.now() }));
    s.client.on('answer_ended', (d) => rec.ended.push({ index: d.index, reason: d.reason, at: performance.now() }));
    window.__clicks = 0;
    document.addEventListener('click', () => { window.__clicks += 1; }, true);
    window.__rec = rec;
}"""


@pytest.fixture
def answer_page(tmp_path: Path) -> Iterator[object]:
    """A page whose fake microphone plays answer 1, then silence."""
    yield from spoken_page(tmp_path / "answer.wav", fake_mic.speech(ANSWERS[0]), fake_mic.silence(30))


@pytest.fixture
def first_word_server(server_factory, vendors):  # noqa: F811
    vendors.openai.replies.extend(QUESTIONS)
    vendors.deepgram.script = ANSWERS
    vendors.deepgram.script_bytes_per_word = 1000  # Opus at 24 kbit/s: a word about every 1/3 s of audio
    return server_factory(env={**vendors.env, "ANSWER_END_SILENCE_MS": str(SILENCE_MS)}).start()


def answered_by_itself(page, index: int) -> dict:
    """Answer ``index`` was closed by the server after the pause; that pause, measured on the page."""
    wait_hook(page, f"s.answers['{index}'] !== undefined", timeout=40_000)
    rec = page.evaluate("window.__rec")
    ended = next(e for e in rec["ended"] if e["index"] == index)
    assert ended["reason"] in ("silence", "utterance_end"), ended
    last_word = max(t["at"] for t in rec["transcripts"] if t["at"] < ended["at"])
    pause = ended["at"] - last_word
    assert SILENCE_MS - 300 <= pause <= SILENCE_MS + 2000, f"the answer ended {pause:.0f} ms after the last word"
    return rec


@pytest.mark.timeout(240)
def test_the_microphone_listens_by_itself_once_the_question_was_played(first_word_server, vendors, answer_page):  # noqa: F811
    page = answer_page
    open_page(page, first_word_server.url)
    page.fill("#job_title", "Backend Engineer")  # every other field as the form has it
    assert page.is_checked("#mode-voice") and page.is_checked("#turn-auto"), "voice and hands-free are the defaults"
    page.click("#start-btn")
    page.evaluate(RECORD)  # no click from here on
    wait_hook(page, "s.view === 'interview' && s.currentIndex === 1 && s.turnDetection === 'auto' && s.handsFree")
    assert hook(page, "s.mic") == "off", "nothing listens while the question is being asked"
    assert vendors.deepgram.connections == []

    wait_hook(page, "window.__rec.firstWords !== null", timeout=30_000)
    rec = page.evaluate("window.__rec")
    assert rec["audioEnded"], "question 1 was played to its end"
    delay = rec["firstWords"] - rec["audioEnded"][0]["at"]
    assert 0 < delay < 2000, f"the candidate's words showed {delay:.0f} ms after the question's audio ended"
    # The listening state was shown (and, as a live region, announced) before the answer was heard.
    assert rec["statuses"][:3] == ["", "listening", "recording"], rec["statuses"]
    assert page.get_attribute("#mic-status", "aria-live") == "polite"
    assert page.get_attribute("#mic-status", "role") == "status"
    assert page.is_enabled("#done-btn") and page.is_hidden("#done-hint"), "words were heard: Done can end the answer"
    assert page.inner_text("#mic-label") in ("마이크 일시정지", "Pause microphone")  # pausing stays available

    answered_by_itself(page, 1)
    assert hook(page, "s.answers['1']") == ANSWERS[0]
    assert hook(page, "s.mic") == "listening", "hands-free: the microphone stays open between answers"

    # Question 2 played into the open microphone (silence now): recording starts as its audio ends.
    wait_hook(page, "s.currentIndex === 2 && s.mic === 'recording'", timeout=20_000)
    assert page.evaluate("document.getElementById('tts-audio').ended")
    # A reload while question 2 is open: the page resumes and listens again by itself.
    page.reload()
    open_page(page, first_word_server.url)
    page.evaluate(RECORD)
    wait_hook(page, "s.connection === 'resumed' && s.currentIndex === 2 && s.turnDetection === 'auto'")
    wait_hook(page, "s.mic === 'recording'", timeout=15_000)
    answered_by_itself(page, 2)
    assert hook(page, "s.answers['2']") == ANSWERS[1]
    assert page.evaluate("window.__clicks") == 0
    assert len(vendors.deepgram.connections) == 2  # one STT stream per answer
    wait_hook(page, "s.currentIndex === 3")  # the form's default is 5 questions: the interview goes on
