"""No key at all: the questions are still spoken (espeak-ng), and the capabilities route says what works."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest

from client_adapter import InterviewClient
from sio_server.app import create_app
from tests.support.mp3 import duration_s, frames
from tests.support.server import ADMIN

pytestmark = pytest.mark.integration


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200 and r.headers["Cache-Control"] == "no-cache"
        return json.loads(r.read())


def tts_end(client: InterviewClient, index: int) -> dict | None:
    return next((d for n, d in client.live_events if n == "tts_end" and d["index"] == index), None)


@pytest.mark.parametrize("language", ["en", "ko"])
async def test_with_no_key_a_voice_interviews_questions_arrive_as_speech(server, language):
    client = InterviewClient(server.url)
    await client.connect()
    first_chunk: list[float] = []
    client.on("tts_chunk", lambda data: first_chunk.append(time.monotonic()) if not first_chunk else None)
    started = time.monotonic()
    ack = await client.start(language=language, mode="voice", max_questions=2)
    assert ack["mode"] == "text", "no STT: answers are typed"
    question = await client.next_question()
    end = await client.wait_for(lambda: tts_end(client, 1), timeout=20)
    chunks = client.audio.of(1)
    assert end["ok"] is True and end["chunks"] == len(chunks) > 0
    assert [c["chunk"] for c in chunks] == list(range(len(chunks)))
    assert {c["mime"] for c in chunks} == {"audio/mpeg"}
    audio = b"".join(c["audio"] for c in chunks)
    assert {f.sample_rate for f in frames(audio)} == {22050}, "whole MP3 frames, as synthesized by espeak-ng"
    assert duration_s(audio) > len(question["text"]) / 40, "about as long as the question read aloud"
    assert not [d for n, d in client.live_events if n == "warning" and d["code"] in ("tts_failed", "tts_fallback")]
    print(f"\n{language}: first audio {1000 * (first_chunk[0] - started):.0f} ms after start_interview")

    await client.answer_text(1, "I built the billing service and cut its latency in half.")
    await client.wait_for(lambda: (tts_end(client, 2) or {}).get("ok"), timeout=20)
    await client.close()
    metrics = await asyncio.to_thread(lambda: urllib.request.urlopen(urllib.request.Request(f"{server.url}/metrics", headers=ADMIN), timeout=10).read().decode())
    assert 'interview_vendor_seconds_count{outcome="ok",stage="tts_first_byte",vendor="espeak"}' in metrics


def test_capabilities_with_no_key_say_questions_are_spoken_and_answers_typed(server):
    assert get_json(f"{server.url}/api/v1/capabilities") == {
        "languages": ["ko", "en"],
        "spoken_questions": {"available": True, "languages": ["ko", "en"], "providers": ["espeak"]},
        "voice_answers": {"available": False, "languages": [], "providers": [], "rough_transcript": False},
        "hands_free": {"available": False, "languages": [], "providers": []},
        "audio_format": "webm",
    }


def test_capabilities_with_offline_tts_off_say_nothing_is_spoken(server_factory):
    server = server_factory({"OFFLINE_TTS": "false"}).start()
    answer = get_json(f"{server.url}/api/v1/capabilities")
    assert answer["spoken_questions"] == {"available": False, "languages": [], "providers": []}


@pytest.mark.parametrize(
    "keys, spoken, voice, hands_free, audio_format",
    [
        # one OpenAI key: the server's VAD ends answers, so the page sends linear16 (PCM16 for the realtime link)
        ({"openai_api_key": "sk-test"}, ["openai", "espeak"], ["openai_realtime", "openai"], ["openai_realtime", "openai"], "linear16"),
        ({"openai_api_key": "sk-test", "vad": "off"}, ["openai", "espeak"], ["openai_realtime", "openai"], [], "webm"),
        ({"openai_api_key": "sk-test", "vad": "webrtc"}, ["openai", "espeak"], ["openai_realtime", "openai"], ["openai_realtime", "openai"], "linear16"),
        ({"deepgram_api_key": "dg"}, ["espeak"], ["deepgram"], ["deepgram"], "webm"),
        ({"deepgram_api_key": "dg", "vad": "off"}, ["espeak"], ["deepgram"], ["deepgram"], "webm"),
        (
            {"openai_api_key": "sk-test", "elevenlabs_api_key": "el", "deepgram_api_key": "dg"},
            ["elevenlabs", "openai", "espeak"],
            ["deepgram", "openai_realtime", "openai"],
            ["deepgram", "openai_realtime", "openai"],
            "webm",  # Deepgram leads and hears the end of speech itself: Opus is a tenth of the upload
        ),
        ({"openai_api_key": "sk-test", "offline_tts": False, "stt_providers": ""}, ["openai"], [], [], "webm"),
    ],
)
async def test_capabilities_follow_the_chains_the_keys_make(aiohttp_client, settings, keys, spoken, voice, hands_free, audio_format):
    http = await aiohttp_client(create_app(settings.model_copy(update=keys)))
    response = await http.get("/api/v1/capabilities")
    answer = await response.json()
    for mode, providers in (("spoken_questions", spoken), ("voice_answers", voice), ("hands_free", hands_free)):
        rough = {"rough_transcript": False} if mode == "voice_answers" else {}
        assert answer[mode] == {
            "available": bool(providers),
            "languages": ["ko", "en"] if providers else [],
            "providers": providers,
            **rough,
        }, mode
    assert answer["audio_format"] == audio_format
