"""The fallback chains against the fake vendors: order, restarts, the offline link, the feedback deadline."""

from __future__ import annotations

import time

import pytest

from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs, audio_for
from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from sio_server.vendors.breaker import BreakerOptions
from sio_server.interview.question_turn import QuestionVoice
from sio_server.vendors.fallback import FallbackLLM, FallbackTTS
from sio_server.vendors.stt_fallback import FallbackSTT
from sio_server.vendors.llm import LLMUnavailable
from sio_server.vendors.offline_llm import OfflineLLM
from sio_server.vendors.plugins import STTCapabilities
from sio_server.vendors.silent_tts import OfflineTTS
from sio_server.vendors.stt import STTError
from sio_server.vendors.tts import TTSError

from .helpers import collect, elevenlabs, feedback_request, llm, openai_tts, question


class Attempts:
    """Records ``on_attempt`` calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool, bool]] = []

    async def __call__(self, name: str, offline: bool, restart: bool) -> None:
        self.calls.append((name, offline, restart))


async def test_primary_used_when_healthy(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.replies.append("From OpenAI?")
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini"), OfflineLLM()])
    assert both.name == "openai>gemini>offline" and both.offline is False
    attempts = Attempts()
    assert "".join([p async for p in both.stream_question(question(), attempts)]) == "From OpenAI?"
    assert (fake_openai.count, fake_gemini.count) == (1, 0)
    assert attempts.calls == [("openai", False, False)]


async def test_secondary_used_when_primary_fails_before_writing(
    fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI
) -> None:
    fake_openai.fail_next(10, 401)
    fake_gemini.replies.append("From Gemini?")
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    attempts = Attempts()
    assert "".join([p async for p in both.stream_question(question(), attempts)]) == "From Gemini?"
    assert (fake_openai.count, fake_gemini.count) == (1, 1)
    assert attempts.calls == [("openai", False, False), ("gemini", False, False)]


async def test_all_vendors_fail_then_the_offline_link_answers(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.fail_next(10, 500)
    fake_gemini.fail_next(10, 503)
    vendors = [llm(fake_openai.url, max_tries=2), llm(fake_gemini.gemini_url, name="gemini", max_tries=2)]
    with pytest.raises(LLMUnavailable, match="all LLMs failed"):
        await collect(FallbackLLM(vendors), question())
    attempts = Attempts()
    chain = FallbackLLM([*vendors, OfflineLLM()])
    text = "".join([p async for p in chain.stream_question(question(), attempts)])
    assert "Backend Engineer" in text and attempts.calls[-1] == ("offline", True, False)
    assert (fake_openai.count, fake_gemini.count) == (4, 4)


async def test_part_way_failure_restarts_with_the_next_provider(
    fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI
) -> None:
    fake_openai.replies.append("One two three four five six?")
    fake_openai.cut_after_tokens = 2
    fake_gemini.replies.append("From Gemini?")
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    attempts = Attempts()
    got: list[str] = []
    async for piece in both.stream_question(question(), attempts):
        got.append(piece)
    assert "".join(got) == "One two From Gemini?"
    assert attempts.calls == [("openai", False, False), ("gemini", False, True)]


async def test_part_way_failure_without_on_attempt_ends_the_question(
    fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI
) -> None:
    fake_openai.replies.append("One two three four five six?")
    fake_openai.cut_after_tokens = 2
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini")])
    got: list[str] = []
    with pytest.raises(LLMUnavailable, match="part-way"):
        async for piece in both.stream_question(question()):
            got.append(piece)
    assert "".join(got) == "One two "
    assert fake_gemini.count == 0


async def test_feedback_falls_back_to_the_next_vendor(fake_openai: FakeOpenAI, fake_gemini: FakeOpenAI) -> None:
    fake_openai.json_replies.extend(["bad", "bad"])
    both = FallbackLLM([llm(fake_openai.url), llm(fake_gemini.gemini_url, name="gemini"), OfflineLLM()])
    feedback = await both.feedback(feedback_request("A."))
    assert feedback.per_question[0].index == 1 and feedback.fallback is False
    assert (fake_openai.count, fake_gemini.count) == (2, 1)


async def test_offline_feedback_is_a_fallback_only_behind_a_vendor(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(10, 401)
    assert (await FallbackLLM([OfflineLLM()]).feedback(feedback_request("A."))).fallback is False
    chain = FallbackLLM([llm(fake_openai.url), OfflineLLM()])
    assert (await chain.feedback(feedback_request("A."))).fallback is True


async def test_hung_llm_gives_fallback_feedback_within_the_deadline(fake_openai: FakeOpenAI) -> None:
    fake_openai.header_delay = 60  # the vendor never answers
    deadline = 1.5
    chain = FallbackLLM([llm(fake_openai.url, timeout=30.0), OfflineLLM()], feedback_deadline=deadline)
    started = time.monotonic()
    feedback = await chain.feedback(feedback_request("I led the migration.", "I measured it."))
    elapsed = time.monotonic() - started
    assert feedback.fallback is True and [q.index for q in feedback.per_question] == [1, 2]
    assert deadline - 0.1 <= elapsed < deadline + 2.0


async def test_tts_moves_to_the_next_provider_before_the_first_byte(
    fake_elevenlabs: FakeElevenLabs, fake_openai: FakeOpenAI
) -> None:
    fake_elevenlabs.fail_next(10, 503)
    chain = FallbackTTS([elevenlabs(fake_elevenlabs, max_tries=2), openai_tts(fake_openai), OfflineTTS()])
    attempts = Attempts()
    audio = b"".join(
        [c async for c in chain.stream("Hello there.", persona="friendly", language="en", on_attempt=attempts)]
    )
    assert audio == audio_for("Hello there.")
    assert attempts.calls == [("elevenlabs", False, False), ("openai", False, False)]
    assert fake_elevenlabs.count == 2 and len(fake_openai.speech_requests) == 1


async def test_tts_failure_after_the_first_byte_ends_the_sentence(
    fake_elevenlabs: FakeElevenLabs, fake_openai: FakeOpenAI
) -> None:
    fake_elevenlabs.chunk_size = 16
    fake_elevenlabs.cut_after_bytes = 40
    chain = FallbackTTS([elevenlabs(fake_elevenlabs), openai_tts(fake_openai), OfflineTTS()])
    got: list[bytes] = []
    with pytest.raises(TTSError):
        async for chunk in chain.stream("A sentence long enough for chunks.", persona="friendly", language="en"):
            got.append(chunk)
    assert 0 < len(b"".join(got)) <= 40 and fake_openai.speech_requests == []


async def test_tts_offline_link_speaks_only_without_vendors(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.fail_next(10, 401)
    assert [c async for c in FallbackTTS([OfflineTTS()]).stream("Hi.", persona="friendly", language="en")] == []
    with pytest.raises(TTSError, match="no TTS provider"):
        async for _ in FallbackTTS([elevenlabs(fake_elevenlabs), OfflineTTS()]).stream(
            "Hi.", persona="friendly", language="en"
        ):
            pass


async def test_bound_tts_names_the_provider_speaking_and_does_not_ask_a_failed_one_again(
    fake_elevenlabs: FakeElevenLabs, fake_openai: FakeOpenAI
) -> None:
    fake_elevenlabs.fail_next(1, 401)
    switched: list[str] = []

    async def on_switch(name: str) -> None:
        switched.append(name)

    bound = QuestionVoice(FallbackTTS([elevenlabs(fake_elevenlabs), openai_tts(fake_openai), OfflineTTS()]), on_switch)
    assert bound.name == "elevenlabs"
    assert b"".join([c async for c in bound.stream("One.", persona="friendly", language="en")]) == audio_for("One.")
    assert bound.name == "openai" and switched == ["openai"]
    assert b"".join([c async for c in bound.stream("Two.", persona="friendly", language="en")]) == audio_for("Two.")
    assert bound.name == "openai" and switched == ["openai"], "the rest of the question stays with the provider that works"
    assert fake_elevenlabs.count == 1


async def test_a_hung_tts_vendor_costs_one_first_byte_deadline_then_its_breaker_skips_it(
    fake_elevenlabs: FakeElevenLabs, fake_openai: FakeOpenAI
) -> None:
    fake_elevenlabs.first_byte_delay = 60  # never sends audio; each try would wait its 30 s timeout
    deadline = 0.5
    chain = FallbackTTS(
        [elevenlabs(fake_elevenlabs, timeout=30.0), openai_tts(fake_openai), OfflineTTS()],
        BreakerOptions(failures=1, cooldown=60),
        first_byte_deadline=deadline,
    )
    started = time.monotonic()
    audio = b"".join([c async for c in chain.stream("One.", persona="friendly", language="en")])
    took = time.monotonic() - started
    assert audio == audio_for("One.") and deadline <= took < deadline + 1.0, took
    assert chain.links[0].breaker.state == "open", "the deadline counts as a failure"
    started = time.monotonic()
    assert b"".join([c async for c in chain.stream("Two.", persona="friendly", language="en")]) == audio_for("Two.")
    assert time.monotonic() - started < deadline, "skipped at once, in any session"
    assert fake_elevenlabs.count == 1


async def test_a_tts_chain_with_only_a_hung_vendor_fails_the_sentence_at_the_deadline(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech.header_delay = 60
    chain = FallbackTTS([openai_tts(fake_openai, timeout=30.0), OfflineTTS()], first_byte_deadline=0.5)
    started = time.monotonic()
    with pytest.raises(TTSError, match="no audio within 0.5s"):
        async for _ in chain.stream("Hi.", persona="friendly", language="en"):
            pass
    assert time.monotonic() - started < 1.5
    assert chain.links[0].breaker.failures == 1


class RefusingSTT:
    name = "refusing"
    offline = False
    capabilities = STTCapabilities(streaming=True, interim_results=False)

    def __init__(self) -> None:
        self.opened = 0

    async def open(self, *, audio_format, language, on_transcript):
        self.opened += 1
        raise STTError("cannot open")


async def test_stt_opens_the_first_provider_that_works(fake_openai: FakeOpenAI) -> None:
    from .helpers import openai_stt

    refusing = RefusingSTT()
    chain = FallbackSTT([refusing, openai_stt(fake_openai)], BreakerOptions(failures=1, cooldown=60))
    heard: list[tuple[str, bool]] = []

    async def on_transcript(text: str, is_final: bool) -> None:
        heard.append((text, is_final))

    for words in ("First answer.", "Second answer."):
        stream = await chain.open(audio_format="linear16", language="en", on_transcript=on_transcript)
        await stream.send(words.encode())
        assert await stream.finish() == words
    assert refusing.opened == 1, "the breaker skips the refusing provider for the second answer"
    assert heard[-1] == ("Second answer.", True)
    with pytest.raises(STTError, match="no STT provider"):
        await FallbackSTT([RefusingSTT()]).open(audio_format="webm", language="en", on_transcript=on_transcript)
