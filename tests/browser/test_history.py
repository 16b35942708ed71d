"""The page's history of past interviews lives in this browser's localStorage: it survives a
browser restart (a persistent profile), opens an ended interview read-only and forgets one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sio_server.devtools.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from sio_server.devtools.browser.helpers import (
    ANSWERS,
    answer_until,
    conversation,
    hook,
    open_page,
    start,
    wait_feedback,
    wait_hook,
)
from tests.browser.conftest import start_playwright

INTERVIEWS = [("Data Engineer", "Northwind"), ("Site Reliability Engineer", "")]


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    with start_playwright() as p:
        yield p


def launch(playwright, profile: Path):
    """Chromium on ``profile`` (kept on disk between launches, like a user's browser)."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 800},
        locale="en-US",
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def run_interview(page, job_title: str, company: str) -> str:
    start(page, language="en", mode="text", questions=1, job_title=job_title, company=company)
    session_id = hook(page, "s.sessionId")
    answer_until(page, "en")
    wait_feedback(page)
    page.click("#new-btn")
    wait_hook(page, "s.view === 'start'")
    return session_id


def listed(page) -> list[str]:
    return page.eval_on_selector_all("#history-list > li", "items => items.map(li => li.dataset.sessionId)")


def test_history_survives_a_browser_restart_opens_read_only_and_forgets(server, playwright, tmp_path):
    profile = tmp_path / "profile"
    context, page, errors = launch(playwright, profile)
    open_page(page, server.url)
    ids = [run_interview(page, title, company) for title, company in INTERVIEWS]
    assert listed(page) == ids[::-1]  # newest first
    context.close()
    assert not errors, errors

    context, page, errors = launch(playwright, profile)
    try:
        open_page(page, server.url)
        assert hook(page, "s.view") == "start" and not hook(page, "s.sessionId")
        assert listed(page) == ids[::-1]
        assert "Data Engineer · Northwind" in page.inner_text("#history-list")

        # Open the first one: its conversation and feedback, read-only, without a socket resume.
        resumes = hook(page, "s.resumes")
        page.click(f"#history-list > li[data-session-id='{ids[0]}'] .history-open")
        wait_hook(page, f"s.view === 'feedback' && s.past === '{ids[0]}' && s.feedback")
        assert hook(page, "s.resumes") == resumes and hook(page, "s.sessionId") is None
        assert page.inner_text("#past-label") == "Past interview (read only): Data Engineer · Northwind"
        shown = page.eval_on_selector_all("#report-conversation .msg-text", "items => items.map(p => p.textContent)")
        assert shown == [text for _, text in conversation(page)] and shown[1] == ANSWERS["en"][0]
        assert page.is_visible("#report-card") and page.is_visible("#download-btn")
        assert hook(page, "s.currentIndex") is None  # nothing to answer in a read-only view
        with page.expect_download() as download:
            page.click("#download-btn")
        assert "Northwind" in download.value.path().read_text(encoding="utf-8")
        page.click("#new-btn")
        wait_hook(page, "s.view === 'start' && s.past === null")

        # Forget the second one: gone from the list, and still gone after a reload.
        page.click(f"#history-list > li[data-session-id='{ids[1]}'] .history-forget")
        assert listed(page) == [ids[0]]
        page.reload()
        wait_hook(page, "s.connection === 'connected'")
        assert listed(page) == [ids[0]]
        assert page.evaluate("JSON.parse(localStorage.getItem('interview.history')).length") == 1
    finally:
        context.close()
    assert not errors, errors


MALFORMED = [
    {"session_id": "x1", "token": "t", "job_title": {"toString": 1}},  # String() of it throws in the page
    {"session_id": 5, "token": "t"},
    {"session_id": "x2", "token": "t", "company": ["a"], "started_at": {"valueOf": 1}},
    {"session_id": "x3"},
    "junk",
    None,
    [],
]
GOOD = [
    {"session_id": "11111111-1111-4111-8111-111111111111", "token": "a.b", "job_title": "Data Engineer",
     "company": "Northwind", "started_at": "2026-01-02T03:04:05Z"},
    {"session_id": "22222222-2222-4222-8222-222222222222", "token": "c.d"},
]


def test_a_malformed_history_entry_is_skipped_and_the_others_listed(server, playwright, tmp_path):
    """Issue 19 row 14: one bad entry in localStorage (another tab, an extension, an older page) hides only itself."""
    context, page, errors = launch(playwright, tmp_path / "profile")
    try:
        open_page(page, server.url)
        stored = [GOOD[0], *MALFORMED, GOOD[1]]
        page.evaluate("list => localStorage.setItem('interview.history', JSON.stringify(list))", stored)
        page.reload()
        wait_hook(page, "s.connection === 'connected'")
        assert listed(page) == [e["session_id"] for e in GOOD]
        assert "Data Engineer · Northwind" in page.inner_text("#history-list")
        # forgetting one writes back the good entries only
        page.click(f"#history-list > li[data-session-id='{GOOD[1]['session_id']}'] .history-forget")
        assert listed(page) == [GOOD[0]["session_id"]]
        assert page.evaluate("JSON.parse(localStorage.getItem('interview.history'))") == [GOOD[0]]
    finally:
        context.close()
    assert not errors, errors
