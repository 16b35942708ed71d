"""OpenAICompatLLM against the fake Chat Completions server over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from sio_server.settings import Settings
from sio_server.vendors.gemini_llm import GeminiSettings, gemini_llm
from sio_server.vendors.llm import LLMUnavailable
from sio_server.vendors.llm_prompts import question_messages
from sio_server.vendors.openai_llm import openai_llm

from .helpers import collect, feedback_request, llm, question

CATS = {"relevance": 80, "structure": 70, "evidence": 60, "clarity": 90}
REPLY = "Welcome! Could you tell me about yourself? What drew you to backend work?"


async def test_streams_question_tokens(fake_openai: FakeOpenAI) -> None:
    fake_openai.replies.append(REPLY)
    client = llm(fake_openai.url)
    pieces = [p async for p in client.stream_question(question(2, "I built APIs in Go."))]
    assert "".join(pieces) == REPLY
    assert len(pieces) > 3
    body = fake_openai.requests[0].body
    assert body["stream"] is True and body["model"] == "gpt-test"
    assert body["messages"][0]["role"] == "system" and "Backend Engineer" in body["messages"][0]["content"]
    assert "I built APIs in Go." in body["messages"][1]["content"]
    assert fake_openai.retry_counts() == [None]  # the question is sent by our aiohttp client, not the SDK
    await client.aclose()


async def test_gemini_base_path(fake_openai: FakeOpenAI) -> None:
    client = llm(fake_openai.gemini_url, name="gemini")
    assert await collect(client, question()) != ""
    assert fake_openai.requests[0].path == "/v1beta/openai/chat/completions"


def test_prompt_language_and_closing() -> None:
    from sio_server.domain.model import InterviewConfig

    ko = InterviewConfig(language="ko", persona="challenging", job_title="데이터 엔지니어", resume_text="x" * 10_000)
    messages = question_messages(question(3, "답변1", "답변2", is_last=True, config=ko))
    system, user = messages[0]["content"], messages[1]["content"]
    assert "한국어" in system and "데이터 엔지니어" in system and "까다로운" in system
    assert "마지막 질문" in user and "답변2" in user
    assert len(system) < 6000  # resume trimmed


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_retries_transient_status_then_succeeds(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.fail_next(2, status)
    fake_openai.replies.append(REPLY)
    assert await collect(llm(fake_openai.url, max_tries=3), question()) == REPLY
    assert fake_openai.count == 3
    assert fake_openai.retry_counts() == [None, None, None]  # our own client: no SDK retry header, no SDK retries


async def test_gives_up_after_max_tries(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(10, 500)
    with pytest.raises(LLMUnavailable):
        await collect(llm(fake_openai.url, max_tries=3), question())
    assert fake_openai.count == 3


async def test_honours_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, 429, retry_after=0.4)
    fake_openai.fail_next(1, 429, retry_after_ms=200)
    client = llm(fake_openai.url)  # made before the clock starts: the SDK's first import takes seconds on a loaded machine
    start = time.monotonic()
    assert await collect(client, question())
    gaps = [b.at - a.at for a, b in zip(fake_openai.requests, fake_openai.requests[1:])]
    assert 0.38 <= gaps[0] < 0.8 and 0.18 <= gaps[1] < 0.6
    assert time.monotonic() - start < 2


async def test_gemini_error_shape_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, 503, gemini_shape=True)
    assert await collect(llm(fake_openai.gemini_url), question())
    assert fake_openai.count == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_never_retries_client_errors(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.fail_next(5, status)
    with pytest.raises(LLMUnavailable):
        await collect(llm(fake_openai.url), question())
    assert fake_openai.count == 1


async def test_connection_refused_is_retried(refused_url: str) -> None:
    client = llm(refused_url + "/v1", max_tries=2)
    start = time.monotonic()
    with pytest.raises(LLMUnavailable, match="ClientConnectorError"):
        await collect(client, question())
    assert time.monotonic() - start < 2


async def test_deadline_bounds_the_question(fake_openai: FakeOpenAI) -> None:
    fake_openai.first_token_delay = 5
    client = llm(fake_openai.url, timeout=10, question_deadline=0.5)
    start = time.monotonic()
    with pytest.raises(LLMUnavailable, match="within"):
        await collect(client, question())
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize("slow_reader", [False, True])
async def test_deadline_bounds_a_stream_already_started(fake_openai: FakeOpenAI, slow_reader: bool) -> None:
    fake_openai.replies.append(REPLY)
    fake_openai.tokens_per_second = 4  # about 4 s for the reply
    client = llm(fake_openai.url, timeout=10, question_deadline=0.6)
    start = time.monotonic()
    pieces: list[str] = []
    with pytest.raises(LLMUnavailable, match="not finished within"):
        async for piece in client.stream_question(question()):
            pieces.append(piece)
            if slow_reader:
                await asyncio.sleep(0.7)  # the deadline passes while the caller holds the stream
    assert pieces and time.monotonic() - start < 2.0
    await client.aclose()


async def test_deadline_includes_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(10, 429, retry_after=2)
    client = llm(fake_openai.url, max_tries=5, question_deadline=0.6)
    start = time.monotonic()
    with pytest.raises(LLMUnavailable):
        await collect(client, question())
    assert time.monotonic() - start < 1.0
    assert fake_openai.count <= 2


async def test_timeout_per_attempt_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.header_delay = 0.5
    client = llm(fake_openai.url, max_tries=2, timeout=0.2)
    with pytest.raises(LLMUnavailable, match="SocketTimeoutError"):
        await collect(client, question())
    assert fake_openai.count == 2


async def test_cut_before_first_token_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.replies.extend([REPLY, REPLY])
    fake_openai.cut_after_tokens = 0
    assert await collect(llm(fake_openai.url), question()) == REPLY
    assert fake_openai.count == 2


async def test_cut_after_tokens_raises_and_is_not_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.replies.append(REPLY)
    fake_openai.cut_after_tokens = 3
    got: list[str] = []
    with pytest.raises(LLMUnavailable, match="stream broke"):
        async for piece in llm(fake_openai.url).stream_question(question()):
            got.append(piece)
    assert "".join(got) == "Welcome! Could you "
    assert fake_openai.count == 1


async def test_error_event_mid_stream_raises(fake_openai: FakeOpenAI) -> None:
    fake_openai.stream_error_after_tokens = 2
    with pytest.raises(LLMUnavailable):
        await collect(llm(fake_openai.url), question())
    assert fake_openai.count == 1


async def test_feedback_parses_json(fake_openai: FakeOpenAI) -> None:
    feedback = await llm(fake_openai.url).feedback(feedback_request("I did X.", None, "I did Y."))
    assert [q.index for q in feedback.per_question] == [1, 3]
    assert feedback.overall_score == 72 and feedback.fallback is False
    body = fake_openai.requests[0].body
    assert body["response_format"] == {"type": "json_object"} and not body.get("stream")
    assert feedback.categories is not None and feedback.categories.evidence == 61
    assert [q.categories.relevance for q in feedback.per_question] == [76, 78]
    prompt = body["messages"][0]["content"]
    assert all(f'"{name}": int 0-100' in prompt for name in ("relevance", "structure", "evidence", "clarity"))


async def test_feedback_overall_categories_default_to_the_mean_of_the_answers(fake_openai: FakeOpenAI) -> None:
    per = [
        {"index": 1, "score": 80, "comment": "c", "categories": CATS | {"relevance": 90}},
        {"index": 2, "score": 60, "comment": "c", "categories": CATS | {"relevance": 70}},
    ]
    reply = {"overall_score": 47, "summary": "s", "strengths": [], "improvements": [], "per_question": per}
    fake_openai.json_replies.append(json.dumps(reply))
    feedback = await llm(fake_openai.url).feedback(feedback_request("A.", "B.", None))
    assert feedback.categories is not None and feedback.categories.relevance == round(160 / 3)


async def test_feedback_invalid_json_retried_once_then_ok(fake_openai: FakeOpenAI) -> None:
    fake_openai.json_replies.append("not json {")
    feedback = await llm(fake_openai.url).feedback(feedback_request("A.", "B."))
    assert [q.index for q in feedback.per_question] == [1, 2]
    assert fake_openai.count == 2
    corrective = fake_openai.requests[1].body["messages"]
    assert corrective[-2] == {"role": "assistant", "content": "not json {"}
    assert "not valid JSON" in corrective[-1]["content"]


@pytest.mark.parametrize(
    "bad",
    [
        "still not json",
        json.dumps({"overall_score": 150, "summary": "s", "strengths": [], "improvements": [], "per_question": []}),
        json.dumps(
            {
                "overall_score": 50,
                "summary": "s",
                "strengths": [],
                "improvements": [],
                "per_question": [{"index": 7, "score": 50, "comment": "c"}],
            }
        ),
        json.dumps(
            {
                "overall_score": 50,
                "summary": "s",
                "strengths": [],
                "improvements": [],
                "per_question": [{"index": 1, "score": 50, "comment": "c", "categories": CATS | {"evidence": 101}}],
            }
        ),
        json.dumps(
            {
                "overall_score": 50,
                "summary": "s",
                "strengths": [],
                "improvements": [],
                "categories": {"relevance": 50, "structure": 50, "evidence": 50},
                "per_question": [{"index": 1, "score": 50, "comment": "c"}],
            }
        ),
    ],
)
async def test_feedback_invalid_twice_is_unavailable(fake_openai: FakeOpenAI, bad: str) -> None:
    fake_openai.json_replies.extend([bad, bad])
    with pytest.raises(LLMUnavailable, match="unusable"):
        await llm(fake_openai.url).feedback(feedback_request("A."))
    assert fake_openai.count == 2


async def test_feedback_accepts_fenced_json(fake_openai: FakeOpenAI) -> None:
    content = json.dumps(
        {
            "overall_score": 60,
            "summary": "ok",
            "strengths": ["a"],
            "improvements": ["b"],
            "per_question": [{"index": 1, "score": 61, "comment": "c"}],
        }
    )
    fake_openai.json_replies.append(f"```json\n{content}\n```")
    feedback = await llm(fake_openai.url).feedback(feedback_request("A."))
    assert feedback.per_question[0].score == 61


async def test_feedback_retries_transport_errors(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(2, 500)
    assert (await llm(fake_openai.url).feedback(feedback_request("A."))).overall_score == 72
    assert fake_openai.count == 3


def test_factories_use_settings() -> None:
    settings = Settings(
        _env_file=None,
        openai_api_key="sk-1",
        openai_base_url="http://127.0.0.1:1/v1",
        google_api_key="g-1",
        llm_max_tries=4,
        llm_timeout=7,
        llm_question_deadline=9,
    )
    o, g = openai_llm(settings), gemini_llm(settings)
    assert (o.name, o.model, o.options.max_tries, o.options.timeout, o.question_deadline) == (
        "openai",
        "gpt-4o-mini",
        4,
        7,
        9,
    )
    assert str(o.client.base_url) == "http://127.0.0.1:1/v1/" and o.client.max_retries == 0
    gemini = GeminiSettings.from_core(settings)
    assert g.name == "gemini" and g.model == gemini.model == "gemini-2.0-flash" and gemini.api_key == "g-1"
    assert str(g.client.base_url) == gemini.base_url
