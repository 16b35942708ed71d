"""Requests and clients shared by the vendor tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sio_server.domain.model import InterviewConfig, Turn
from sio_server.vendors.llm import FeedbackRequest, QuestionRequest
from sio_server.vendors.openai_llm import OpenAICompatLLM
from sio_server.vendors.options import ConnectOptions

NOW = datetime(2025, 1, 1, tzinfo=UTC)
CONFIG = InterviewConfig(language="en", persona="friendly", job_title="Backend Engineer", resume_text="Python, Go")


def turns(*answers: str | None) -> tuple[Turn, ...]:
    return tuple(
        Turn(index=i, question=f"Question {i}?", asked_at=NOW, answer=a, answered_at=NOW if a else None)
        for i, a in enumerate(answers, start=1)
    )


def question(
    index: int = 1, *answers: str | None, is_last: bool = False, config: InterviewConfig = CONFIG
) -> QuestionRequest:
    return QuestionRequest(config=config, turns=turns(*answers), index=index, is_last=is_last)


def feedback_request(*answers: str | None) -> FeedbackRequest:
    return FeedbackRequest(config=CONFIG, turns=turns(*answers))


def fast(max_tries: int = 3, timeout: float = 2.0, deadline: float | None = None) -> ConnectOptions:
    return ConnectOptions(max_tries=max_tries, base_delay=0.01, max_delay=0.05, timeout=timeout, deadline=deadline)


def llm(
    base_url: str, *, name: str = "openai", max_tries: int = 3, timeout: float = 2.0, question_deadline: float = 5.0
) -> OpenAICompatLLM:
    return OpenAICompatLLM(name, "sk-test", base_url, "gpt-test", fast(max_tries, timeout), question_deadline)


async def collect(provider, request) -> str:
    return "".join([piece async for piece in provider.stream_question(request)])


def elevenlabs(fake, *, max_tries: int = 3, timeout: float = 2.0):
    from sio_server.vendors.elevenlabs_tts import ElevenLabsTTS

    return ElevenLabsTTS(fake.api_key, fake.url, options=fast(max_tries, timeout))


def openai_tts(fake, *, max_tries: int = 3, timeout: float = 2.0, deadline: float | None = None):
    from sio_server.vendors.openai_tts import OpenAITTS

    return OpenAITTS("sk-test", fake.url, "gpt-4o-mini-tts", fast(max_tries, timeout, deadline))


def openai_stt(fake, *, max_tries: int = 3, timeout: float = 2.0, buffer_bytes: int = 2_000_000):
    from sio_server.vendors.openai_stt import OpenAISTT

    return OpenAISTT("sk-test", fake.url, "gpt-4o-mini-transcribe", fast(max_tries, timeout), buffer_bytes)


class FakeClock:
    """A monotonic clock a test moves by hand (``clock.now += 5``)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
