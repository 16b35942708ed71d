"""The question pipeline alone: LLM stream -> sentences -> TTS -> emitter, each stage observed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sio_server.domain.model import InterviewConfig
from sio_server.interview import rules
from sio_server.interview.audio_queue import AudioQueue
from sio_server.interview.live import LiveSession
from sio_server.interview.pipeline import QuestionPipeline
from sio_server.interview.preemptive import Draft
from sio_server.observability.metrics import Metrics
from sio_server.vendors.fallback import FallbackLLM, FallbackTTS
from sio_server.vendors.offline_llm import OfflineLLM
from sio_server.vendors.silent_tts import OfflineTTS


class Emitter:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        self.events.append((event, data))

    def backlog(self, session_id: str) -> int:
        return 0


class TwoSentences:
    name = "two"
    offline = False

    async def stream_question(self, request):
        for piece in ("Tell me about", " a project. What was", " your role?"):
            yield piece

    async def feedback(self, request):  # pragma: no cover - not used
        raise NotImplementedError


class EchoTTS:
    """A TTS fake: one audio chunk per sentence, the sentence's own bytes."""

    name = "echo"
    offline = False
    mime = "audio/mpeg"

    def __init__(self) -> None:
        self.sentences: list[str] = []

    async def stream(self, text: str, *, persona: str, language: str):
        self.sentences.append(text)
        yield text.encode()


def stage_count(metrics: Metrics, stage: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "interview_pipeline_stage_seconds_count", {"stage": stage, "outcome": outcome}
    )
    return value or 0.0


def live_session() -> LiveSession:
    session = rules.new_session(InterviewConfig(language="en"), token_hash="", mode="voice")
    return LiveSession(session=session, audio=AudioQueue(4))


async def test_each_sentence_is_spoken_as_soon_as_it_is_written_and_every_stage_is_observed():
    metrics, emitter, tts = Metrics(), Emitter(), EchoTTS()
    pipeline = QuestionPipeline(FallbackLLM([TwoSentences(), OfflineLLM()]), FallbackTTS([tts]), emitter, metrics)
    question = await pipeline.write_question(live_session())
    assert question.text == "Tell me about a project. What was your role?" and not question.fallback
    assert await question.finish()
    assert tts.sentences == ["Tell me about a project.", "What was your role?"]
    chunks = [d["audio"] for e, d in emitter.events if e == "tts_chunk"]
    assert chunks == [b"Tell me about a project.", b"What was your role?"]
    assert emitter.events[-1] == ("tts_end", {"index": 1, "chunks": 2, "ok": True})
    for stage in ("llm", "sentences", "tts"):
        assert stage_count(metrics, stage, "ok") == 1, stage


async def test_a_failing_llm_falls_back_and_the_abandoned_speech_is_observed_as_cancelled():
    class Broken(TwoSentences):
        name = "broken"

        async def stream_question(self, request):
            raise ConnectionError("down")
            yield ""  # pragma: no cover

    metrics, emitter = Metrics(), Emitter()
    pipeline = QuestionPipeline(
        FallbackLLM([Broken(), OfflineLLM()]), FallbackTTS([OfflineTTS()]), emitter, metrics, pipelining=False
    )
    question = await pipeline.write_question(live_session())
    assert question.fallback and question.text
    await question.cancel()
    # One LLM stage across the chain's attempts; the broken provider's speech was cancelled at the switch.
    assert stage_count(metrics, "llm", "ok") == 1 and stage_count(metrics, "llm", "failed") == 0
    assert stage_count(metrics, "tts", "cancelled") == 2
    assert [d["code"] for e, d in emitter.events if e == "warning"] == ["llm_fallback"]


async def test_stage_timing_names_its_outcome_by_how_the_block_ended():
    metrics = Metrics()
    with metrics.stage("llm"):
        pass
    with pytest.raises(ValueError), metrics.stage("llm"):
        raise ValueError("empty")
    with pytest.raises(asyncio.CancelledError), metrics.stage("llm"):
        raise asyncio.CancelledError
    with metrics.stage("tts", started=0.0) as run:
        run.outcome = "failed"
    assert [stage_count(metrics, "llm", o) for o in ("ok", "failed", "cancelled")] == [1, 1, 1]
    assert stage_count(metrics, "tts", "failed") == 1


async def test_a_draft_that_fails_midway_is_unsaid_and_the_same_turn_writes_the_question_with_the_llm():
    metrics, emitter, tts = Metrics(), Emitter(), EchoTTS()
    pipeline = QuestionPipeline(FallbackLLM([TwoSentences(), OfflineLLM()]), FallbackTTS([tts]), emitter, metrics)
    draft = Draft(0, "my answer")

    async def write() -> str:
        draft.add("A drafted sentence. ")
        await asyncio.sleep(0)
        raise ConnectionError("the LLM dropped the draft")

    draft.task = asyncio.create_task(write())
    question = await pipeline.write_question(live_session(), draft)
    assert question.text == "Tell me about a project. What was your role?" and "preemptive" not in question.timings
    assert await question.finish()
    assert stage_count(metrics, "tts", "cancelled") == 1 and stage_count(metrics, "tts", "ok") == 1
    assert [d["index"] for e, d in emitter.events if e == "tts_end"] == [1], "the draft's speech sent no tts_end"
