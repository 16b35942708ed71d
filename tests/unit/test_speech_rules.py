"""A question's speech never holds the interview: who speaks, when a question's speech gives up, and the
step that writes the next question never waiting for the last one's audio."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sio_server.domain.model import InterviewConfig
from sio_server.interview import rules
from sio_server.interview.pipeline import QuestionPipeline
from sio_server.interview.question_turn import QuestionVoice
from sio_server.interview.build import ServicePolicy, build_service
from sio_server.interview.service import InterviewService
from sio_server.interview.speech import QuestionSpeech
from sio_server.observability.metrics import Metrics
from sio_server.store.files import FileSessionStore
from sio_server.vendors.fallback import FallbackLLM, FallbackTTS
from sio_server.vendors.offline_llm import OfflineLLM
from sio_server.vendors.silent_tts import OfflineTTS
from sio_server.vendors.tts import TTSError
from tests.support.waiting import wait_until
from tests.unit.test_pipeline import EchoTTS, Emitter, TwoSentences, live_session


class HungTTS:
    """A TTS vendor that never sends a byte; counts its requests."""

    name = "hung"
    offline = False
    mime = "audio/mpeg"

    def __init__(self) -> None:
        self.requests = 0

    async def stream(self, text: str, *, persona: str, language: str):
        self.requests += 1
        await asyncio.Event().wait()
        yield b""  # pragma: no cover


class FailingTTS(HungTTS):
    name = "failing"

    async def stream(self, text: str, *, persona: str, language: str):
        self.requests += 1
        raise TTSError("failing: 503")
        yield b""  # pragma: no cover


class SlowLLM(TwoSentences):
    name = "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def stream_question(self, request):
        await asyncio.sleep(self.delay)
        async for piece in super().stream_question(request):
            yield piece


@pytest.mark.parametrize(
    ("mode", "asked", "spoken"),
    [("voice", None, True), ("text", None, False), ("text", True, True), ("voice", False, False)],
)
def test_questions_are_spoken_as_asked_else_in_voice_interviews_only(mode, asked, spoken):
    config = InterviewConfig(mode=mode, speak_questions=asked)
    assert rules.speaks_questions(config) is spoken
    assert rules.new_session(config, token_hash="", mode="text").config.speak_questions is spoken, "stored decided"


def speech(tts, emitter: Emitter) -> QuestionSpeech:
    return QuestionSpeech(FallbackTTS([tts, OfflineTTS()]), emitter, "s1", 1, "professional", "en")


async def test_a_failed_sentence_ends_the_question_speech_with_one_warning_and_no_more_requests():
    emitter, tts = Emitter(), FailingTTS()
    spoken = speech(tts, emitter)
    for sentence in ("One.", "Two.", "Three."):
        spoken.say(sentence)
    assert await spoken.finish() is False
    assert tts.requests == 1, "the rest of the question is not retried sentence by sentence"
    assert [d["code"] for e, d in emitter.events if e == "warning"] == ["tts_failed"]
    assert [d for e, d in emitter.events if e == "tts_end"] == [{"index": 1, "chunks": 0, "ok": False}]


async def test_a_hung_provider_fails_at_the_first_byte_deadline_and_is_not_asked_again_in_the_question():
    emitter, tts = Emitter(), HungTTS()
    chain = FallbackTTS([tts, OfflineTTS()], first_byte_deadline=0.2)
    spoken = QuestionSpeech(QuestionVoice(chain, lambda name: asyncio.sleep(0)), emitter, "s1", 1, "professional", "en")  # type: ignore[arg-type]
    for sentence in ("One.", "Two.", "Three."):
        spoken.say(sentence)
    started = time.monotonic()
    assert await spoken.finish() is False
    assert time.monotonic() - started < 1.0 and tts.requests == 1
    assert chain.links[0].breaker.failures == 1
    assert [e for e, _ in emitter.events] == ["warning", "tts_end"]


async def test_stop_ends_a_hung_speech_at_once_with_tts_end_not_ok():
    emitter, tts = Emitter(), HungTTS()
    spoken = speech(tts, emitter)
    spoken.say("One.")
    finishing = asyncio.create_task(spoken.finish())
    await wait_until(lambda: tts.requests == 1)
    spoken.stop()
    assert await asyncio.wait_for(finishing, 1.0) is False
    assert [d for e, d in emitter.events if e == "tts_end"] == [{"index": 1, "chunks": 0, "ok": False}]
    spoken.stop()  # again: nothing more is sent
    assert len([e for e, _ in emitter.events if e == "tts_end"]) == 1


async def test_stop_after_everything_was_spoken_keeps_the_speech_ok():
    emitter = Emitter()
    spoken = speech(EchoTTS(), emitter)
    spoken.say("One.")
    finishing = asyncio.create_task(spoken.finish())
    await wait_until(lambda: spoken.chunks == 1)
    await asyncio.sleep(0)
    await finishing
    spoken.stop()
    assert [d for e, d in emitter.events if e == "tts_end"] == [{"index": 1, "chunks": 1, "ok": True}]


async def test_a_text_interview_without_spoken_questions_never_calls_tts():
    metrics, emitter, tts = Metrics(), Emitter(), EchoTTS()
    pipeline = QuestionPipeline(FallbackLLM([TwoSentences(), OfflineLLM()]), FallbackTTS([tts]), emitter, metrics)
    live = live_session()
    live.session.config = InterviewConfig(language="en", mode="text", speak_questions=False)
    question = await pipeline.write_question(live)
    assert question.text and question.speech is None and live.speech is None
    assert tts.sentences == [] and not [e for e, _ in emitter.events if e.startswith("tts")]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], float]] = []

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        self.events.append((event, data, time.monotonic()))

    def backlog(self, session_id: str) -> int:
        return 0

    def named(self, name: str) -> list[dict[str, Any]]:
        return [d for e, d, _ in self.events if e == name]

    def at(self, name: str, **match: Any) -> float:
        return next(t for e, d, t in self.events if e == name and all(d.get(k) == v for k, v in match.items()))


async def service_with(tmp_path, llm, tts, slow_notice: float = 0.0) -> tuple[InterviewService, Recorder]:
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    emitter = Recorder()
    chain = FallbackLLM([llm, OfflineLLM()])
    service = build_service(store, chain, emitter, ServicePolicy(slow_notice=slow_notice), tts=FallbackTTS([tts, OfflineTTS()]))
    return service, emitter


async def test_the_next_question_never_waits_for_the_last_ones_audio(tmp_path):
    tts = HungTTS()  # no deadline: only the answer ends the speech
    service, emitter = await service_with(tmp_path, TwoSentences(), tts)
    live, _ = await service.start(InterviewConfig(language="en", mode="voice", max_questions=3))
    await service.registry.bind("socket", live, join=False)
    service.ensure_step(live)
    await wait_until(lambda: emitter.named("question"))
    assert not emitter.named("tts_end") and live.speaking is not None and not live.busy, "the step is done; speech goes on"
    answered = time.monotonic()
    await service.answer(live, 1, "An answer of mine.")
    await wait_until(lambda: len(emitter.named("question")) == 2, timeout=2.0)
    assert emitter.at("question", index=2) - answered < 0.5
    assert emitter.named("tts_end")[0] == {"index": 1, "chunks": 0, "ok": False}
    assert emitter.at("tts_end", index=1) < emitter.at("question", index=2), "cut short before the next question"
    await service.close()
    assert live.speaking is None or live.speaking.done()


async def test_a_slow_question_sends_llm_slow_while_the_candidate_waits(tmp_path):
    service, emitter = await service_with(tmp_path, SlowLLM(0.6), EchoTTS(), slow_notice=0.2)
    live, _ = await service.start(InterviewConfig(language="en", mode="text"))
    await service.registry.bind("socket", live, join=False)
    service.ensure_step(live)
    await wait_until(lambda: emitter.named("question"))
    slow = emitter.named("warning")
    assert [(w["code"], w["step"]) for w in slow] == [("llm_slow", "question")]
    assert emitter.at("warning", code="llm_slow") < emitter.at("question", index=1)
    await service.close()


async def test_a_quick_question_sends_no_llm_slow(tmp_path):
    service, emitter = await service_with(tmp_path, TwoSentences(), EchoTTS(), slow_notice=0.5)
    live, _ = await service.start(InterviewConfig(language="en", mode="text"))
    await service.registry.bind("socket", live, join=False)
    service.ensure_step(live)
    await wait_until(lambda: emitter.named("question"))
    await asyncio.sleep(0.7)  # past the notice's time: its timer was cancelled with the step
    assert not emitter.named("warning")
    await service.close()
