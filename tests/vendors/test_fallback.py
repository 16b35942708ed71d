"""FallbackLLM and make_vendor_llm."""

from __future__ import annotations

import pytest

from sio_server.settings import Settings
from sio_server.vendors.fallback import FallbackLLM, LLMUnavailable, make_vendor_llm
from sio_server.vendors.openai_llm import OpenAICompatLLM
from tests.fakes.fake_openai import FakeOpenAI

from .helpers import collect, feedback_request, llm, question


async def test_primary_used_when_healthy(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.replies.append("From OpenAI?")
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    assert both.name == "openai>gemini" and both.offline is False
    assert await collect(both, question()) == "From OpenAI?"
    assert (fake_openai.count, fake_gemini.count) == (1, 0)


async def test_secondary_used_when_primary_fails_before_writing(
    fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI
) -> None:
    fake_openai.fail_next(10, 401)
    fake_gemini.replies.append("From Gemini?")
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    assert await collect(both, question()) == "From Gemini?"
    assert (fake_openai.count, fake_gemini.count) == (1, 1)


async def test_all_fail_raises_unavailable(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.fail_next(10, 500)
    fake_gemini.fail_next(10, 503)
    both = FallbackLLM([llm(fake_openai.url, max_tries=2), llm(fake_gemini.gemini_url, name="gemini", max_tries=2)])
    with pytest.raises(LLMUnavailable, match="all LLMs failed"):
        await collect(both, question())
    assert (fake_openai.count, fake_gemini.count) == (2, 2)


async def test_no_switch_after_primary_started(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.replies.append("One two three four five six?")
    fake_openai.cut_after_tokens = 2
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    got: list[str] = []
    with pytest.raises(LLMUnavailable):
        async for piece in both.stream_question(question()):
            got.append(piece)
    assert "".join(got) == "One two "
    assert fake_gemini.count == 0


async def test_feedback_falls_back(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.json_replies.extend(["bad", "bad"])
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    feedback = await both.feedback(feedback_request("A."))
    assert feedback.per_question[0].index == 1
    assert (fake_openai.count, fake_gemini.count) == (2, 1)


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)


def test_make_vendor_llm() -> None:
    assert make_vendor_llm(_settings()) is None
    assert make_vendor_llm(_settings(openai_api_key="k", llm_provider="offline")) is None
    single = make_vendor_llm(_settings(google_api_key="g"))
    assert isinstance(single, OpenAICompatLLM) and single.name == "gemini"
    both = make_vendor_llm(_settings(openai_api_key="k", google_api_key="g"))
    assert isinstance(both, FallbackLLM) and both.name == "openai>gemini"
    swapped = make_vendor_llm(_settings(openai_api_key="k", google_api_key="g", llm_provider="gemini"))
    assert isinstance(swapped, FallbackLLM) and swapped.name == "gemini>openai"
