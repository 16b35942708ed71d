"""A real server process driven by the Python client adapter: full runs, drops, SIGKILLs."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from client_adapter import InterviewClient, ResumeRejected
from tests.support.server import ADMIN_TOKEN

pytestmark = pytest.mark.integration
ANSWER = "At my last job I owned the payment service; I cut p99 latency by 40% by adding a cache and an index."


def http_json(url: str, token: str | None = None, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


async def answer_all(client: InterviewClient, upto: int | None = None) -> None:
    while True:
        question = await client.next_question()
        ack = await client.answer_text(question["index"], f"{ANSWER} (#{question['index']})")
        assert ack["ok"] is True and ack["index"] == question["index"]
        if question["is_last"] or (upto is not None and question["index"] >= upto):
            return


def assert_clean_log(client: InterviewClient, max_questions: int) -> None:
    seqs = [data["seq"] for _, data in client.events]
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert sorted(client.questions) == list(range(1, max_questions + 1))


async def test_full_text_interview_to_feedback(server):
    client = InterviewClient(server.url)
    await client.connect()
    ack = await client.start(language="en", mode="text", max_questions=3, job_title="Data Engineer")
    assert ack["ok"] and ack["mode"] == "text" and ack["resume_token"].startswith(ack["session_id"])
    await answer_all(client)
    feedback = await client.feedback()
    assert feedback["session_id"] == ack["session_id"] and 0 <= feedback["overall_score"] <= 100
    assert [q["index"] for q in feedback["per_question"]] == [1, 2, 3]
    assert_clean_log(client, 3)
    assert client.duplicates_dropped == 0
    await client.close()
    log = server.log()
    assert ack["resume_token"].split(".")[1] not in log and ANSWER not in log
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line)["level"] for line in lines)


async def test_voice_request_without_stt_runs_in_text_mode(server):
    client = InterviewClient(server.url)
    await client.connect()
    ack = await client.start(mode="voice", max_questions=1)
    assert ack["mode"] == "text"
    await client.close()


async def test_dropped_transport_reconnects_and_resumes_without_loss(server):
    client = InterviewClient(server.url)
    await client.connect()
    await client.start(language="ko", mode="text", max_questions=4)
    await answer_all(client, upto=2)
    await client.wait_for(lambda: client.questions.get(3))
    # Cut the TCP connection underneath the client, as a flaky network would.
    client.sio.eio.ws._response.connection.transport.abort()
    await client.wait_for(lambda: client.resumes >= 1, timeout=15)
    assert client.disconnects >= 1 and client.connects >= 2
    assert client.last_resumed["history"][1]["answer"].startswith(ANSWER)
    await answer_all(client)
    await client.feedback()
    assert_clean_log(client, 4)
    await client.close()


async def test_sigkill_mid_interview_then_resume_finish_and_fetch_feedback_after_another_restart(server):
    client = InterviewClient(server.url)
    await client.connect()
    ack = await client.start(language="en", mode="text", max_questions=4)
    await answer_all(client, upto=2)
    await client.wait_for(lambda: client.questions.get(3))

    await asyncio.to_thread(server.restart)
    await client.wait_for(lambda: client.resumes >= 1, timeout=20)
    await answer_all(client)
    feedback = await client.feedback()
    assert_clean_log(client, 4)
    await client.close()

    await asyncio.to_thread(server.restart)
    status, body = http_json(f"{server.url}/api/v1/sessions/{ack['session_id']}/feedback", ack["resume_token"])
    assert status == 200 and body["overall_score"] == feedback["overall_score"]
    status, body = http_json(f"{server.url}/api/v1/sessions/{ack['session_id']}/feedback", ADMIN_TOKEN)
    assert status == 200 and body["summary"] == feedback["summary"]


async def test_kill_while_a_turn_is_pending_is_finished_after_restart(server_factory):
    server = server_factory(env={"OFFLINE_LLM_DELAY": "2"}).start()
    client = InterviewClient(server.url)
    await client.connect()
    await client.start(language="en", mode="text", max_questions=3)
    first = await client.next_question(timeout=15)
    await client.answer_text(first["index"], ANSWER)
    # The answer is acked (so saved); the next question is still being written.
    server.env["OFFLINE_LLM_DELAY"] = "0"
    await asyncio.to_thread(server.restart)
    second = await client.next_question(timeout=20)
    assert second["index"] == 2
    session = json.loads((server.data_dir / "sessions" / f"{client.session_id}.json").read_text())
    assert [t["index"] for t in session["turns"]] == [1, 2]
    assert session["turns"][0]["answer"] == ANSWER
    await client.answer_text(2, ANSWER)
    await answer_all(client)
    await client.feedback()
    assert_clean_log(client, 3)
    await client.close()


async def test_answer_sent_while_the_server_is_down_is_delivered_once(server):
    client = InterviewClient(server.url)
    await client.connect()
    await client.start(language="en", mode="text", max_questions=2)
    question = await client.next_question()
    server.kill()
    await client.wait_for(lambda: not client.connected, timeout=10)
    pending = asyncio.create_task(client.answer_text(question["index"], ANSWER))
    await asyncio.sleep(0.5)
    assert not pending.done()
    await asyncio.to_thread(server.start)
    ack = await asyncio.wait_for(pending, 20)
    assert ack["ok"] and ack["duplicate"] is False
    await answer_all(client)
    await client.feedback()
    session = json.loads((server.data_dir / "sessions" / f"{client.session_id}.json").read_text())
    assert [t["answer"] is not None for t in session["turns"]] == [True, True]
    await client.close()


async def test_a_new_client_with_the_token_resumes_and_supersedes_the_old_one(server):
    first = InterviewClient(server.url)
    await first.connect()
    await first.start(language="en", mode="text", max_questions=2)
    question = await first.next_question()
    second = InterviewClient(server.url, resume_token=first.resume_token, last_seq=0)
    await second.connect()
    assert second.last_resumed["session_id"] == first.session_id
    assert second.questions[1]["text"] == question["text"]  # replayed from seq 0
    await first.wait_for(lambda: any(n == "error" and d["code"] == "superseded" for n, d in first.live_events))
    await first.close()
    await second.answer_text(1, ANSWER)
    await second.next_question()
    await second.close()


async def test_unknown_token_is_rejected(server):
    client = InterviewClient(server.url, resume_token="d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2.nope")
    with pytest.raises(Exception):
        await client.connect(timeout=5)
    assert isinstance(client.fatal, ResumeRejected)
    await client.close()
