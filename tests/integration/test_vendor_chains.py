"""The vendor chains through the real server: one OpenAI key for a whole voice interview, TTS
fallback from ElevenLabs to OpenAI, the circuit breaker on a hung LLM, the feedback deadline."""

from __future__ import annotations

import time

import pytest

from client_adapter import InterviewClient
from sio_server.app import create_app
from sio_server.appkeys import METRICS, SERVICE
from sio_server.devtools.fakes.fake_elevenlabs import audio_for

pytestmark = pytest.mark.integration


async def serve(aiohttp_server, settings, base: dict, **update) -> tuple[object, str]:
    server = await aiohttp_server(create_app(settings.model_copy(update={**base, **update})))
    return server, str(server.make_url("/")).rstrip("/")


def openai_only(fake_openai) -> dict:
    return {
        "llm_provider": "openai",
        "openai_api_key": "sk-test",
        "openai_base_url": fake_openai.url,
        "llm_timeout": 2.0,
        "stt_finalize_timeout": 3.0,
    }


def sentences(text: str) -> list[str]:
    return [s.strip() for s in text.replace("?", "?|").replace(".", ".|").split("|") if s.strip()]


def spoken(client: InterviewClient, index: int) -> bytes:
    return b"".join(d["audio"] for d in client.audio.of(index))


def tts_end(client: InterviewClient, index: int) -> dict | None:
    return next((d for n, d in client.live_events if n == "tts_end" and d["index"] == index), None)


def warnings(client: InterviewClient, code: str) -> list[dict]:
    return [d for n, d in client.live_events if n == "warning" and d["code"] == code]


async def test_one_openai_key_gives_a_whole_voice_interview(aiohttp_server, settings, fake_openai):
    fake_openai.replies.extend(["Tell me about your last project. What did you own?", "Any questions for us?"])
    # File transcription (the fake reads the bytes as text); the realtime link in front of it is tested with
    # real speech in tests/integration/test_any_stt.py.
    server, url = await serve(aiohttp_server, settings, {**openai_only(fake_openai), "stt_providers": "openai"})
    client = InterviewClient(url)
    await client.connect()
    ack = await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    assert ack["mode"] == "voice"
    for index, words in enumerate(["I owned the billing service.", "No questions, thank you."], start=1):
        question = await client.next_question()
        assert (
            question["text"]
            == ["Tell me about your last project. What did you own?", "Any questions for us?"][index - 1]
        )
        end = await client.wait_for(lambda index=index: tts_end(client, index))
        assert end["ok"] is True and question["fallback"] is False
        assert spoken(client, index) == b"".join(audio_for(s) for s in sentences(question["text"]))
        data = words.encode()
        for i in range(0, len(data), 8):
            await client.send_audio(data[i : i + 8])
        done = await client.answer_end(index)
        assert done["transcript"] == words
    assert (await client.feedback())["fallback"] is False
    assert any(n == "transcript" and not d["is_final"] for n, d in client.live_events), "interim text from the deltas"
    assert len(fake_openai.transcriptions.requests) == 2 and fake_openai.speech_requests
    assert not [d for n, d in client.live_events if n == "warning"]
    metrics = server.app[METRICS].render().decode()
    assert 'interview_vendor_seconds_count{outcome="ok",stage="tts_first_byte",vendor="openai"}' in metrics
    await client.close()


async def test_elevenlabs_failing_hands_the_speech_to_openai_with_a_warning(
    aiohttp_server, settings, fake_openai, fake_elevenlabs
):
    fake_openai.replies.append("First we talk about you. Then about the role. Ready?")
    fake_elevenlabs.fail_next(100, 503)
    _, url = await serve(
        aiohttp_server,
        settings,
        openai_only(fake_openai),
        elevenlabs_api_key=fake_elevenlabs.api_key,
        elevenlabs_base_url=fake_elevenlabs.url,
        tts_max_tries=2,
        tts_retry_base=0.05,
        vendor_breaker_failures=1,
    )
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    question = await client.next_question()
    end = await client.wait_for(lambda: tts_end(client, 1))
    assert end["ok"] is True
    assert spoken(client, 1) == b"".join(audio_for(s) for s in sentences(question["text"]))
    assert [r.fields["input"] for r in fake_openai.speech_requests] == sentences(question["text"])
    assert fake_elevenlabs.count == 2, "tried (with its retry) for the first sentence, then skipped by its breaker"
    assert len(warnings(client, "tts_fallback")) == 1 and not warnings(client, "tts_failed")
    await client.close()


async def ask_and_time(client: InterviewClient, index: int, answer: str | None) -> tuple[dict, float]:
    """Answer the previous question (or start the interview) and wait for question ``index``: the time it took."""
    started = time.monotonic()
    if answer is None:
        await client.start(language="en", mode="text", max_questions=4)
    else:
        await client.answer_text(index - 1, answer)
    question = await client.next_question(timeout=20)
    assert question["index"] == index
    return question, time.monotonic() - started


async def test_hung_llm_costs_one_deadline_then_is_skipped_until_the_cooldown_ends(
    aiohttp_server, settings, fake_openai
):
    fake_openai.header_delay = 60  # the vendor never answers
    deadline, cooldown = 1.5, 6.0
    server, url = await serve(
        aiohttp_server,
        settings,
        openai_only(fake_openai),
        llm_question_deadline=deadline,
        llm_timeout=30.0,
        vendor_breaker_failures=1,
        vendor_breaker_cooldown=cooldown,
    )
    first, second = InterviewClient(url), InterviewClient(url)
    for client in (first, second):
        await client.connect()
    question, took = await ask_and_time(first, 1, None)
    assert question["fallback"] is True and deadline - 0.1 <= took < deadline + 1.5
    assert fake_openai.count == 1
    # The breaker is open: the next questions, of this session and of another one, skip the vendor at once.
    question, took = await ask_and_time(first, 2, "An answer.")
    assert question["fallback"] is True and took < deadline / 2, took
    question, took = await ask_and_time(second, 1, None)
    assert question["fallback"] is True and took < deadline / 2, took
    assert fake_openai.count == 1, "no request went to the hung vendor"
    assert len(warnings(first, "llm_fallback")) == 2 and len(warnings(second, "llm_fallback")) == 1
    # After the cooldown one trial call decides: it hangs again, costs one deadline, and re-opens the breaker.
    breaker = server.app[SERVICE].llm.links[0].breaker
    await first.wait_for(lambda: time.monotonic() - breaker.opened_at >= cooldown, timeout=cooldown + 5)
    question, took = await ask_and_time(first, 3, "Another answer.")
    assert question["fallback"] is True and deadline - 0.1 <= took < deadline + 1.5
    assert fake_openai.count == 2
    question, took = await ask_and_time(second, 2, "Mine.")
    assert question["fallback"] is True and took < deadline / 2 and fake_openai.count == 2
    for client in (first, second):
        await client.close()


async def test_hung_llm_gives_fallback_feedback_within_the_deadline(aiohttp_server, settings, fake_openai):
    deadline = 2.0
    _, url = await serve(
        aiohttp_server, settings, openai_only(fake_openai), llm_feedback_deadline=deadline, llm_timeout=30.0
    )
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="text", max_questions=1)
    await client.next_question()
    fake_openai.header_delay = 60  # hangs from now on: the feedback request
    started = time.monotonic()
    await client.answer_text(1, "I led the migration to Kubernetes and cut costs by 30%.")
    feedback = await client.feedback(timeout=deadline + 10)
    took = time.monotonic() - started
    assert feedback["fallback"] is True and feedback["per_question"][0]["index"] == 1
    assert took < deadline + 2.0, took
    assert len(warnings(client, "feedback_fallback")) == 1 and not warnings(client, "llm_fallback")
    await client.close()
