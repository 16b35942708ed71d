"""The report and résumé upload routes on a real socket, against the real file store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from sio_server.app import create_app
from sio_server.appkeys import STORE
from sio_server.devtools.cv_files import CV_LINES, docx_file, encrypted_pdf, image_only_pdf, text_pdf
from sio_server.domain.model import CategoryScores, Feedback, InterviewConfig, QuestionScore, Session, Status, Turn
from sio_server.domain.tokens import hash_token, new_token, report_ticket, ticket_valid
from sio_server.coach.speaking import measure
from sio_server.web.report import REPORT_LINK_TTL_S, render_html, render_markdown
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
    settings = settings.model_copy(update={"cv_max_bytes": 60_000, "cv_uploads_per_minute": 30})
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
        {"index": 1, "question": "Tell me about *yourself*.", "answer": HOSTILE, "speaking": None},
        {"index": 2, "question": "Why this role?", "answer": None, "speaking": None},
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


async def test_a_report_link_opens_the_html_report_without_a_header_for_a_short_while(http, app_server, ended):
    session, token = ended
    other, other_token = make_session()
    await app_server.app[STORE].save(other)
    link = f"/api/v1/sessions/{session.id}/report-link"
    assert (await http.post(link)).status == 401
    assert (await http.post(link, headers=bearer(other_token))).status == 401
    r = await http.post(f"{link}?tz=Mars/Olympus", headers=bearer(token))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_query"
    r = await http.post(f"{link}?tz=Asia/Seoul", headers=bearer(token))
    made = await r.json()
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    assert made["url"].startswith(f"/api/v1/sessions/{session.id}/report?format=html&tz=Asia%2FSeoul&ticket=")
    assert token not in made["url"] and token.split(".")[1] not in made["url"]  # no resume token in the URL
    page = await http.get(made["url"])  # no Authorization header
    text = await page.text()
    assert page.status == 200 and page.content_type == "text/html" and "<script" not in text
    assert "<dd>2026-11-30 18:15 KST</dd>" in text  # the candidate's time zone
    ticket = made["url"].rpartition("ticket=")[2]
    url = f"/api/v1/sessions/{session.id}/report?ticket="
    other_ticket = report_ticket(other.token_hash, other.id, int(made["url"].rpartition("ticket=")[2].split(".")[0]))
    wrong_tickets = [ticket[:-1] + ("0" if ticket[-1] != "0" else "1"), other_ticket, "", "x.y", f"99999999999.{ticket.split('.')[1]}"]
    urls = [url + wrong for wrong in wrong_tickets]
    urls += [f"/api/v1/sessions/{other.id}/report?ticket={ticket}", f"/api/v1/sessions/{uuid.uuid4()}/report?ticket={ticket}"]
    answers = []
    for wrong in urls:  # each refused; every refusal counts against the address's budget of wrong tokens
        r = await http.get(wrong)
        answers.append((r.status, (await r.json())["error"]["code"]))
    assert answers[0] == (401, "unauthorized") and set(answers) <= {(401, "unauthorized"), (429, "rate_limited")}, answers
    r = await http.get(f"/api/v1/sessions/{session.id}/report?format=json&ticket={ticket}")
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_query"  # HTML only


def test_a_report_ticket_expires_and_cannot_be_made_long_lived():
    token_hash, session_id = "a" * 64, str(uuid.uuid4())
    now = 1_800_000_000.0
    ticket = report_ticket(token_hash, session_id, int(now) + 60)
    assert ticket_valid(ticket, token_hash, session_id, now, REPORT_LINK_TTL_S)
    assert not ticket_valid(ticket, token_hash, session_id, now + 61, REPORT_LINK_TTL_S)  # expired
    assert not ticket_valid(ticket, "b" * 64, session_id, now, REPORT_LINK_TTL_S)  # the token changed / another session
    far = report_ticket(token_hash, session_id, int(now) + 10 * REPORT_LINK_TTL_S)
    assert not ticket_valid(far, token_hash, session_id, now, REPORT_LINK_TTL_S)  # longer than links are made


async def test_report_dates_in_the_candidates_time_zone(http, ended):
    session, token = ended
    r = await http.get(f"/api/v1/sessions/{session.id}/report?format=md&tz=America/New_York", headers=bearer(token))
    assert "- **Date:** 2026-11-30 04:15 EST" in await r.text()
    r = await http.get(f"/api/v1/sessions/{session.id}/report?format=md", headers=bearer(token))
    assert "- **Date:** 2026-11-30 09:15 UTC" in await r.text()
    for bad in ("Nowhere/City", "../../etc/passwd", ""):
        r = await http.get(f"/api/v1/sessions/{session.id}/report?format=md&tz={bad}", headers=bearer(token))
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_query", bad


def spoken_session(language: str) -> Session:
    session, _ = make_session(language=language)
    text = "Um, I led it, like, well." if language == "en" else "음, 저는 그, 설계를 맡았습니다."
    words = [(w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(text.split())]
    words[-1] = (words[-1][0], 7.5, 7.9)  # a long pause before the last word
    spoken = measure(text, words, 0.0, language, 90)
    session.turns[0].answer = text
    session.turns[0].speaking = spoken
    assert session.feedback is not None
    session.feedback.per_question[0].speaking = spoken
    session.feedback.speaking = spoken
    return session


def test_how_they_spoke_is_in_the_report_localised():
    en = spoken_session("en")  # 6 words, the last after a pause of 5.1 s; "um" and "like," are fillers, "well." is not
    md, page = render_markdown(en), render_html(en)
    figures = "46 words a minute · 15.2 filler words a minute (2 in all) · longest pause 5.1 s · talked for 8 s of 90 s"
    assert f"### How you spoke\n\n- {figures.replace(' · ', chr(10) + '- ')}\n- You spoke slowly (46 words a minute)" in md
    assert f"*How you spoke:* {figures}\n\n- You spoke slowly" in md
    assert "- The longest pause was 5.1 s; if you need time to think" in md
    assert f'<ul class="speaking"><li>{figures.replace(" · ", "</li><li>")}</li></ul>' in page
    assert '<ul class="speaking-hints"><li>You spoke slowly' in page
    ko = render_markdown(spoken_session("ko"))
    assert "### 말하기\n\n- 분당 91음절\n- 군말 분당 15.2번 (모두 2번)\n- 가장 긴 멈춤 5.6초\n- 제한 시간 90초 중 8초 동안 말함" in ko
    assert "*말하기:* 분당 91음절 · " in ko and "가장 길게 멈춘 시간이 5.6초였습니다" in ko
    typed = render_markdown(make_session()[0])
    assert "How you spoke" not in typed  # typed answers have no speaking figures


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
async def test_cv_upload_refusals(http, name, make, status, code):
    r = await http.post("/api/v1/resume", headers=PAGE, data=form(name, make()))
    assert r.status == status and (await r.json())["error"]["code"] == code


async def test_cv_upload_reads_pdf_and_docx(http):
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf()))
    assert r.status == 200 and await r.json() == {
        "text": "\n".join(CV_LINES),
        "kind": "pdf",
        "pages": 1,
        "truncated": False,
    }
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.docx", docx_file()))
    assert r.status == 200 and (await r.json())["text"].startswith("\n".join(CV_LINES))
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf(), field="other"))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_payload"
    for body, content_type in (
        ('{"text": "not a file"}', "application/json"),
        ("no boundary in this body", "multipart/form-data; boundary=xyz"),
        ("--xyz\r\nno headers", "multipart/form-data"),
    ):
        r = await http.post("/api/v1/resume", data=body, headers={**PAGE, "Content-Type": content_type})
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_payload", body


async def test_cv_uploads_are_rate_limited_per_address(aiohttp_server, aiohttp_client, settings):
    # Two a minute: the third upload within 30 s is refused before its body is read.
    app = create_app(settings.model_copy(update={"cv_uploads_per_minute": 2}))
    http = await aiohttp_client(await aiohttp_server(app))
    statuses = [(await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf()))).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    r = await http.post("/api/v1/resume", headers=PAGE, data=form("cv.pdf", text_pdf()))
    assert r.status == 429 and (await r.json())["error"]["code"] == "rate_limited"
