"""Screenshots of the page for the README: start form, interview in progress and feedback, in
English and Korean, at 1280x800 and phone size (390x844), checked for size so a blank
page fails (the hands-free microphone's states: test_voice_screenshots.py).

Written to the test's temporary folder, so an ordinary run leaves the tracked images alone;
``UPDATE_SCREENSHOTS=1`` writes them to docs/screenshots/ (the README's images), and
``SCREENSHOT_DIR`` to a folder of your choice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sio_server.devtools.browser.helpers import (
    ANSWERS,
    answer_until,
    fill_form,
    hook,
    open_page,
    wait_feedback,
    wait_hook,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"

OPTIONS = {
    "en": {"interview_type": "technical", "difficulty": "hard", "answer_time_limit_s": "180"},
    "ko": {"interview_type": "mixed", "difficulty": "medium", "answer_time_limit_s": "120"},
}
FORMS = {
    "en": {
        "job_title": "Backend Engineer",
        "company": "Acme Payments",
        "job_description": "Design and run Python services for payments: APIs, PostgreSQL, Redis, on-call.",
        "resume_text": "6 years of Python and Go. Led the move of a payment API to async; cut p99 latency by 40%.",
        "persona": "friendly",
    },
    "ko": {
        "job_title": "백엔드 개발자",
        "company": "한빛페이먼츠",
        "job_description": "결제 서비스의 Python API 설계와 운영: PostgreSQL, Redis, 장애 대응.",
        "resume_text": "Python·Go 6년 경력. 결제 API 비동기 전환을 이끌어 p99 지연 시간을 40% 줄임.",
        "persona": "professional",
    },
}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where the images go: docs/screenshots only when asked (``UPDATE_SCREENSHOTS=1``)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return DOCS
    return Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)


def shot(page, out: Path, name: str, full_page: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    if full_page:
        page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    page.wait_for_timeout(400)  # let smooth scrolling and transitions settle
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="initial")
    assert path.stat().st_size > 10_000, f"{name} looks blank"


def report_shot(context, page, out: Path, name: str) -> None:
    """The printable HTML report of the interview on ``page``, opened from its feedback view ("Open report")."""
    with context.expect_page() as opened:
        page.click("#open-report-btn")
    report = opened.value
    try:
        report.wait_for_selector("section.turn")
        shot(report, out, name, full_page=True)
    finally:
        report.close()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_screenshots(server, browser, language, out):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ko-KR" if language == "ko" else "en-US"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        open_page(page, server.url)
        fill_form(page, language=language, mode="voice", questions=4, **FORMS[language])
        for field, value in OPTIONS[language].items():
            page.select_option(f"#{field}", value)
        assert hook(page, "s.uiLanguage") == language
        page.focus("#job_title")
        page.evaluate("document.activeElement.blur()")
        shot(page, out, f"start-{language}.png", full_page=True)

        page.click("#start-btn")
        wait_hook(page, "s.view === 'interview' && s.currentIndex === 1")
        answer_until(page, language, upto=2)
        wait_hook(page, "s.currentIndex === 3")
        page.fill("#answer", ANSWERS[language][2][:38])
        shot(page, out, f"interview-{language}.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.evaluate("window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})")
        shot(page, out, f"interview-{language}-phone.png")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.fill("#answer", "")

        answer_until(page, language)
        wait_feedback(page)
        shot(page, out, f"feedback-{language}.png", full_page=True)
        report_shot(context, page, out, f"report-{language}.png")
    finally:
        context.close()
