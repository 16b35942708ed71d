"""The admin HTTP API against an in-process server on a real socket."""

from __future__ import annotations

import pytest

from client_adapter import InterviewClient
from sio_server.app import create_app
from tests.support.server import ADMIN, ADMIN_TOKEN

MISSING = "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2"


@pytest.fixture
async def app_server(aiohttp_server, settings):
    return await aiohttp_server(create_app(settings))


@pytest.fixture
async def http(aiohttp_client, app_server):
    return await aiohttp_client(app_server)


async def run_interview(server, questions: int = 2, finish: bool = True) -> InterviewClient:
    client = InterviewClient(str(server.make_url("/")).rstrip("/"))
    await client.connect()
    await client.start(language="en", mode="text", max_questions=questions)
    upto = questions if finish else questions - 1
    for _ in range(upto):
        q = await client.next_question()
        await client.answer_text(q["index"], "I designed the schema and reduced query time by 30%.")
    if finish:
        await client.feedback()
    return client


async def test_health_ready_and_metrics(http):
    r = await http.get("/healthz")
    assert r.status == 200 and await r.json() == {"status": "ok"}
    r = await http.get("/readyz")
    assert r.status == 200 and (await r.json())["checks"] == {"store": "ok"}
    r = await http.get("/metrics", headers=ADMIN)
    text = await r.text()
    assert r.status == 200
    for name in (
        "interview_sockets_connected", "interview_sessions_live", "interview_sessions_started_total",
        "interview_sessions_resumed_total", "interview_sessions_ended", "interview_turns_total",
        "interview_resume_seconds", "interview_store_write_seconds", "interview_rejected_inputs",
        "interview_rate_limited", "interview_audio_dropped_chunks_total", "interview_vendor_seconds",
        "interview_vendor_retries", "interview_llm_fallbacks", "interview_tts_dropped_sentences_total",
        "interview_lease_takeovers_total",
    ):
        assert name in text, name


async def test_readyz_is_503_when_the_store_fails(http, app_server, tmp_path):
    import shutil

    shutil.rmtree(tmp_path / "data" / "sessions")
    (tmp_path / "data" / "sessions").write_text("not a folder")
    r = await http.get("/readyz")
    assert r.status == 503 and (await r.json())["checks"]["store"].startswith("error")


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/v1/sessions"),
        ("GET", f"/api/v1/sessions/{MISSING}"),
        ("DELETE", f"/api/v1/sessions/{MISSING}"),
        ("POST", "/api/v1/maintenance/cleanup"),
        ("GET", f"/api/v1/sessions/{MISSING}/feedback"),
        ("POST", f"/api/v1/sessions/{MISSING}/end"),
    ],
)
async def test_auth_is_checked_first(http, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}):
        r = await http.request(method, path, headers=headers)
        assert r.status == 401, (method, path, headers)
        assert (await r.json())["error"]["code"] == "unauthorized"


async def test_admin_routes_answer_403_without_admin_token(aiohttp_client, settings):
    http = await aiohttp_client(create_app(settings.model_copy(update={"admin_token": None})))
    r = await http.get("/api/v1/sessions", headers=ADMIN)
    assert r.status == 403 and (await r.json())["error"]["code"] == "admin_disabled"


@pytest.mark.parametrize("bad", ["..", "not-a-uuid", "%2e%2e%2fetc%2fpasswd", "D3B07384-D113-4EC6-A1BB-34C4A1F6E4C2", "%00"])
async def test_invalid_ids_are_404_for_admin(http, bad):
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/feedback"), ("POST", "/end")):
        r = await http.request(method, f"/api/v1/sessions/{bad}{suffix}", headers=ADMIN)
        assert r.status == 404, (method, bad)
        assert (await r.json())["error"]["code"] == "not_found"


async def test_list_detail_feedback_delete(http, app_server):
    client = await run_interview(app_server)
    sid = client.session_id
    r = await http.get("/api/v1/sessions", headers=ADMIN)
    body = await r.json()
    assert [s["session_id"] for s in body["sessions"]] == [sid]
    assert body["sessions"][0]["status"] == "ended" and body["sessions"][0]["questions_asked"] == 2
    assert set(body["sessions"][0]) == {
        "session_id", "status", "language", "mode", "questions_asked", "max_questions", "created_at", "updated_at"
    }
    assert (await (await http.get("/api/v1/sessions?status=active", headers=ADMIN)).json())["sessions"] == []
    assert (await http.get("/api/v1/sessions?status=weird", headers=ADMIN)).status == 400
    assert (await http.get("/api/v1/sessions?limit=0", headers=ADMIN)).status == 400

    detail = await (await http.get(f"/api/v1/sessions/{sid}", headers=ADMIN)).json()
    assert detail["session_id"] == sid and "token_hash" not in detail and "client_key" not in detail
    assert client.resume_token not in str(detail)

    own = {"Authorization": f"Bearer {client.resume_token}"}
    r = await http.get(f"/api/v1/sessions/{sid}/feedback", headers=own)
    assert r.status == 200 and (await r.json())["overall_score"] == client.feedback_data["overall_score"]
    assert (await http.get(f"/api/v1/sessions/{sid}", headers=own)).status == 401  # admin only

    assert (await http.delete(f"/api/v1/sessions/{sid}", headers=ADMIN)).status == 204
    assert (await http.get(f"/api/v1/sessions/{sid}", headers=ADMIN)).status == 404
    assert (await http.delete(f"/api/v1/sessions/{sid}", headers=ADMIN)).status == 404
    await client.close()


async def test_session_token_cannot_reach_another_session(http, app_server):
    a = await run_interview(app_server, finish=True)
    b = await run_interview(app_server, finish=True)
    r = await http.get(f"/api/v1/sessions/{b.session_id}/feedback", headers={"Authorization": f"Bearer {a.resume_token}"})
    assert r.status == 401
    r = await http.post(f"/api/v1/sessions/{b.session_id}/end", headers={"Authorization": f"Bearer {a.resume_token}"})
    assert r.status == 401
    await a.close()
    await b.close()


async def test_feedback_is_409_while_active_and_end_returns_it(http, app_server):
    client = await run_interview(app_server, questions=3, finish=False)
    own = {"Authorization": f"Bearer {client.resume_token}"}
    r = await http.get(f"/api/v1/sessions/{client.session_id}/feedback", headers=own)
    assert r.status == 409 and (await r.json())["error"]["code"] == "session_active"
    r = await http.post(f"/api/v1/sessions/{client.session_id}/end", headers=own)
    body = await r.json()
    assert r.status == 200 and 0 <= body["overall_score"] <= 100
    pushed = await client.feedback()
    assert pushed["overall_score"] == body["overall_score"]
    r = await http.post(f"/api/v1/sessions/{client.session_id}/end", headers=ADMIN)
    assert r.status == 200 and (await r.json())["summary"] == body["summary"]
    await client.close()


async def test_cleanup_runs_the_sweep(http, app_server, settings):
    client = await run_interview(app_server)
    r = await http.post("/api/v1/maintenance/cleanup", headers=ADMIN)
    assert r.status == 200 and await r.json() == {"purged": 0, "ended": 0}
    await client.close()


async def test_the_store_counts_are_admin_only(http, app_server):
    client = await run_interview(app_server)
    assert (await http.get("/api/v1/maintenance/store")).status == 401
    r = await http.get("/api/v1/maintenance/store", headers=ADMIN)
    assert r.status == 200 and await r.json() == {"sessions": 1, "tombstones": 0}
    await client.close()


async def test_unknown_route_is_json_404(http):
    r = await http.get("/nope")
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"


async def test_cors_preflight_and_headers(http):
    r = await http.options(
        "/api/v1/sessions", headers={"Origin": "https://example.test", "Access-Control-Request-Method": "GET"}
    )
    assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == "https://example.test"


async def test_cors_origins_are_honoured(aiohttp_client, settings):
    http = await aiohttp_client(create_app(settings.model_copy(update={"cors_allowed_origins": "https://ok.test"})))
    r = await http.get("/healthz", headers={"Origin": "https://ok.test"})
    assert r.headers.get("Access-Control-Allow-Origin") == "https://ok.test"
    r = await http.get("/healthz", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = await http.options("/healthz", headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"})
    assert r.status == 403
