"""The interview page in headless Chromium against a real server: a whole interview, a SIGKILLed
server, a page reload, a stale token, and the contract's codes all having a message."""

from __future__ import annotations

import re
from pathlib import Path

from sio_server.devtools.browser.helpers import (
    ANSWERS,
    answer_current,
    answer_until,
    conversation,
    fill_form,
    hook,
    open_page,
    start,
    wait_feedback,
    wait_hook,
)

ROOT = Path(__file__).resolve().parents[2]


def test_whole_text_interview_reaches_the_feedback_view(server, page):
    open_page(page, server.url)
    assert page.is_visible("#view-start") and hook(page, "s.view") == "start"
    start(
        page,
        language="en",
        mode="text",
        questions=3,
        job_title="Data Engineer",
        job_description="Build batch and streaming pipelines in Python and SQL.",
        resume_text="5 years of Python, Airflow and PostgreSQL.",
    )
    assert hook(page, "s.mode") == "text" and hook(page, "s.uiLanguage") == "en"
    assert page.is_hidden("#voice-controls")
    answer_until(page, "en")
    feedback = wait_feedback(page)
    assert 0 <= feedback["overall_score"] <= 100
    assert [q["index"] for q in feedback["per_question"]] == [1, 2, 3]
    assert page.inner_text("#score") == str(round(feedback["overall_score"]))
    assert page.locator("#per-question > li").count() == 3
    assert page.inner_text("#summary").strip() == feedback["summary"].strip()
    # Scores by category, overall and for each answer, as the feedback gives them.
    overall = feedback["categories"]
    assert page.is_visible("#categories-block")
    assert page.inner_text("#categories li[data-category=relevance]") == f"Relevance {overall['relevance']}"
    assert page.locator("#per-question .pq-categories li").count() == 3 * 4
    first = feedback["per_question"][0]["categories"]
    assert page.inner_text("#per-question > li:first-child [data-category=clarity]") == f"Clarity {first['clarity']}"
    assert hook(page, "s.last_seq") == 4  # three questions and the feedback, no gaps
    assert hook(page, "s.duplicatesDropped") == 0
    # The whole conversation stays readable: 3 questions, 3 answers.
    assert [kind for kind, _ in conversation(page)] == ["q", "a"] * 3
    # A new interview starts from a clean form.
    page.click("#new-btn")
    wait_hook(page, "s.view === 'start' && !s.sessionId")
    assert page.evaluate("sessionStorage.getItem('interview.resume_token')") is None


def test_voice_request_on_a_server_without_stt_runs_in_text_mode(server, page):
    open_page(page, server.url)
    wait_hook(page, "s.capabilities !== null")  # the form already offers typed answers only, and says so
    start(page, language="ko", mode="voice", questions=1)
    assert hook(page, "s.mode") == "text" and hook(page, "s.uiLanguage") == "ko"
    assert page.is_hidden("#mode-notice") and page.is_hidden("#voice-controls")
    assert page.get_attribute("html", "lang") == "ko"
    answer_current(page, ANSWERS["ko"][0])
    wait_feedback(page)


def test_sigkilled_server_shows_reconnecting_then_resumes_and_finishes(server, page):
    open_page(page, server.url)
    start(page, language="en", mode="text", questions=3)
    session_id = hook(page, "s.sessionId")
    answer_until(page, "en", upto=1)
    wait_hook(page, "s.currentIndex === 2")

    server.kill()
    wait_hook(page, "s.connection === 'reconnecting' && s.reconnectAttempt >= 1", timeout=10_000)
    assert re.search(r"attempt \d+", page.inner_text("#conn-text")), page.inner_text("#conn-text")
    # An answer typed while the server is down waits for the resume, then goes out.
    answer_current(page, ANSWERS["en"][1], wait=False)
    assert page.locator("#conversation .msg-answer.pending").count() == 1

    server.start()
    wait_hook(page, "s.connection === 'resumed' && s.resumes >= 1", timeout=15_000)
    assert page.inner_text("#conn-text") == "Resumed"
    assert hook(page, "s.sessionId") == session_id
    wait_hook(page, "s.answers['2'] !== undefined")
    shown = conversation(page)
    assert shown[:4] == [
        ("q", hook(page, "s.questions[0].text")),
        ("a", ANSWERS["en"][0]),
        ("q", hook(page, "s.questions[1].text")),
        ("a", ANSWERS["en"][1]),
    ]
    answer_until(page, "en")
    feedback = wait_feedback(page)
    assert [q["index"] for q in feedback["per_question"]] == [1, 2, 3]
    assert hook(page, "s.last_seq") == 4


def test_page_reload_resumes_the_same_session(server, page):
    open_page(page, server.url)
    start(page, language="en", mode="text", questions=3)
    session_id = hook(page, "s.sessionId")
    answer_until(page, "en", upto=1)
    wait_hook(page, "s.currentIndex === 2")
    before = conversation(page)

    page.reload()
    wait_hook(page, "s.connection === 'resumed' && s.currentIndex === 2")
    assert hook(page, "s.sessionId") == session_id
    assert hook(page, "s.resumes") == 1
    assert conversation(page) == before  # rebuilt from session_resumed.history
    assert page.is_visible("#view-interview")
    answer_until(page, "en")
    wait_feedback(page)

    # A reload after the end shows the feedback again (fetched with the session's token).
    score = page.inner_text("#score")
    page.reload()
    wait_hook(page, "s.view === 'feedback' && s.feedback")
    assert page.inner_text("#score") == score


def test_unknown_token_in_storage_is_rejected_and_offers_a_new_interview(server, page):
    page.goto(server.url)
    page.evaluate(
        """() => {
        sessionStorage.setItem('interview.resume_token', '4b0f2c9e-8a43-4d6f-9d61-2f3c1b7a9e10.expired-or-wrong');
        sessionStorage.setItem('interview.session_id', '4b0f2c9e-8a43-4d6f-9d61-2f3c1b7a9e10');
        sessionStorage.setItem('interview.last_seq', '3');
    }"""
    )
    page.reload()
    wait_hook(page, "s.connection === 'rejected'")
    assert page.is_visible("#view-start")
    assert hook(page, "s.notices.some(n => n.code === 'resume_rejected')")
    assert page.inner_text("#conn-text") == "Session expired"
    assert page.evaluate("sessionStorage.getItem('interview.resume_token')") is None
    # The start form works again right away.
    start(page, language="en", mode="text", questions=1)
    assert hook(page, "s.connection") == "connected"
    answer_current(page, ANSWERS["en"][0])
    wait_feedback(page)


def test_every_contract_code_has_a_message_in_both_languages(server, page):
    documented = {
        # PROTOCOL.md
        "invalid_payload",
        "already_in_session",
        "no_session",
        "busy",
        "session_ended",
        "stale_answer",
        "empty_answer",
        "resume_rejected",
        "superseded",
        "audio_dropped",
        "llm_fallback",
        "tts_failed",
        "stt_failed",
        "unauthorized",
        "not_found",
        "session_active",
        "admin_disabled",
    }
    notes = (ROOT / "docs" / "protocol-notes.md").read_text()
    documented |= set(re.findall(r"^\| `([a-z_]+)` \|", notes.split("## Error codes added", 1)[1], re.MULTILINE))
    page.goto(server.url)
    known = set(page.evaluate("import('/static/i18n.js').then(m => m.KNOWN_CODES)"))
    assert documented <= known, sorted(documented - known)
    messages = page.evaluate(
        """(codes) => import('/static/i18n.js').then(m => codes.map(c => [m.codeMessage('ko', c), m.codeMessage('en', c)]))""",
        sorted(documented),
    )
    for ko, en in messages:
        assert ko and en and ko != en


def test_spoken_questions_follow_the_mode_and_a_slow_question_shows_a_notice_until_it_comes(server_factory, page):
    # A (refused) Deepgram key: the server can take voice answers, so the form offers both modes.
    server = server_factory(
        {"OFFLINE_LLM_DELAY": "2", "QUESTION_SLOW_NOTICE": "0.3", "DEEPGRAM_API_KEY": "dg-test", "DEEPGRAM_BASE_URL": "ws://127.0.0.1:9"}
    ).start()
    open_page(page, server.url)
    form_config = "import('/static/form.js').then(m => m.formConfig())"
    assert page.is_checked("#speak_questions") and page.evaluate(form_config)["speak_questions"] is True
    fill_form(page, language="en", mode="text", questions=1)
    assert not page.is_checked("#speak_questions"), "text answers: questions are not read aloud by default"
    assert page.evaluate(form_config)["speak_questions"] is False
    page.locator("label[for='mode-voice']").click()
    assert page.is_checked("#speak_questions")
    page.locator("label[for='mode-text']").click()
    page.check("#speak_questions")  # the candidate asks for spoken questions in a text interview
    assert page.evaluate(form_config)["speak_questions"] is True
    page.click("#start-btn")
    notice = page.locator(".notice[data-code='llm_slow']")
    notice.wait_for(state="visible", timeout=5_000)
    assert hook(page, "!s.currentIndex"), "shown while the candidate waits"
    assert "slow" in notice.inner_text()
    wait_hook(page, "s.currentIndex === 1")
    notice.wait_for(state="detached", timeout=2_000)
