"""Issue 13 row 7, issue 19 row 14: buffered audio (inbound queue, STT replay, held TTS) is bounded for the whole
process, and returned when drained or dropped."""

from __future__ import annotations

import asyncio

from sio_server.interview.audio_budget import AudioBudget
from sio_server.interview.audio_queue import AudioQueue
from sio_server.interview.listening import AnswerListener
from sio_server.interview.speech import QuestionSpeech
from sio_server.vendors.plugins import STTCapabilities


async def test_queues_share_one_budget_and_give_it_back():
    budget = AudioBudget(10_000)
    a, b = AudioQueue(100, budget=budget), AudioQueue(100, budget=budget)
    assert a.put(b"\0" * 6000) and not b.put(b"\0" * 6000), "the second socket's chunk would pass the budget"
    assert b.dropped == 1 and budget.used == 6000
    assert len(await a.get()) == 6000 and budget.used == 0, "read chunks leave the budget"
    a.task_done()
    assert b.put(b"\0" * 4000) and b.put(b"\0" * 4000) and budget.used == 8000
    b.discard()
    assert budget.used == 0 and len(b) == 0, "a session leaving memory gives its queued audio back"


async def test_a_full_queue_takes_nothing_from_the_budget():
    budget = AudioBudget(1_000_000)
    queue = AudioQueue(2, budget=budget)
    assert [queue.put(b"\0" * 100) for _ in range(4)] == [True, True, False, False]
    assert budget.used == 200


# -- issue 19 row 14: the voice buffers are charged to the same budget ------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def backlog(self, session_id: str) -> int:
        return 0

    async def emit(self, session_id: str, event: str, data: dict) -> None:
        self.events.append((event, data))


class HeldTTS:
    """Speaks a sentence as three 1,000-byte chunks; the last two wait for ``go``."""

    name = "fake"
    offline = False
    mime = "audio/mpeg"

    def __init__(self) -> None:
        self.go = asyncio.Event()

    async def stream(self, text: str, *, persona: str, language: str):
        yield b"a" * 1000
        await self.go.wait()
        yield b"b" * 1000
        yield b"c" * 1000


async def held_speech(budget: AudioBudget, window_s: float) -> tuple[QuestionSpeech, Recorder]:
    tts, emitter = HeldTTS(), Recorder()
    speech = QuestionSpeech(tts, emitter, "s1", 1, "friendly", "en", audio_budget=budget)
    speech.say("Tell me about a hard bug.")
    while not emitter.events:
        await asyncio.sleep(0.005)
    assert speech.interrupt(window_s)
    tts.go.set()
    while budget.used < 2000 and not any(e == "tts_resumed" for e, _ in emitter.events):
        await asyncio.sleep(0.005)
    return speech, emitter


async def test_tts_audio_held_during_an_interruption_is_charged_and_given_back():
    budget = AudioBudget(1_000_000)
    speech, _ = await held_speech(budget, window_s=5.0)
    assert budget.used == 2000, "the two chunks held while the interruption is decided"
    await speech.cancel()
    assert budget.used == 0
    speech, emitter = await held_speech(budget, window_s=0.2)  # no words: a false interruption, the audio follows
    assert await speech.finish() is True
    assert [d["chunk"] for e, d in emitter.events if e == "tts_chunk"] == [0, 1, 2] and budget.used == 0


async def test_a_full_budget_holds_no_tts_audio():
    budget = AudioBudget(65536)
    budget.used = 65536
    speech, _ = await held_speech(budget, window_s=0.3)
    assert budget.used == 65536, "nothing held: the TTS stream waits for the decision instead"
    assert await speech.finish() is True


class KeptStream:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send(self, chunk: bytes) -> None:
        self.sent.append(chunk)

    async def finish(self) -> str:
        return "words"

    async def abort(self) -> None:
        pass


class KeepingSTT:
    name = "fake"
    offline = False
    capabilities = STTCapabilities(streaming=True, interim_results=False)

    def __init__(self) -> None:
        self.streams: list[KeptStream] = []

    async def open(self, **kwargs) -> KeptStream:
        self.streams.append(KeptStream())
        return self.streams[-1]


async def test_the_stt_replay_buffer_is_charged_until_the_stream_ends():
    budget = AudioBudget(1_000_000)
    stt, queue = KeepingSTT(), AudioQueue(100, budget=budget)
    listener = AnswerListener(stt, queue, Recorder(), "s1", "linear16", "en", buffer_bytes=5000)
    for _ in range(3):
        queue.put(b"\1" * 2000)
    await queue.join()
    assert sum(map(len, stt.streams[0].sent)) == 6000
    assert budget.used == 5000, "what the stream may keep for reconnects, up to STT_BUFFER_BYTES"
    assert await listener.finish(1.0) == "words" and budget.used == 0
    budget.limit = 9000
    for _ in range(3):
        queue.put(b"\1" * 2000)
    await queue.join()
    assert budget.used == 5000
    assert not queue.put(b"\1" * 5000), "the stream's kept audio leaves no room for more inbound audio"
    await listener.close()
