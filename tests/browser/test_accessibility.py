"""axe-core on every view and state of the page, in English and Korean: 0 violations.

One hands-free voice interview (English) walks the voice states: the question playing with the
microphone off, listening (the microphone open, nothing heard yet: the fake microphone starts with
silence), recording, paused, interrupted (the candidate presses "Start speaking" over question 2)
and listening between answers; then the feedback, the printable report and the history. A text
interview in Korean covers the text composer and the Korean report. Each state is audited in both
page languages (the language toggle), so axe's color-contrast rule checks every control state as
rendered (axe leaves disabled controls out: tests/browser/test_voice_page.py checks their colours).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.helpers import (
    ANSWERS,
    answer_until,
    fill_form,
    hook,
    open_page,
    wait_feedback,
    wait_hook,
)
from tests.browser.a11y import violations
from tests.browser.conftest import spoken_page
from tests.browser.test_voice_page import vendors  # noqa: F401 (fixture)

QUESTIONS = ["Tell me about a project you are proud of.", "How do you handle disagreement in a team?"]
SPOKEN = ["I owned the payment service.", "I listen first."]


@pytest.fixture
def a11y_page(tmp_path: Path) -> Iterator[object]:
    """A page whose fake microphone plays 4 s of silence, an answer, then silence."""
    yield from spoken_page(tmp_path / "a11y.wav", fake_mic.silence(4), fake_mic.speech(SPOKEN[0]), fake_mic.silence(40))


@pytest.fixture
def a11y_server(server_factory, vendors):  # noqa: F811
    vendors.openai.replies.extend(QUESTIONS)
    vendors.deepgram.script = SPOKEN
    vendors.deepgram.script_bytes_per_word = 3000  # silence is cheap Opus: words come with the speech
    return server_factory(env=vendors.env).start()


def both_languages(page, where: str) -> list[str]:
    """axe's violations in the page's language, then in the other one (and back)."""
    found = []
    for _ in range(2):
        found += violations(page, f"{where} [{hook(page, 's.uiLanguage')}]")
        page.click("#lang-toggle")
    return found


def report_violations(context, page, where: str) -> list[str]:
    """The printable HTML report of the interview on ``page``."""
    report = context.new_page()
    try:
        token = page.evaluate("sessionStorage.getItem('interview.resume_token')")
        report.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        report.goto(page.url.split("?")[0].rstrip("/") + f"/api/v1/sessions/{hook(page, 's.sessionId')}/report")
        report.wait_for_selector("section.turn")
        return violations(report, where)
    finally:
        report.close()


@pytest.mark.timeout(300)
def test_every_view_and_state_has_no_axe_violations(a11y_server, vendors, a11y_page):  # noqa: F811
    page = a11y_page
    found: list[str] = []
    open_page(page, a11y_server.url)
    found += both_languages(page, "start")

    fill_form(page, language="en", mode="voice", questions=2)
    page.click("#start-btn")
    wait_hook(page, "s.currentIndex === 1 && s.handsFree && s.ttsPlaying")
    found += both_languages(page, "voice: question playing, microphone off")
    wait_hook(page, "s.micStatus === 'listening'", timeout=20_000)  # the microphone opened by itself
    found += both_languages(page, "voice: listening")
    wait_hook(page, "s.micStatus === 'recording'", timeout=20_000)
    found += both_languages(page, "voice: recording")
    page.click("#mic-btn")
    wait_hook(page, "s.mic === 'paused'")
    found += both_languages(page, "voice: paused")
    page.click("#mic-btn")
    wait_hook(page, "s.mic === 'recording'")

    vendors.elevenlabs.chunk_size = 128
    vendors.elevenlabs.chunk_delay = 0.1  # question 2's audio streams for a few seconds
    wait_hook(page, "s.answers['1'] !== undefined && s.mic === 'listening'", timeout=40_000)
    found += both_languages(page, "voice: listening between answers")
    wait_hook(page, "s.currentIndex === 2 && s.ttsPlaying", timeout=20_000)
    page.click("#mic-btn")  # "Start speaking" over the question: it is interrupted
    wait_hook(page, "s.bargeIns === 1 && s.mic === 'recording'")
    found += both_languages(page, "voice: interrupted")
    wait_hook(page, "s.speechHeard", timeout=30_000)
    page.click("#done-btn")
    wait_feedback(page)
    found += both_languages(page, "feedback")
    found += report_violations(page.context, page, "report [en]")

    page.click("#new-btn")
    wait_hook(page, "s.view === 'start' && s.history.length === 1")
    found += both_languages(page, "start with the history")

    fill_form(page, language="ko", mode="text", questions=1)
    page.click("#start-btn")
    wait_hook(page, "s.currentIndex === 1 && s.mode === 'text'")
    page.fill("#answer", ANSWERS["ko"][0][:20])
    found += both_languages(page, "text interview")
    page.fill("#answer", "")
    answer_until(page, "ko")
    wait_feedback(page)
    found += report_violations(page.context, page, "report [ko]")
    page.click("#new-btn")
    wait_hook(page, "s.view === 'start' && s.history.length === 2")
    page.locator("#history-list button").first.click()  # a past interview, read only
    wait_hook(page, "s.view === 'feedback' && s.past")
    found += both_languages(page, "past interview (history)")
    assert found == [], "\n".join(found)
