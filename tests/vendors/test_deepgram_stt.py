"""DeepgramSTT against the fake Deepgram websocket (the audio bytes are UTF-8 words)."""

from __future__ import annotations

import asyncio
import time

import pytest

from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram
from sio_server.vendors.deepgram_stt import DeepgramSTT
from sio_server.vendors.stt import STTError
from tests.support.waiting import wait_until

from .helpers import fast

ANSWER = "I led the migration. It cut costs by 30 percent. We shipped in two weeks."


def words(text: str) -> list[bytes]:
    return [(w + " ").encode() for w in text.split(" ")]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []

    async def __call__(self, text: str, is_final: bool) -> None:
        self.events.append((text, is_final))

    @property
    def finals(self) -> list[str]:
        return [t for t, f in self.events if f]


def stt(fake: FakeDeepgram, **kw) -> DeepgramSTT:
    kw.setdefault("options", fast(3))
    kw.setdefault("finalize_timeout", 1.0)
    return DeepgramSTT(kw.pop("api_key", fake.api_key), fake.url, "nova-2", **kw)


async def speak(stream, text: str, gap: float = 0.0) -> None:
    for chunk in words(text):
        await stream.send(chunk)
        if gap:
            await asyncio.sleep(gap)


async def test_interim_and_final_transcripts(fake_deepgram: FakeDeepgram) -> None:
    rec = Recorder()
    client = stt(fake_deepgram)
    stream = await client.open(audio_format="webm", language="en", on_transcript=rec)
    await speak(stream, ANSWER, gap=0.005)
    transcript = await stream.finish()
    assert transcript == ANSWER
    assert " ".join(rec.finals) == ANSWER
    assert any(not final for _, final in rec.events)  # interim results too
    conn = fake_deepgram.connections[0]
    assert conn.headers["Authorization"] == f"Token {fake_deepgram.api_key}"
    assert conn.query["model"] == "nova-2" and conn.query["language"] == "en"
    assert conn.query["interim_results"] == "true" and conn.query["smart_format"] == "true"
    assert "encoding" not in conn.query  # webm: container auto-detected
    assert [t["type"] for t in conn.texts][-2:] == ["Finalize", "CloseStream"]
    assert conn.closed_by_client_stream
    await client.aclose()


async def test_linear16_params(fake_deepgram: FakeDeepgram) -> None:
    stream = await stt(fake_deepgram).open(audio_format="linear16", language="ko", on_transcript=Recorder())
    await speak(stream, "안녕하세요 저는 개발자입니다.")
    assert await stream.finish() == "안녕하세요 저는 개발자입니다."
    q = fake_deepgram.connections[0].query
    assert (q["encoding"], q["sample_rate"], q["channels"], q["language"]) == ("linear16", "16000", "1", "ko")


async def test_finalize_flushes_the_last_words(fake_deepgram: FakeDeepgram) -> None:
    rec = Recorder()
    stream = await stt(fake_deepgram).open(audio_format="webm", language="en", on_transcript=rec)
    await speak(stream, "no full stop at the end")
    assert await stream.finish() == "no full stop at the end"
    last = fake_deepgram.connections[0].sent[-2]
    assert last["from_finalize"] is True


async def test_keepalive_during_silence(fake_deepgram: FakeDeepgram) -> None:
    stream = await stt(fake_deepgram, keepalive_interval=0.1).open(
        audio_format="webm", language="en", on_transcript=Recorder()
    )
    await speak(stream, "hello there.")
    conn = fake_deepgram.connections[0]
    await wait_until(lambda: conn.keepalives >= 3, what="three KeepAlives during silence")
    gaps = [b - a for a, b in zip(conn.keepalive_times, conn.keepalive_times[1:])]
    assert min(gaps) >= 0.05, f"KeepAlives closer than the interval allows: {gaps}"  # interval 0.1 s
    count = conn.keepalives
    sent = []
    for _ in range(6):  # no KeepAlive while audio flows: only a gap of >= 0.1 s between chunks may hold one
        await stream.send(b"more ")
        sent.append(time.monotonic())
        await asyncio.sleep(0.02)
    await stream.send(b"more ")
    sent.append(time.monotonic())
    allowed = 1 + sum(int((b - a) / 0.1) for a, b in zip(sent, sent[1:]))  # 1: one already on its way
    assert conn.keepalives - count <= allowed
    await stream.finish()


async def test_finalize_timeout_bounds_finish(fake_deepgram: FakeDeepgram) -> None:
    fake_deepgram.ignore_finalize = True
    fake_deepgram.final_delay = 0.0
    stream = await stt(fake_deepgram, finalize_timeout=0.3).open(
        audio_format="webm", language="en", on_transcript=Recorder()
    )
    await speak(stream, "First sentence. and then")
    start = time.monotonic()
    transcript = await stream.finish()
    assert time.monotonic() - start < 1.0
    assert transcript.startswith("First sentence.")  # CloseStream still flushed the rest
    assert transcript == "First sentence. and then"


async def test_reconnect_resends_audio_without_duplicates(fake_deepgram: FakeDeepgram) -> None:
    fake_deepgram.drop_after_bytes = len(b"I led the migration. It cut costs ")
    rec = Recorder()
    stream = await stt(fake_deepgram).open(audio_format="webm", language="en", on_transcript=rec)
    await speak(stream, ANSWER, gap=0.01)
    transcript = await stream.finish()
    assert transcript == ANSWER
    assert " ".join(rec.finals) == ANSWER  # the final sent before the drop is not repeated
    assert len(fake_deepgram.connections) == 2 and fake_deepgram.connections[0].dropped
    assert bytes(fake_deepgram.connections[1].audio) == b"".join(words(ANSWER))
    assert stream.reconnects == 1


async def test_final_words_keep_their_times_once_also_across_a_reconnect(fake_deepgram: FakeDeepgram) -> None:
    """``words``: every final word once, in order, with Deepgram's times (the fake: one byte per 1/32000 s)."""
    fake_deepgram.drop_after_bytes = len(b"I led the migration. It cut costs ")
    stream = await stt(fake_deepgram).open(audio_format="webm", language="en", on_transcript=Recorder())
    await speak(stream, ANSWER, gap=0.01)
    assert await stream.finish() == ANSWER
    assert [w.text for w in stream.words] == ANSWER.split(" ")
    assert stream.words[0].start == 0.0 and stream.words[1].start == len(b"I ") / 32000
    assert all(a.end <= b.start for a, b in zip(stream.words, stream.words[1:]))
    assert fake_deepgram.connections[0].query["filler_words"] == "true"  # Deepgram keeps "um" and "uh"


async def test_reconnect_during_finish(fake_deepgram: FakeDeepgram) -> None:
    fake_deepgram.drop_after_bytes = len(b"".join(words(ANSWER)))  # dies on the last chunk
    rec = Recorder()
    stream = await stt(fake_deepgram).open(audio_format="webm", language="en", on_transcript=rec)
    await speak(stream, ANSWER)
    assert await stream.finish() == ANSWER
    assert " ".join(rec.finals) == ANSWER


async def test_unauthorized_is_not_retried(fake_deepgram: FakeDeepgram) -> None:
    with pytest.raises(STTError, match="401"):
        await stt(fake_deepgram, api_key="wrong").open(audio_format="webm", language="en", on_transcript=Recorder())
    assert fake_deepgram.handshakes == 1


async def test_handshake_503_is_retried(fake_deepgram: FakeDeepgram) -> None:
    fake_deepgram.refuse_status = 503
    fake_deepgram.refuse_times = 2
    stream = await stt(fake_deepgram).open(audio_format="webm", language="en", on_transcript=Recorder())
    assert fake_deepgram.handshakes == 3
    await stream.abort()


async def test_cannot_recover_raises(fake_deepgram: FakeDeepgram) -> None:
    fake_deepgram.drop_after_bytes = 5
    fake_deepgram.drop_times = 100
    stream = await stt(fake_deepgram, options=fast(2)).open(
        audio_format="webm", language="en", on_transcript=Recorder()
    )
    with pytest.raises(STTError):
        for _ in range(50):
            await stream.send(b"word ")
            await asyncio.sleep(0.01)
        await stream.finish()
    await stream.abort()


async def test_buffer_is_bounded(fake_deepgram: FakeDeepgram) -> None:
    stream = await stt(fake_deepgram, buffer_bytes=30).open(
        audio_format="webm", language="en", on_transcript=Recorder()
    )
    await speak(stream, ANSWER)
    assert stream.truncated
    assert sum(len(c) for c in stream._replay()) <= 30 + 10
    await stream.finish()
