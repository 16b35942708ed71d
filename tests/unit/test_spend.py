"""Issue 19 rows 4, 10, 11: each spend budget's rule, pure Python (no socket, no vendor process)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sio_server.domain.model import Feedback, InterviewConfig
from sio_server.interview.spend import SessionSpend, SpendPolicy
from sio_server.observability.metrics import Metrics
from sio_server.vendors.budget import LLMGate
from sio_server.vendors.fallback import FallbackLLM, FallbackTTS
from sio_server.vendors.llm import FeedbackRequest, QuestionRequest
from sio_server.vendors.offline_llm import OfflineLLM
from sio_server.vendors.silent_tts import OfflineTTS

REQUEST = QuestionRequest(config=InterviewConfig(language="en"), turns=(), index=1, is_last=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """An emitter that records the warnings."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def backlog(self, session_id: str) -> int:
        return 0

    async def emit(self, session_id: str, event: str, data: dict) -> None:
        self.events.append((event, data))

    def codes(self) -> list[tuple[str, str]]:
        return [(d["code"], d["budget"]) for e, d in self.events if e == "warning"]


class VendorLLM:
    """A vendor LLM that counts its calls; ``hold`` keeps a call open until set."""

    name = "vendor"
    offline = False

    def __init__(self) -> None:
        self.calls = 0
        self.hold: asyncio.Event | None = None

    async def stream_question(self, request: QuestionRequest) -> AsyncIterator[str]:
        self.calls += 1
        if self.hold is not None:
            await self.hold.wait()
        yield "From the vendor?"

    async def feedback(self, request: FeedbackRequest) -> Feedback:
        self.calls += 1
        return Feedback(overall_score=70, summary="ok", strengths=[], improvements=[], per_question=[])


class VendorTTS:
    name = "vendor"
    offline = False
    mime = "audio/mpeg"

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        self.texts.append(text)
        yield b"\xff" * 16_000  # one second of 128 kbps mp3


def spend(recorder: Recorder | None = None, clock: Clock | None = None, **policy) -> SessionSpend:
    return SessionSpend(SpendPolicy(**policy), "s1", "linear16", recorder or Recorder(), Metrics(), clock or Clock())


def refusals(s: SessionSpend, budget: str) -> float:
    return s.metrics.budget_refusals.labels(budget)._value.get()  # type: ignore[union-attr]


async def question(chain: FallbackLLM, s=None) -> str:
    return "".join([p async for p in chain.stream_question(REQUEST, None, s)])


# -- drafts ------------------------------------------------------------------------------


def test_two_drafts_per_answer_each_after_the_transcript_grew():
    s = spend(max_drafts=2, draft_min_new_words=4)
    assert s.may_draft(1, words=3, calls_needed=5)
    assert not s.may_draft(1, words=6, calls_needed=5), "3 new words are not enough"
    assert s.may_draft(1, words=7, calls_needed=5)
    assert [s.may_draft(1, words=w, calls_needed=5) for w in (11, 20, 40)] == [False, False, False]
    assert refusals(s, "drafts_per_answer") == 3
    assert s.may_draft(2, words=3, calls_needed=4), "the next answer drafts again"
    assert s.llm_calls == 0, "a draft is charged when its call starts, not when it is allowed"


def test_drafts_never_take_the_calls_the_rest_of_the_interview_needs():
    s = spend(llm_calls=10)
    s.llm_calls = 4
    assert not s.may_draft(1, words=5, calls_needed=6), "4 spent + 1 draft + 6 still needed > 10"
    assert s.may_draft(1, words=5, calls_needed=5)


# -- the session's LLM calls ---------------------------------------------------------------


async def test_past_the_session_budget_questions_and_feedback_go_offline_told_once():
    recorder = Recorder()
    s = spend(recorder, llm_calls=2)
    vendor = VendorLLM()
    chain = FallbackLLM([vendor, OfflineLLM()])
    assert await question(chain, s) == "From the vendor?"
    assert await question(chain, s) == "From the vendor?"
    third = await question(chain, s)
    assert third and third != "From the vendor?" and vendor.calls == 2
    assert (await chain.feedback(FeedbackRequest(config=REQUEST.config, turns=()), s)).fallback is True
    assert vendor.calls == 2
    assert recorder.codes() == [("budget_spent", "session_llm_calls")], "told once"
    assert refusals(s, "session_llm_calls") == 2


async def test_a_draft_past_a_budget_is_refused_quietly():
    recorder = Recorder()
    s = spend(recorder, llm_calls=1)
    s.llm_calls = 1
    chain = FallbackLLM([VendorLLM(), OfflineLLM()])
    await question(chain, s.for_draft())
    assert recorder.events == [] and refusals(s, "session_llm_calls") == 1


# -- the process's LLM gate -----------------------------------------------------------------


def test_gate_counts_concurrent_calls_and_calls_per_minute():
    clock = Clock()
    gate = LLMGate(concurrent=2, per_minute=3, clock=clock)
    assert gate.enter() is None and gate.enter() is None
    assert gate.enter() == "llm_concurrent"
    gate.leave()
    assert gate.enter() is None
    gate.leave()
    gate.leave()
    assert gate.enter() == "llm_per_minute", "3 started in this minute"
    clock.now += 60
    assert gate.enter() is None


def test_optional_work_gets_only_a_share_of_the_gate():
    gate = LLMGate(concurrent=4, per_minute=100, clock=Clock())
    assert gate.enter(optional=True) is None and gate.enter(optional=True) is None
    assert gate.enter(optional=True) == "llm_concurrent", "drafts stop at half the slots"
    assert gate.enter() is None and gate.enter() is None, "questions still get the rest"


async def test_a_busy_gate_sends_new_work_offline_and_the_slot_comes_back():
    recorder = Recorder()
    s = spend(recorder)
    vendor = VendorLLM()
    vendor.hold = asyncio.Event()
    chain = FallbackLLM([vendor, OfflineLLM()], gate=LLMGate(concurrent=1, per_minute=100))
    first = asyncio.create_task(question(chain, s))
    while chain.gate.running == 0:  # type: ignore[union-attr]
        await asyncio.sleep(0)
    second = await question(chain, s)
    assert second != "From the vendor?", "the offline interviewer wrote it"
    assert recorder.codes() == [("llm_busy", "llm_concurrent")]
    vendor.hold.set()
    assert await first == "From the vendor?"
    assert chain.gate.running == 0  # type: ignore[union-attr]
    assert await question(chain, s) == "From the vendor?"


async def test_the_gate_slot_is_given_back_when_the_consumer_gives_up():
    chain = FallbackLLM([VendorLLM(), OfflineLLM()], gate=LLMGate(concurrent=1, per_minute=100))

    async def refuse(name: str, offline: bool, restart: bool) -> None:
        raise RuntimeError("the draft is not wanted")

    with pytest.raises(RuntimeError):
        async for _ in chain.stream_question(REQUEST, refuse):
            pass
    assert chain.gate.running == 0  # type: ignore[union-attr]


# -- TTS ------------------------------------------------------------------------------------


async def speak(chain: FallbackTTS, text: str, s: SessionSpend) -> bytes:
    return b"".join([c async for c in chain.stream(text, persona="friendly", language="en", spend=s)])


async def test_past_the_tts_character_budget_there_is_no_vendor_speech_told_once():
    recorder = Recorder()
    s = spend(recorder, tts_chars=30)
    vendor = VendorTTS()
    chain = FallbackTTS([vendor, OfflineTTS()])
    assert await speak(chain, "Tell me about yourself.", s)  # 23 characters
    assert await speak(chain, "And your last job?", s) == b"", "23 + 18 > 30: silence, no TTSError"
    assert await speak(chain, "Why?", s), "a short one still fits"
    assert vendor.texts == ["Tell me about yourself.", "Why?"]
    assert recorder.codes() == [("budget_spent", "session_tts_chars")]


async def test_past_the_tts_seconds_budget_there_is_no_vendor_speech():
    s = spend(tts_seconds=2)
    vendor = VendorTTS()
    chain = FallbackTTS([vendor, OfflineTTS()])
    for _ in range(3):
        await speak(chain, "One more question?", s)
    assert len(vendor.texts) == 2 and s.tts_seconds == 2.0
    assert refusals(s, "session_tts_seconds") == 1


# -- inbound audio and STT streams -----------------------------------------------------------


def test_audio_is_accepted_at_most_a_quarter_faster_than_real_time():
    clock = Clock()
    s = spend(clock=clock, audio_factor=1.25, audio_burst_s=2.0)
    assert s.take_audio(64_000), "two seconds of linear16 ahead"
    assert not s.take_audio(1)
    clock.now += 1.0
    assert s.take_audio(40_000) and not s.take_audio(1), "then 1.25 x 32,000 B/s"
    assert refusals(s, "audio_realtime") == 2
    webm = SessionSpend(SpendPolicy(webm_bitrate=128_000), audio_format="webm")
    assert webm.policy.audio_bytes_per_second("webm") == 20_000


def test_stt_streams_cool_down_after_an_empty_answer_and_are_capped_per_answer():
    clock = Clock()
    s = spend(clock=clock, stt_cooldown_s=2.0, stt_streams_per_answer=3)
    s.stt_empty()
    assert s.stt_quiet_for() == 0, "no stream was open: nothing to cool down"
    assert s.stt_open() is None
    s.stt_empty()
    assert s.stt_quiet_for() == 2.0
    clock.now += 2.0
    assert s.stt_quiet_for() == 0 and s.stt_open() is None
    s.stt_empty()
    clock.now += 2.0
    assert s.stt_open() is None
    s.stt_empty()
    clock.now += 2.0
    assert s.stt_open() == "stt_streams_per_answer", "three streams for this answer"
    assert refusals(s, "stt_cooldown") == 1
    s.answer_recorded()
    assert s.stt_open() is None, "the next answer opens its own"
