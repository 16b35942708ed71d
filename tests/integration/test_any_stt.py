"""Hands-free with one OpenAI key (issue 20, item 2): a real server process, real speech as 16 kHz PCM16.

The candidate is a Python client playing espeak-ng's voice in 100 ms chunks at
real time, as the page's AudioWorklet does, with a 1.5 s pause inside the
answer and the microphone left open after it. The server's VAD hears the
speech; the fake OpenAI's realtime socket transcribes it live (it is told what
was said: a fake cannot recognise speech), or is unreachable and the file
transcription does it at the end.
"""

from __future__ import annotations

import array
import asyncio
import time

import pytest

from client_adapter import InterviewClient
from sio_server.devtools.fakes.fake_server import free_port
from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from tests.support.speech import BYTES_PER_SECOND, chunks, silence, speech

pytestmark = pytest.mark.integration

FIRST, SECOND = "I started with the logs.", "Then I fixed the slow query in the billing service."
END_SILENCE_S = 2.5  # ANSWER_END_SILENCE_MS's default
PAUSE_S = 1.5


def last_sound(pcm: bytes, level: int = 300) -> float:
    """Seconds into ``pcm`` where its last audible sample is (the end of the last word)."""
    samples = array.array("h", pcm)
    return next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > level) / (BYTES_PER_SECOND / 2)


class Microphone:
    """Sends audio in 100 ms chunks at real time; audio second ``t`` is "spoken" at ``started + t``."""

    def __init__(self, client: InterviewClient) -> None:
        self.client = client
        self.started = 0.0
        self.sent = 0  # bytes

    async def play(self, pcm: bytes, until=lambda: False) -> None:
        if not self.started:
            self.started = time.monotonic()
        for chunk in chunks(pcm):
            due = self.started + (self.sent + len(chunk)) / BYTES_PER_SECOND  # a chunk leaves once captured
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if until():
                return
            await self.client.send_audio(chunk)
            self.sent += len(chunk)

    def now_at(self) -> float:
        """The wall time of the audio sent so far."""
        return self.started + self.sent / BYTES_PER_SECOND


def events(client: InterviewClient, name: str) -> list:
    return [d for n, d in client.live_events if n == name]


def openai_only(fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.url, "DEEPGRAM_API_KEY": "", "ELEVENLABS_API_KEY": "",
            "GOOGLE_API_KEY": "", "STT_TIMEOUT": "1", "STT_RETRY_BASE": "0.1", **extra}  # fmt: skip


async def spoken_answer(server_url: str) -> dict:
    """Start a voice interview, answer question 1 by voice with a pause inside; the timings and events."""
    client = InterviewClient(server_url)
    await client.connect()
    arrived: list[tuple[float, str, dict]] = []
    for name in ("transcript", "answer_ending", "answer_resumed", "answer_ended"):
        client.on(name, lambda data, name=name: arrived.append((time.monotonic(), name, data)))
    ack = await client.start(language="en", mode="voice", audio_format="linear16", turn_detection="auto", max_questions=2)
    assert ack["mode"] == "voice" and ack["turn_detection"] == "auto" and ack["audio_format"] == "linear16"
    assert "turn_detection_reason" not in ack
    await client.next_question()
    mic = Microphone(client)
    first, second = speech(FIRST), speech(SECOND)
    ended = lambda: [d for _, n, d in arrived if n == "answer_ended"]  # noqa: E731
    await mic.play(silence(0.3) + first + silence(PAUSE_S))
    assert not ended(), "a 1.5 s pause inside the answer does not end it"
    second_starts = mic.now_at()
    await mic.play(second)
    last_word = second_starts + last_sound(second)
    await mic.play(silence(END_SILENCE_S + 3.0), until=ended)  # the microphone stays open
    await client.wait_for(ended, timeout=10)
    ended_at, _, answer = next(a for a in arrived if a[1] == "answer_ended")
    await client.next_question()
    await client.close()
    return {
        "answer": answer,
        "after_last_word": ended_at - last_word,
        "second_starts": second_starts,
        "arrived": arrived,
    }


async def test_one_key_realtime_up_live_transcripts_and_the_answer_ends_by_itself(server_factory) -> None:
    async with FakeOpenAI() as fake:
        fake.realtime.segments.extend([FIRST, SECOND])
        server = server_factory(openai_only(fake)).start()
        got = await spoken_answer(server.url)
    answer = got["answer"]
    print(f"\nrealtime up: answer_ended {got['after_last_word']:.2f} s after the last word")
    assert answer["index"] == 1 and answer["reason"] == "silence"
    assert answer["transcript"] == f"{FIRST} {SECOND}"
    assert END_SILENCE_S - 0.3 <= got["after_last_word"] <= END_SILENCE_S + 1.0
    live = [(t, d) for t, n, d in got["arrived"] if n == "transcript"]
    assert any(t < got["second_starts"] for t, _ in live), "the first sentence was transcribed while the candidate still spoke"
    assert any(not d["is_final"] for _, d in live) and {"text": FIRST, "is_final": True} in [d for _, d in live]
    names = [n for _, n, _ in got["arrived"]]
    assert "answer_ending" in names and "answer_resumed" in names, "the pause was noticed, then cancelled by speech"
    assert fake.realtime.connections and not fake.transcriptions.requests, "no file transcription was needed"


async def test_one_key_realtime_unreachable_file_transcription_and_the_vad_end_the_answer(server_factory) -> None:
    async with FakeOpenAI() as fake:
        fake.transcriptions.transcript = f"{FIRST} {SECOND}"
        unreachable = f"ws://127.0.0.1:{free_port()}/v1"
        server = server_factory(openai_only(fake, OPENAI_REALTIME_URL=unreachable)).start()
        got = await spoken_answer(server.url)
    answer = got["answer"]
    print(f"\nrealtime unreachable: answer_ended {got['after_last_word']:.2f} s after the last word")
    assert answer["reason"] == "silence" and answer["transcript"] == f"{FIRST} {SECOND}"
    assert END_SILENCE_S - 0.3 <= got["after_last_word"] <= END_SILENCE_S + 1.0
    request = fake.transcriptions.requests[0]
    assert request.filename == "answer.wav" and not fake.realtime.connections


@pytest.mark.parametrize(
    "audio_format, extra, reason",
    [("webm", {}, "needs_linear16"), ("linear16", {"VAD": "off"}, "vad_unavailable")],
)
async def test_the_ack_says_when_hands_free_cannot_run_and_why(server_factory, audio_format, extra, reason) -> None:
    async with FakeOpenAI() as fake:
        server = server_factory(openai_only(fake, **extra)).start()
        client = InterviewClient(server.url)
        await client.connect()
        ack = await client.start(language="en", mode="voice", audio_format=audio_format, turn_detection="auto")
        assert ack["turn_detection"] == "manual" and ack["turn_detection_reason"] == reason
        assert ack["audio_format"] == audio_format
        await client.close()
