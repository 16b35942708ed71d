"""The fake Deepgram's end-of-speech options (VENDORS.md 5.1): endpointing, UtteranceEnd, SpeechStarted.

Zero bytes are silence: 32,000 of them are one second (16 kHz, 16-bit).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram

SECOND = 32000


async def converse(fake: FakeDeepgram, query: str, *frames: bytes) -> list[dict[str, Any]]:
    """Send ``frames`` on one stream, then CloseStream; return every message the fake sent before Metadata."""
    url = f"{fake.url}/v1/listen?interim_results=true&{query}"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers={"Authorization": f"Token {fake.api_key}"}) as ws,
    ):
        for frame in frames:
            await ws.send_bytes(frame)
        await ws.send_str(json.dumps({"type": "CloseStream"}))
        got = []
        async for msg in ws:
            data = json.loads(msg.data)
            if data["type"] == "Metadata":
                break
            got.append(data)
    return got


def finals(messages: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return [
        (m["channel"]["alternatives"][0]["transcript"], m["speech_final"])
        for m in messages
        if m["type"] == "Results" and m["is_final"]
    ]


async def test_endpointing_finalizes_after_enough_silence(fake_deepgram: FakeDeepgram) -> None:
    url = f"{fake_deepgram.url}/v1/listen?interim_results=true&endpointing=300"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers={"Authorization": f"Token {fake_deepgram.api_key}"}) as ws,
    ):
        await ws.send_bytes(b"hello there")
        await ws.send_bytes(bytes(SECOND * 3 // 10))
        while not (msg := json.loads((await ws.receive(timeout=5)).data))["is_final"]:
            pass  # interim results, until the final that the silence triggers (no CloseStream sent)
    assert msg["speech_final"] and msg["channel"]["alternatives"][0]["transcript"] == "hello there"
    assert msg["start"] == 0 and msg["duration"] == (11 + SECOND * 3 // 10) / SECOND


async def test_shorter_silence_or_endpointing_off_does_not_end_the_speech(fake_deepgram: FakeDeepgram) -> None:
    short = await converse(fake_deepgram, "endpointing=300", b"hello there", bytes(SECOND // 10), b" again")
    assert finals(short) == [("hello there again", True)]  # only CloseStream's flush
    off = await converse(fake_deepgram, "endpointing=false", b"hello there", bytes(SECOND))
    results = [m for m in off if m["type"] == "Results"]
    assert [m["is_final"] for m in results] == [False] * (len(results) - 1) + [True]  # interims, then the flush


async def test_utterance_end_after_the_gap_with_the_last_word_end(fake_deepgram: FakeDeepgram) -> None:
    got = await converse(
        fake_deepgram, "endpointing=false&utterance_end_ms=1000", b"yes I can", bytes(SECOND // 2), bytes(SECOND // 2)
    )
    ends = [m for m in got if m["type"] == "UtteranceEnd"]
    assert ends == [{"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": 9 / SECOND}]
    assert finals(got)[0] == ("yes I can", False), "pending words are finalized before the UtteranceEnd"
    assert got.index(ends[0]) > 0 and got[got.index(ends[0]) - 1]["is_final"]


async def test_utterance_end_needs_interim_results(fake_deepgram: FakeDeepgram) -> None:
    url = f"{fake_deepgram.url}/v1/listen?utterance_end_ms=1000&endpointing=false"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers={"Authorization": f"Token {fake_deepgram.api_key}"}) as ws,
    ):
        await ws.send_bytes(b"yes" + bytes(2 * SECOND))
        await ws.send_str(json.dumps({"type": "CloseStream"}))
        types = [json.loads(m.data)["type"] async for m in ws]
    assert "UtteranceEnd" not in types


async def test_vad_events_speech_started_at_each_new_utterance(fake_deepgram: FakeDeepgram) -> None:
    got = await converse(
        fake_deepgram,
        "endpointing=300&vad_events=true",
        bytes(SECOND // 10),
        b"first part",
        b" more",
        bytes(SECOND // 2),
        bytes(SECOND // 10) + b"second",
    )
    started = [m for m in got if m["type"] == "SpeechStarted"]
    assert [m["timestamp"] for m in started] == [0.1, (SECOND // 10 + 15 + SECOND // 2 + SECOND // 10) / SECOND]
    assert all(m["channel"] == [0, 1] for m in started)
    assert finals(got) == [("first part more", True), ("second", True)]


async def test_without_vad_events_no_speech_started(fake_deepgram: FakeDeepgram) -> None:
    got = await converse(fake_deepgram, "endpointing=300", b"hello", bytes(SECOND))
    assert not [m for m in got if m["type"] == "SpeechStarted"]
