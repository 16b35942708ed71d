"""Vendor audio merged into fewer ``tts_chunk`` events: first piece at once, the rest by size or by a short timer."""

from __future__ import annotations

import asyncio
from typing import Any

from sio_server.interview.audio_coalescer import AudioCoalescer
from sio_server.interview.speech import QuestionSpeech


class Sent:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    async def __call__(self, audio: bytes) -> None:
        self.parts.append(audio)


async def test_the_first_piece_goes_at_once_and_the_rest_in_pieces_of_at_least_min_bytes():
    sent = Sent()
    c = AudioCoalescer(sent, min_bytes=8, max_delay=60)
    for piece in (b"a", b"bbb", b"ccc", b"ddd", b"e"):
        await c.push(piece)
    assert sent.parts == [b"a", b"bbbcccddd"]
    assert c.pending_bytes == 1
    await c.flush()
    assert sent.parts == [b"a", b"bbbcccddd", b"e"]
    await c.aclose()


async def test_a_slow_vendors_audio_is_sent_within_max_delay():
    sent = Sent()
    c = AudioCoalescer(sent, min_bytes=1 << 20, max_delay=0.02)
    await c.push(b"first")
    await c.push(b"late")
    assert sent.parts == [b"first"]
    async with asyncio.timeout(5):
        while len(sent.parts) < 2:
            await asyncio.sleep(0.005)
    assert sent.parts == [b"first", b"late"]
    await c.aclose()


async def test_paused_audio_stays_until_flushed_or_taken():
    sent = Sent()
    c = AudioCoalescer(sent, min_bytes=1 << 20, max_delay=0.01)
    await c.push(b"x")
    await c.push(b"held")
    c.paused = True
    await asyncio.sleep(0.05)
    assert sent.parts == [b"x"]
    assert c.take() == b"held"
    await c.flush()
    assert sent.parts == [b"x"]
    await c.aclose()


class Emitter:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def emit(self, session_id: str, event: str, data: dict[str, Any]) -> None:
        self.events.append((event, data))


class FastTTS:
    """A vendor that hands over a sentence's audio in many 2 KiB pieces at once."""

    name = "fast"
    offline = False
    mime = "audio/mpeg"

    async def stream(self, text: str, *, persona: str, language: str):
        for i in range(16):
            yield bytes([i]) * 2048


async def test_a_fast_vendors_sentence_is_sent_in_fewer_chunks_numbered_without_gaps():
    emitter = Emitter()
    speech = QuestionSpeech(FastTTS(), emitter, "s1", 1, "professional", "en")
    speech.say("One sentence.")
    speech.say("Another one.")
    assert await speech.finish()
    chunks = [d for e, d in emitter.events if e == "tts_chunk"]
    audio = b"".join(d["audio"] for d in chunks)
    assert audio == (b"".join(bytes([i]) * 2048 for i in range(16))) * 2  # every byte, in order
    assert [d["chunk"] for d in chunks] == list(range(len(chunks)))
    assert len(chunks) <= 10  # 32 vendor pieces: the first alone, the rest by 8 KiB, each sentence ended whole
    assert emitter.events[-1] == ("tts_end", {"index": 1, "chunks": len(chunks), "ok": True})
