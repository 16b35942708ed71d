"""The report and résumé upload routes on a real socket, against the real file store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from sio_server.app import create_app
from sio_server.appkeys import STORE
from sio_server.devtools.resume_files import RESUME_LINES, docx_file, encrypted_pdf, image_only_pdf, text_pdf
from sio_server.domain.model import CategoryScores, Feedback, InterviewConfig, QuestionScore, Session, Status, Turn
from sio_server.domain.tokens import hash_token, new_token
from sio_server.web.report import render_html, render_markdown
from tests.support.server import ADMIN

PAGE = {"X-Requested-With": "interview-page"}  # what the interview page sends with an upload
HOSTILE = "I used <script>alert(1)</script> and **bold** [links](http://x) # not a heading"
WHEN = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


CATS = CategoryScores(relevance=80, structure=67, evidence=55, clarity=90)


def make_session(ended: bool = True, language: str = "en") -> tuple[Session, str]:
    session_id = uuid.uuid4()
    token = new_token(session_id)
    config = InterviewConfig(
        language=language,
        mode="text",
        job_title="Backend <Engineer>",
        company="Acme & Co",
        interview_type="technical",
        difficulty="hard",
        answer_time_limit_s=90,
        max_questions=2,
        resume_text="secret résumé text",
    )
    turns = [
        Turn(index=1, question="Tell me about *yourself*.", asked_at=WHEN, answer=HOSTILE, answered_at=WHEN),
        Turn(index=2, question="Why this role?", asked_at=WHEN),
    ]
    feedback = (
        Feedback(
            overall_score=61,
            summary="Clear <b>answers</b>.",
            strengths=["Specific numbers"],
            improvements=[],
            per_question=[QuestionScore(index=1, score=70, comment="Good & concrete.", categories=CATS)],
            categories=CategoryScores(relevance=40, structure=34, evidence=28, clarity=45),
        )
        if ended
        else None
    )
    session = Session(
        session_id=session_id,
        token_hash=hash_token(token),
        config=config,
        created_at=WHEN,
        updated_at=WHEN,
        status=Status.ENDED if ended else Status.ACTIVE,
        turns=turns,
        feedback=feedback,
        version=1,
    )
    return session, token


@pytest.fixture
async def app_server(aiohttp_server, settings):
    settings = settings.model_copy(update={"resume_max_bytes": 60_000, "resume_uploads_per_minute": 30})
    return await aiohttp_server(create_app(settings))


@pytest.fixture
async def http(aiohttp_client, app_server):
    return await aiohttp_client(app_server)


@pytest.fixture
async def ended(app_server) -> tuple[Session, str]:
    session, token = make_session()
    await app_server.app[STORE].save(session)
    return session, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_markdown_report_is_an_escaped_attachment(http, ended):
    session, token = ended
    r = await http.get(f"/api/v1/sessions/{session.id}/report?format=md", headers=bearer(token))
    text = await r.text()
    assert r.status == 200 and r.content_type == "text/markdown"
    assert r.headers["Content-Disposition"] == f'attachment; filename="interview-report-2026-11-30-{session.id[:8]}.md"'
    assert text.startswith("# Interview report: Backend \\<Engineer\\> at Acme & Co\n")
    assert "- **Difficulty:** hard" in text and "- **Time per answer:** 90 s" in text
    assert "**Overall score: 61/100**" in text and "### To improve\n\n- None noted." in text
    assert "### Question 1 (score 70/100)\n\nTell me about \\*yourself\\*." in text
    assert (
        "> I used \\<script\\>alert(1)\\</script\\> and \\*\\*bold\\*\\* \\[links\\](`http://x`) \\# not a heading"
        in text
    )
    assert "### Question 2\n\nWhy this role?\n\n_(no answer)_" in text
    assert "secret résumé text" not in text
    assert "### Scores by category\n\n- Relevance 40/100\n- Structure 34/100\n- Evidence 28/100\n- Clarity 45/100" in text
    assert "*Scores by category:* Relevance 80/100 · Structure 67/100 · Evidence 55/100 · Clarity 90/100" in text


async def test_html_report_is_escaped_printable_and_has_no_script(http, ended):
    session, token = ended
    r = await http.get(f"/api/v1/sessions/{session.id}/report", headers=bearer(token))
    page = await r.text()
    assert r.status == 200 and r.content_type == "text/html"
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>Interview report: Backend &lt;Engineer&gt; at Acme &amp; Co</title>" in page
    assert '<link rel="stylesheet" href="/static/report.css">' in page
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert '<ul class="categories"><li>Relevance 40/100</li><li>Structure 34/100</li>' in page
    assert "Relevance 80/100 · Structure 67/100 · Evidence 55/100 · Clarity 90/100</p>" in page
    assert (await http.get("/static/report.css")).status == 200


async def test_json_report_has_the_options_and_no_secrets(http, ended):
    session, _ = ended
    r = await http.get(f"/api/v1/sessions/{session.id}/report?format=json", headers=ADMIN)
    data = await r.json()
    assert r.status == 200 and data["status"] == "ended" and data["feedback"]["overall_score"] == 61
    assert data["config"]["company"] == "Acme & Co" and data["config"]["difficulty"] == "hard"
    assert data["turns"] == [
        {"index": 1, "question": "Tell me about *yourself*.", "answer": HOSTILE},
        {"index": 2, "question": "Why this role?", "answer": None},
    ]
    assert "resume_text" not in data["config"] and "token_hash" not in str(data)
    assert data["feedback"]["categories"] == {"relevance": 40, "structure": 34, "evidence": 28, "clarity": 45}
    assert data["feedback"]["per_question"][0]["categories"] == CATS.model_dump()
    assert data["category_labels"] == {
        "relevance": "Relevance",
        "structure": "Structure",
        "evidence": "Evidence",
        "clarity": "Clarity",
    }


def test_scores_by_category_are_localised_and_optional():
    session, _ = make_session(language="ko")
    text, page = render_markdown(session), render_html(session)
    assert "### 항목별 점수\n\n- 관련성 40점\n- 구조 34점\n- 근거 28점\n- 명확성 45점" in text
    assert "관련성 80점 · 구조 67점 · 근거 55점 · 명확성 90점" in page
    old = session.model_copy(
        update={"feedback": Feedback(overall_score=61, summary="s", strengths=[], improvements=[], per_question=[])}
    )
    assert "항목별 점수" not in render_markdown(old) and "항목별 점수" not in render_html(old)


async def test_report_of_an_active_session_says_it_has_not_ended(http, app_server):
    session, token = make_session(ended=False)
    await app_server.app[STORE].save(session)
    r = await http.get(f"/api/v1/sessions/{session.id}/report?format=md", headers=bearer(token))
    assert r.status == 200 and "_No feedback yet: the interview has not ended._" in await r.text()


async def test_report_authentication_is_the_session_routes_own(http, app_server, ended):
    session, token = ended
    other, other_token = make_session()
    await app_server.app[STORE].save(other)
    url = f"/api/v1/sessions/{session.id}/report"
    for headers in ({}, bearer(token + "x"), bearer(other_token), {"Authorization": f"Basic {token}"}):
        r = await http.get(url, headers=headers)
        assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized", headers
    r = await http.get(f"{url}?format=pdf", headers=bearer(token))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_query"
    r = await http.get(f"/api/v1/sessions/{uuid.uuid4()}/report", headers=ADMIN)
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"


def form(name: str, data: bytes, field: str = "file") -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field(field, data, filename=name, content_type="application/octet-stream")
    return body


@pytest.mark.parametrize(
    ("name", "make", "status", "code"),
    [
        ("scan.pdf", image_only_pdf, 422, "pdf_no_text"),
        ("locked.pdf", encrypted_pdf, 422, "pdf_encrypted"),
        ("photo.png", lambda: b"\x89PNG\r\n\x1a\n" + bytes(100), 415, "unsupported_file"),
        ("cv.pdf", lambda: b"%PDF-1.4\n" + b"0" * 70_000, 413, "file_too_large"),
        ("cv.pdf", lambda: bytes(range(256)) * 4, 422, "invalid_file"),
    ],
)
async def test_resume_upload_refusals(http, name, make, status, code):
    r = await http.post("/api/v1/resume", headers=PAGE, data=form(name, make()))
    assert r.status == status and (await r.json())["error"]["code"] == code


async def test_resume_upload_reads_pdf_and_docx(http):
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf()))
    assert r.status == 200 and await r.json() == {
        "text": "\n".join(RESUME_LINES),
        "kind": "pdf",
        "pages": 1,
        "truncated": False,
    }
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.docx", docx_file()))
    assert r.status == 200 and (await r.json())["text"].startswith("\n".join(RESUME_LINES))
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf(), field="other"))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_payload"
    for body, content_type in (
        ('{"text": "not a file"}', "application/json"),
        ("no boundary in this body", "multipart/form-data; boundary=xyz"),
        ("--xyz\r\nno headers", "multipart/form-data"),
    ):
        r = await http.post("/api/v1/resume", data=body, headers={**PAGE, "Content-Type": content_type})
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_payload", body


async def test_resume_uploads_are_rate_limited_per_address(aiohttp_server, aiohttp_client, settings):
    # Two a minute: the third upload within 30 s is refused before its body is read.
    app = create_app(settings.model_copy(update={"resume_uploads_per_minute": 2}))
    http = await aiohttp_client(await aiohttp_server(app))
    statuses = [(await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf()))).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf()))
    assert r.status == 429 and (await r.json())["error"]["code"] == "rate_limited"
