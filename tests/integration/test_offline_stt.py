"""No key, the [offline-stt] extra installed: English voice answers transcribed by pocketsphinx in a real server.

The page's PCM capture (AudioWorklet, ``audio_format: linear16``) is not used here: the Python adapter sends the
16 kHz PCM16 a page would, 100 ms a chunk in real time.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from client_adapter import InterviewClient
from sio_server.devtools.speech16k import chunks, linear16, silence, words_recognised
from sio_server.vendors.pocketsphinx_stt import installed
from tests.support.health_probe import HealthProbe
from tests.support.proctree import children

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not installed(), reason="pocketsphinx (the [offline-stt] extra) is not installed"),
]

ANSWER = (
    "My last project was a mobile app for booking doctors and it had one million users. "
    "I think the most important thing is to listen to the customer."
)
OFFLINE_STT = {"OFFLINE_STT": "true"}


def decoders_of(pid: int) -> list[int]:
    return [c for c in children(pid) if b"pocketsphinx_worker" in Path(f"/proc/{c}/cmdline").read_bytes()]


@pytest.mark.alone
async def test_with_no_key_an_english_voice_answer_is_transcribed_offline_and_the_loop_stays_free(server_factory):
    server = server_factory(OFFLINE_STT).start()
    client = InterviewClient(server.url)
    await client.connect()
    ack = await client.start(
        language="en", mode="voice", audio_format="linear16", turn_detection="manual", max_questions=2
    )
    assert ack["mode"] == "voice"
    question = await client.next_question()
    audio = silence(0.3) + linear16(ANSWER) + silence(0.5)
    await client.send_audio(silence(0.1))  # the answer's stream opens and its decoder loads before the probe
    await client.wait_for(lambda: decoders_of(server.pid), timeout=20)
    with HealthProbe(server.port) as probe:
        for chunk in chunks(audio):
            await client.send_audio(chunk)
            await asyncio.sleep(0.1)
        ended = await client.answer_end(question["index"])
    heard = [d for n, d in client.live_events if n == "transcript"]
    recognised = words_recognised(ANSWER, ended["transcript"])
    assert recognised >= 0.6, ended
    assert len([d for d in heard if not d["is_final"]]) >= 5, "live transcript events while the candidate speaks"
    assert heard[-1] == {"text": ended["transcript"], "is_final": True}
    assert not [d for n, d in client.live_events if n == "warning" and d["code"] == "stt_failed"]
    # The decoding is in the decoder process: the server never loads pocketsphinx (a thread of it stalled the
    # loop 604 ms). Slower health answers can only be the OS lending the core to another process.
    maps = Path(f"/proc/{server.pid}/maps").read_text()
    assert "pocketsphinx" not in maps and len(decoders_of(server.pid)) == 1
    slow = [lat for lat in probe.latencies if lat > 0.05]
    assert len(probe.latencies) > 100 and len(slow) <= len(probe.latencies) // 100, sorted(probe.latencies)[-5:]
    print(f"\nrecognised {recognised:.2f}; /healthz max {1000 * max(probe.latencies):.1f} ms over "
          f"{len(probe.latencies)} probes; {ended['transcript']!r}")

    second = await client.next_question()
    assert second["index"] == 2, "the transcript was accepted as the answer"
    await client.close()


async def test_korean_and_webm_voice_interviews_run_as_text_with_only_offline_stt(server_factory):
    server = server_factory(OFFLINE_STT).start()
    answer = json.loads(await asyncio.to_thread(lambda: urllib.request.urlopen(f"{server.url}/api/v1/capabilities", timeout=10).read()))
    assert answer["voice_answers"] == {
        "available": True, "languages": ["en"], "providers": ["pocketsphinx"], "rough_transcript": True,
    }
    for config in ({"language": "ko", "audio_format": "linear16"}, {"language": "en", "audio_format": "webm"}):
        client = InterviewClient(server.url)
        await client.connect()
        ack = await client.start(mode="voice", max_questions=1, **config)
        assert ack["mode"] == "text", config
        await client.close()
    assert decoders_of(server.pid) == [], "no decoder is loaded before an English answer needs one"
