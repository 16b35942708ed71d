"""The page remembers and tells the truth (issue 21 item 4), in Chromium against a real server:
"Resumed" only when an interview was resumed; a typed answer survives a reload until it is acked;
the last set-up is kept (the résumé only when asked) and a second interview starts with it in one
click; the HTML report opens from the feedback view through a short-lived link, dates in the
browser's time zone; history rows show the status and the score."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.request import Request, urlopen

import pytest

from sio_server.devtools.browser import helpers
from sio_server.devtools.browser.helpers import hook, open_page, wait_hook
from tests.browser.conftest import new_page

SETUP = {
    "job_title": "Data Engineer",
    "company": "Northwind",
    "job_description": "Build batch and streaming pipelines on PostgreSQL and Kafka.",
    "resume_text": "Five years of Python; I moved our nightly ETL to streaming.",
    "persona": "challenging",
}


@pytest.fixture
def seoul_page(browser) -> Iterator[object]:
    """A page whose browser is in Seoul's time zone (the report's dates follow it)."""
    yield from new_page(browser, timezone_id="Asia/Seoul")


def badge(page) -> str:
    return page.inner_text("#conn-text").strip()


def report_json(url: str, session_id: str, token: str) -> dict:
    request = Request(f"{url}/api/v1/sessions/{session_id}/report?format=json", headers={"Authorization": f"Bearer {token}"})
    with urlopen(request, timeout=10) as response:
        return json.load(response)


def stored(page, key: str):
    return page.evaluate(f"localStorage.getItem({json.dumps(key)})")


def test_resumed_only_when_resumed_and_a_typed_draft_survives_a_reload(server, page):
    open_page(page, server.url)
    assert hook(page, "s.connection") == "connected" and badge(page) == "Connected"  # an empty form
    helpers.start(page, language="en", mode="text", questions=2)
    assert badge(page) == "Connected"  # a new interview is not a resumed one
    session_id = hook(page, "s.sessionId")

    draft = "I would start by measuring where the time goes, then"
    page.fill("#answer", draft)  # typed, not sent
    assert stored(page, f"interview.draft.{session_id}.1") == draft
    page.reload()
    wait_hook(page, "s.connection === 'resumed' && s.currentIndex === 1")
    assert badge(page) == "Resumed" and hook(page, "s.resumedSession") == session_id
    assert page.input_value("#answer") == draft  # the draft is back in the box

    page.fill("#answer", draft + " fix the slowest query.")
    page.press("#answer", "Enter")
    wait_hook(page, "s.answers['1'] !== undefined")
    assert stored(page, f"interview.draft.{session_id}.1") is None  # acked: forgotten
    wait_hook(page, "s.currentIndex === 2")
    page.reload()
    wait_hook(page, "s.connection === 'resumed' && s.currentIndex === 2")
    assert page.input_value("#answer") == ""  # nothing typed for question 2
    helpers.answer_current(page, helpers.ANSWERS["en"][1])
    helpers.wait_feedback(page)
    assert badge(page) == "Resumed"  # the feedback of the interview this page resumed

    page.click("#new-btn")
    wait_hook(page, "s.view === 'start'")
    assert badge(page) == "Connected"  # the start form is not a resumed interview
    helpers.start(page, language="en", mode="text", questions=1)
    assert badge(page) == "Connected"  # nor is a new one on the same connection
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('interview.draft.'))") == []


def test_same_set_up_in_one_click_the_report_opens_and_history_shows_score_and_status(server, seoul_page):
    page = seoul_page
    open_page(page, server.url)
    helpers.fill_form(page, language="en", mode="text", questions=1, **SETUP)
    page.select_option("#difficulty", "hard")
    page.select_option("#answer_time_limit_s", "120")
    page.click("#start-btn")
    wait_hook(page, "s.view === 'interview' && s.sessionId && s.currentIndex === 1")
    first = hook(page, "s.sessionId")
    setup = json.loads(stored(page, "interview.setup"))
    assert setup["job_title"] == "Data Engineer" and setup["difficulty"] == "hard" and setup["answer_time_limit_s"] == 120
    assert "resume_text" not in setup and setup["remember_resume"] is False  # not asked to remember the résumé
    helpers.answer_current(page, helpers.ANSWERS["en"][0])
    feedback = helpers.wait_feedback(page)

    # The HTML report opens from the feedback view: a new tab on a short-lived link, no token in its URL.
    token = page.evaluate("sessionStorage.getItem('interview.resume_token')")
    with page.context.expect_page() as opened:
        page.click("#open-report-btn")
    report = opened.value
    report.wait_for_selector("section.turn")
    assert "ticket=" in report.url and token not in report.url and token.split(".")[1] not in report.url
    assert report.inner_text("h1") == "Interview report: Data Engineer at Northwind"
    assert report.inner_text("dl.meta dd").endswith(" KST")  # the browser's time zone
    report.close()

    # One click: a second interview with the same set-up (the résumé too: the form still holds it).
    page.click("#again-btn")
    wait_hook(page, "s.view === 'interview' && s.sessionId && s.currentIndex === 1")
    second = hook(page, "s.sessionId")
    assert second != first
    tokens = {e["session_id"]: e["token"] for e in page.evaluate("JSON.parse(localStorage.getItem('interview.history'))")}
    configs = [report_json(server.url, sid, tokens[sid])["config"] for sid in (first, second)]
    assert configs[0] == configs[1] and configs[1]["job_title"] == "Data Engineer" and configs[1]["persona"] == "challenging"

    # History rows: the finished one shows "Ended" and its score, the new one "In progress".
    page.evaluate("window.__interview.client.forget()")
    page.reload()
    wait_hook(page, "s.view === 'start'")
    rows = {r["session_id"]: r for r in hook(page, "s.history")}
    assert rows[first]["status"] == "ended" and rows[first]["score"] == round(feedback["overall_score"])
    assert rows[second]["status"] == "active" and rows[second].get("score") is None
    first_row = page.inner_text(f".history-item[data-session-id='{first}'] .history-facts")
    assert first_row.split() == ["Ended", "Score", str(round(feedback["overall_score"]))]
    assert page.inner_text(f".history-item[data-session-id='{second}'] .history-facts").strip() == "In progress"

    # After a reload the form holds the last set-up, without the résumé it was not asked to keep.
    assert page.input_value("#job_title") == "Data Engineer" and page.input_value("#company") == "Northwind"
    assert page.input_value("#persona") == "challenging" and page.input_value("#difficulty") == "hard"
    assert page.input_value("#answer_time_limit_s") == "120" and page.input_value("#max_questions") == "1"
    assert page.input_value("#job_description") == SETUP["job_description"]
    assert page.input_value("#resume_text") == ""
    page.fill("#resume_text", SETUP["resume_text"])
    page.check("#remember_resume")
    page.click("#start-btn")
    wait_hook(page, "s.view === 'interview' && s.currentIndex === 1")
    assert json.loads(stored(page, "interview.setup"))["resume_text"] == SETUP["resume_text"]
    page.evaluate("window.__interview.client.forget()")
    page.reload()
    wait_hook(page, "s.view === 'start'")
    assert page.input_value("#resume_text") == SETUP["resume_text"] and page.is_checked("#remember_resume")
    page.uncheck("#remember_resume")  # unticking forgets the stored résumé at once
    assert "resume_text" not in json.loads(stored(page, "interview.setup"))
