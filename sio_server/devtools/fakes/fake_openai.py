"""A fake OpenAI Chat Completions server (also mounted at Gemini's compat path), with fault injection.

``POST /v1/chat/completions`` and ``POST /v1beta/openai/chat/completions``:
streaming answers are SSE exactly like OpenAI's (role chunk, content chunks,
finish chunk, optional usage chunk, ``data: [DONE]``); non-streaming answers are
the ``chat.completion`` JSON. Replies are scripted with :attr:`replies` /
:attr:`json_replies`; faults are switched on per test.

Usage::

    async with FakeOpenAI() as fake:
        fake.replies.append("Why this role?")
        fake.fail_next(2, 429, retry_after=0.2)
        client = AsyncOpenAI(api_key="k", base_url=fake.url, max_retries=0)
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .fake_server import FakeServer, cut
from .fake_openai_audio import SpeechEndpoint, TranscriptionEndpoint
from .fake_openai_realtime import RealtimeEndpoint
from .openai_errors import Fault, refusal

__all__ = ["DEFAULT_REPLY", "FakeOpenAI", "Fault", "RecordedRequest", "default_feedback", "pieces"]

DEFAULT_REPLY = "Could you tell me about a project you are proud of? What was your role in it?"


@dataclass
class RecordedRequest:
    """What the fake received: path, JSON body, headers and the SDK's retry counter."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    retry_count: int | None
    at: float = field(default_factory=time.monotonic)


def pieces(text: str) -> list[str]:
    """Word-sized tokens with their trailing spaces (``"".join(pieces(t)) == t``)."""
    return re.findall(r"\S+\s*", text) or [text]


def default_feedback(body: dict[str, Any]) -> str:
    """A valid feedback JSON covering the answered questions named in the prompt (``Answer N: …``), categories included."""
    text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    answered = [
        int(n) for n, a in re.findall(r"^Answer (\d+): (.*)$", text, re.MULTILINE) if a.strip() != "(no answer)"
    ]
    return json.dumps(
        {
            "overall_score": 72,
            "summary": "A solid interview with clear examples.",
            "strengths": ["Clear structure"],
            "improvements": ["Quantify your impact"],
            "categories": {"relevance": 78, "structure": 70, "evidence": 61, "clarity": 80},
            "per_question": [
                {
                    "index": i,
                    "score": 70 + i,
                    "comment": f"Answer {i} was clear.",
                    "categories": {"relevance": 75 + i, "structure": 70, "evidence": 60 + i, "clarity": 80},
                }
                for i in answered
            ],
        }
    )


class FakeOpenAI(FakeServer):
    """Fake Chat Completions endpoint.

    Knobs: :attr:`replies` (streamed questions, FIFO; :data:`DEFAULT_REPLY`
    when empty), :attr:`json_replies` (non-streaming contents, FIFO; a valid
    feedback when empty), :meth:`fail_next`, :attr:`header_delay` (before the
    response headers), :attr:`first_token_delay`, :attr:`tokens_per_second`
    (None: as fast as possible), :attr:`cut_after_tokens` (close the TCP
    connection after K content tokens; for the next :attr:`cut_times` streams),
    :attr:`stream_error_after_tokens` (send a ``data: {"error": …}`` event),
    :attr:`include_usage`, :meth:`hang` (every route). Records: :attr:`requests`. Audio: :attr:`speech`
    (``POST /v1/audio/speech``), :attr:`transcriptions`
    (``POST /v1/audio/transcriptions``) and :attr:`realtime` (``GET /v1/realtime``,
    a websocket), each with its own knobs and records.
    """

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.replies: deque[str] = deque()
        self.json_replies: deque[str] = deque()
        self.faults: deque[Fault] = deque()
        self.header_delay = 0.0
        self.first_token_delay = 0.0
        self.tokens_per_second: float | None = None
        self.cut_after_tokens: int | None = None
        self.cut_times = 1
        self.stream_error_after_tokens: int | None = None
        self.include_usage = True
        self.requests: list[RecordedRequest] = []
        self.speech = SpeechEndpoint(api_key)
        self.transcriptions = TranscriptionEndpoint(api_key)
        self.realtime = RealtimeEndpoint(api_key)

    def hang(self, seconds: float = 3600.0) -> None:
        """Hang every route (chat, ``audio/speech``, ``audio/transcriptions``, ``realtime``) ``seconds`` before its headers."""
        self.header_delay = self.speech.header_delay = self.transcriptions.header_delay = seconds
        self.realtime.hang_handshake = seconds

    @property
    def speech_requests(self) -> list:
        """The text-to-speech requests received."""
        return self.speech.requests

    @property
    def url(self) -> str:
        """OpenAI-style base URL: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.origin}/v1"

    @property
    def gemini_url(self) -> str:
        """Gemini-compat base URL: ``http://127.0.0.1:PORT/v1beta/openai/``."""
        return f"{self.origin}/v1beta/openai/"

    @property
    def count(self) -> int:
        """Number of chat-completion requests received."""
        return len(self.requests)

    def retry_counts(self) -> list[int | None]:
        """The ``x-stainless-retry-count`` of each request (always 0 when SDK retries are off)."""
        return [r.retry_count for r in self.requests]

    def fail_next(
        self,
        n: int,
        status: int,
        *,
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        body: Any = None,
        gemini_shape: bool = False,
    ) -> None:
        """Answer the next ``n`` requests with ``status`` (optionally with Retry-After headers)."""
        for _ in range(n):
            self.faults.append(Fault(status, retry_after, retry_after_ms, body, gemini_shape))

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1beta/openai/chat/completions", self._chat)
        app.router.add_post("/v1/audio/speech", self.speech.handle)
        app.router.add_post("/v1/audio/transcriptions", self.transcriptions.handle)
        app.router.add_get("/v1/realtime", self.realtime.handle)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        raw_retry = request.headers.get("x-stainless-retry-count")
        self.requests.append(
            RecordedRequest(request.path, body, dict(request.headers), int(raw_retry) if raw_retry else None)
        )
        refused = await refusal(request, self.api_key, self.faults, self.header_delay)
        if refused is not None:
            return refused
        model = body.get("model", "gpt-fake")
        if body.get("stream"):
            return await self._stream(request, body, model)
        content = self.json_replies.popleft() if self.json_replies else default_feedback(body)
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
            headers={"x-request-id": "req_fake"},
        )

    async def _stream(self, request: web.Request, body: dict[str, Any], model: str) -> web.StreamResponse:
        reply = self.replies.popleft() if self.replies else DEFAULT_REPLY
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": "req_fake"})
        await resp.prepare(request)
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(data)}\n\n".encode()

        await resp.write(chunk({"role": "assistant", "content": ""}))
        if self.first_token_delay:
            await asyncio.sleep(self.first_token_delay)
        step = 1.0 / self.tokens_per_second if self.tokens_per_second else 0.0
        for n, piece in enumerate(pieces(reply)):
            if self.cut_after_tokens is not None and n >= self.cut_after_tokens and self.cut_times > 0:
                self.cut_times -= 1
                await asyncio.sleep(0.01)
                cut(request)
                return resp
            if self.stream_error_after_tokens is not None and n >= self.stream_error_after_tokens:
                err = {
                    "error": {"message": "fake mid-stream error", "type": "server_error", "param": None, "code": None}
                }
                await resp.write(f"data: {json.dumps(err)}\n\n".encode())
                await resp.write_eof()
                return resp
            if n and step:
                await asyncio.sleep(step)
            await resp.write(chunk({"content": piece}))
        await resp.write(chunk({}, "stop"))
        if self.include_usage and (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "prompt_tokens": 9,
                "completion_tokens": len(pieces(reply)),
                "total_tokens": 9 + len(pieces(reply)),
            }
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await resp.write(f"data: {json.dumps(data)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp
