"""The candidate's side in Chromium: a set-up with every option and a PDF résumé made in the test,
a time limit that ends answers, the report downloaded and printed to PDF, and the printable HTML
report."""

from __future__ import annotations

import io
import json
import re
import urllib.request

import pytest
from pypdf import PdfReader

from sio_server.devtools.browser.helpers import ANSWERS, fill_form, hook, open_page, wait_feedback, wait_hook
from sio_server.devtools.cv_files import CV_LINES, image_only_pdf, text_pdf

OPTIONS = {"company": "Acme Payments", "interview_type": "technical", "difficulty": "hard", "answer_time_limit_s": "30"}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def upload(page, name: str, data: bytes) -> dict:
    page.set_input_files("#resume_file", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])
    wait_hook(page, "s.resumeUpload.state === 'done' || s.resumeUpload.state === 'error'")
    return hook(page, "s.resumeUpload")


def set_up(page) -> None:
    fill_form(page, language="en", mode="text", questions=2, job_title="Backend Engineer", persona="challenging")
    page.fill("#company", OPTIONS["company"])
    for field in ("interview_type", "difficulty", "answer_time_limit_s"):
        page.select_option(f"#{field}", OPTIONS[field])
    # A scanned PDF is refused with its own message; the text field stays as it was.
    assert upload(page, "scan.pdf", image_only_pdf()) == {"state": "error", "pages": None, "code": "pdf_no_text"}
    assert page.input_value("#resume_text") == ""
    assert "no text" in page.inner_text("#resume-status")
    # A PDF with text fills the field; the candidate can still edit it.
    assert upload(page, "cv.pdf", text_pdf()) == {"state": "done", "pages": 1, "code": None}
    assert page.input_value("#resume_text").splitlines() == CV_LINES
    page.fill("#resume_text", page.input_value("#resume_text") + "\nAlso: on-call lead.")


def fetch(url: str, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.timeout(240)
def test_every_option_a_pdf_cv_time_limits_and_the_report(server, browser, page):
    open_page(page, server.url)
    set_up(page)
    page.click("#start-btn")
    wait_hook(page, "s.view === 'interview' && s.currentIndex === 1")
    session_id, token = hook(page, "s.sessionId"), page.evaluate("sessionStorage.getItem('interview.resume_token')")
    assert hook(page, "s.timeLimit") == 30
    assert page.is_visible("#countdown") and re.fullmatch(r"Time left 0:[0-3]\d", page.inner_text("#countdown"))

    # Question 1: a typed answer not yet sent goes out as it is when the time is up.
    page.fill("#answer", ANSWERS["en"][0])
    wait_hook(page, "s.answers['1'] !== undefined", timeout=40_000)
    assert hook(page, "s.expired") == [1] and hook(page, "s.answers['1']") == ANSWERS["en"][0]

    # Question 2: nothing typed when the time is up: a notice, and the answer can still be given.
    wait_hook(page, "s.currentIndex === 2 && s.countdown !== null")
    wait_hook(page, "s.notices.some(n => n.code === 'time_up')", timeout=40_000)
    assert hook(page, "s.currentIndex") == 2 and page.inner_text("#countdown") == "Time is up"
    page.fill("#answer", ANSWERS["en"][1])
    page.press("#answer", "Enter")
    feedback = wait_feedback(page)

    # The server kept every option (the report's data view).
    status, _, body = fetch(f"{server.url}/api/v1/sessions/{session_id}/report?format=json", token)
    report = json.loads(body)
    assert status == 200 and report["feedback"]["overall_score"] == feedback["overall_score"]
    config = report["config"]
    assert (config["company"], config["interview_type"], config["difficulty"]) == ("Acme Payments", "technical", "hard")
    assert config["answer_time_limit_s"] == 30 and config["persona"] == "challenging"
    assert [t["answer"] for t in report["turns"]] == ANSWERS["en"][:2]

    # "Download report": the Markdown file, named for the session, with questions, answers and feedback.
    with page.expect_download() as download:
        page.click("#download-btn")
    assert download.value.suggested_filename.endswith(f"-{session_id[:8]}.md")
    markdown = download.value.path().read_text(encoding="utf-8")
    assert markdown.startswith("# Interview report: Backend Engineer at Acme Payments\n")
    assert f"**Overall score: {feedback['overall_score']}/100**" in markdown
    for turn in report["turns"]:
        assert turn["question"] in markdown.replace("\\", "")  # Markdown's special characters come escaped
        assert f"> {turn['answer']}" in markdown

    # "Print": the browser's print dialog, with the print style sheet; as a PDF it has the report's text.
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.click("#print-btn")
    assert page.evaluate("window.__printed") == 1
    printed = pdf_text(page.pdf(format="A4"))
    assert "Your feedback" in printed and "The conversation" in printed
    assert "Download report" not in printed  # buttons are not printed
    assert ANSWERS["en"][1][:30] in printed.replace("\n", " ")

    # The printable HTML report: escaped, no script, and prints with its text.
    status, headers, body = fetch(f"{server.url}/api/v1/sessions/{session_id}/report", token)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<script" not in body and "script-src" not in headers["Content-Security-Policy"]
    report_page = browser.new_page(extra_http_headers={"Authorization": f"Bearer {token}"})
    try:
        report_page.goto(f"{server.url}/api/v1/sessions/{session_id}/report?format=html")
        assert report_page.locator("section.turn").count() == 2
        html_pdf = pdf_text(report_page.pdf(format="A4")).replace("\n", " ")
        assert "Interview report" in html_pdf and "Acme Payments" in html_pdf
        assert ANSWERS["en"][0][:30] in html_pdf
    finally:
        report_page.close()

    # The interview is in this browser's history, ended, with its score.
    page.click("#new-btn")
    wait_hook(page, "s.view === 'start'")
    score = round(feedback["overall_score"])
    assert hook(page, "s.history") == [
        {"session_id": session_id, "job_title": "Backend Engineer", "company": "Acme Payments", "status": "ended", "score": score}
    ]
    assert page.is_visible("#history") and "Backend Engineer · Acme Payments" in page.inner_text("#history-list")
