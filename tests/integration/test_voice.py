"""Voice interviews through the real server against the fake vendors: pipeline, faults, fallbacks."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from client_adapter import InterviewClient
from sio_server.app import create_app
from sio_server.appkeys import METRICS, SERVICE
from sio_server.devtools.fakes.fake_elevenlabs import audio_for
from sio_server.interview.audio_queue import AudioQueue

pytestmark = pytest.mark.integration
SPOKEN = ["I led the move to Kubernetes. We cut costs by 30%. ", "I asked the team for feedback weekly. ", "Thank you. "]


@pytest.fixture
def vendor_settings(settings, fake_openai, fake_elevenlabs, fake_deepgram):
    return settings.model_copy(
        update={
            "llm_provider": "openai",
            "openai_api_key": "sk-test",
            "openai_base_url": fake_openai.url,
            "llm_question_deadline": 3.0,
            "llm_timeout": 2.0,
            "elevenlabs_api_key": fake_elevenlabs.api_key,
            "elevenlabs_base_url": fake_elevenlabs.url,
            "deepgram_api_key": fake_deepgram.api_key,
            "deepgram_base_url": fake_deepgram.url,
            "stt_keepalive_interval": 0.5,
            "stt_finalize_timeout": 3.0,
            "deepgram_query": "endpointing=500&filler_words=true",
        }
    )


async def serve(aiohttp_server, settings, **overrides):
    server = await aiohttp_server(create_app(settings.model_copy(update=overrides)))
    return server, str(server.make_url("/")).rstrip("/")


def chunks_of(client: InterviewClient, index: int) -> list[dict]:
    return client.audio.of(index)


def tts_end(client: InterviewClient, index: int) -> dict | None:
    return next((d for n, d in client.live_events if n == "tts_end" and d["index"] == index), None)


async def voice_client(url: str, **config) -> InterviewClient:
    """A client in an English two-question voice interview (linear16), its first question asked."""
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2, **config)
    await client.next_question()
    return client


async def speak(client: InterviewClient, text: str, size: int = 8, pause: float = 0.0) -> None:
    data = text.encode()
    for i in range(0, len(data), size):
        await client.send_audio(data[i : i + size])
        if pause:
            await asyncio.sleep(pause)


async def test_voice_interview_end_to_end(aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs, fake_deepgram):
    fake_openai.replies.extend(["Tell me about your last project. What did you own?", "How do you handle feedback?", "Any questions for us?"])
    _, url = await serve(aiohttp_server, vendor_settings)
    client = InterviewClient(url)
    await client.connect()
    ack = await client.start(language="en", mode="voice", audio_format="linear16", max_questions=3, job_title="SRE")
    assert ack["mode"] == "voice"
    for index, words in enumerate(SPOKEN, start=1):
        question = await client.next_question()
        assert question["fallback"] is False
        end = await client.wait_for(lambda: tts_end(client, index))
        audio = chunks_of(client, index)
        assert end["ok"] is True and end["chunks"] == len(audio) > 0
        assert [c["chunk"] for c in audio] == list(range(len(audio)))
        assert all(isinstance(c["audio"], bytes) and c["mime"] == "audio/mpeg" for c in audio)
        sentences = [s for s in question["text"].replace("?", "?|").replace(".", ".|").split("|") if s.strip()]
        assert b"".join(c["audio"] for c in audio) == b"".join(audio_for(s.strip()) for s in sentences)
        await speak(client, words)
        await client.wait_for(lambda: any(n == "transcript" for n, _ in client.live_events))
        done = await client.answer_end(index)
        assert done["transcript"] == words.strip() and done["duplicate"] is False
    feedback = await client.feedback()
    assert feedback["fallback"] is False
    transcripts = [d for n, d in client.live_events if n == "transcript"]
    assert any(not t["is_final"] for t in transcripts) and any(t["is_final"] for t in transcripts)
    conn = fake_deepgram.connections[0]
    assert conn.query["encoding"] == "linear16" and conn.query["interim_results"] == "true"
    assert conn.query["endpointing"] == "500" and conn.query["filler_words"] == "true" and conn.query["model"] == "nova-2"
    assert [t["type"] for t in conn.texts][-2:] == ["Finalize", "CloseStream"]
    assert len(fake_deepgram.connections) == 3  # one stream per answer
    assert [r.body["voice_id"] if "voice_id" in r.body else r.voice_id for r in fake_elevenlabs.requests][:1]
    await client.close()


async def test_empty_spoken_answer_keeps_the_question_open(aiohttp_server, vendor_settings):
    _, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    with pytest.raises(Exception) as err:
        await client.answer_end(1)
    assert getattr(err.value, "code", None) == "empty_answer"
    await speak(client, "Now I am speaking. ")
    assert (await client.answer_end(1))["transcript"] == "Now I am speaking."
    await client.close()


async def test_llm_hang_gives_a_fallback_question_inside_the_deadline(aiohttp_server, vendor_settings, fake_openai):
    fake_openai.header_delay = 30  # the vendor never answers
    _, url = await serve(aiohttp_server, vendor_settings, llm_question_deadline=1.0, llm_timeout=5.0)
    client = InterviewClient(url)
    await client.connect()
    started = time.monotonic()
    await client.start(language="ko", mode="text", max_questions=2)
    question = await client.next_question(timeout=10)
    assert time.monotonic() - started < 3.0
    assert question["fallback"] is True and any("\uac00" <= ch <= "\ud7a3" for ch in question["text"])
    assert any(n == "warning" and d["code"] == "llm_fallback" for n, d in client.live_events)
    await client.close()


async def test_llm_429_with_retry_after_is_retried_and_not_a_fallback(aiohttp_server, vendor_settings, fake_openai):
    fake_openai.fail_next(1, 429, retry_after=1)
    _, url = await serve(aiohttp_server, vendor_settings)
    client = InterviewClient(url)
    await client.connect()
    started = time.monotonic()
    await client.start(language="en", mode="text", max_questions=1)
    question = await client.next_question(timeout=10)
    elapsed = time.monotonic() - started
    assert question["fallback"] is False and 0.9 <= elapsed < 2.8
    assert fake_openai.count == 2
    await client.close()


async def test_llm_500_three_times_falls_back_after_exactly_max_tries(aiohttp_server, vendor_settings, fake_openai):
    fake_openai.fail_next(3, 500)
    server, url = await serve(aiohttp_server, vendor_settings, llm_max_tries=3, llm_question_deadline=10.0)
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="text", max_questions=1)
    question = await client.next_question(timeout=15)
    assert question["fallback"] is True
    assert fake_openai.count == 3, "the SDK must not retry on its own as well"
    assert set(fake_openai.retry_counts()) <= {0, None}
    metrics = server.app[METRICS].render().decode()
    assert 'interview_llm_fallbacks_total{kind="question"} 1.0' in metrics
    assert 'interview_vendor_retries_total{vendor="openai"} 2.0' in metrics
    assert 'interview_vendor_seconds_count{outcome="fallback",stage="llm_first_token",vendor="offline"} 1.0' in metrics
    await client.close()


async def test_tts_cut_before_first_byte_is_retried_and_audio_is_complete(aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs):
    fake_openai.replies.append("One short question?")
    fake_elevenlabs.fail_next(1, 503)
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    end = await client.wait_for(lambda: tts_end(client, 1))
    assert end["ok"] is True
    assert b"".join(c["audio"] for c in chunks_of(client, 1)) == audio_for("One short question?")
    assert fake_elevenlabs.count == 2
    metrics = server.app[METRICS].render().decode()
    assert 'interview_vendor_retries_total{vendor="elevenlabs"} 1.0' in metrics
    assert 'interview_vendor_seconds_count{outcome="ok",stage="tts_first_byte",vendor="elevenlabs"} 1.0' in metrics
    await client.close()


async def test_tts_cut_mid_stream_ends_not_ok_and_sends_nothing_twice(aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs):
    fake_openai.replies.append("One short question that is long enough to need several chunks?")
    fake_elevenlabs.chunk_size = 16
    fake_elevenlabs.cut_after_bytes = 40
    _, url = await serve(aiohttp_server, vendor_settings)
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    question = await client.next_question()
    end = await client.wait_for(lambda: tts_end(client, 1))
    audio = chunks_of(client, 1)
    assert end["ok"] is False and end["chunks"] == len(audio)
    assert [c["chunk"] for c in audio] == list(range(len(audio)))
    sent = b"".join(c["audio"] for c in audio)
    assert audio_for(question["text"]).startswith(sent) and len(sent) < len(audio_for(question["text"]))
    assert any(n == "warning" and d["code"] == "tts_failed" for n, d in client.live_events)
    assert fake_elevenlabs.count == 1
    await client.close()


async def test_stt_drop_mid_answer_reconnects_and_the_transcript_is_complete(aiohttp_server, vendor_settings, fake_deepgram):
    fake_deepgram.drop_after_bytes = 20
    _, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    words = "First I measured everything. Then I fixed the slowest query. "
    await speak(client, words, pause=0.005)
    done = await client.answer_end(1)
    assert done["transcript"] == words.strip()
    assert len(fake_deepgram.connections) == 2 and fake_deepgram.connections[0].dropped
    await client.close()


async def test_keepalive_keeps_a_silent_stt_stream_open(aiohttp_server, vendor_settings, fake_deepgram):
    fake_deepgram.idle_timeout = 1.0
    _, url = await serve(aiohttp_server, vendor_settings, stt_keepalive_interval=0.3)
    client = await voice_client(url, turn_detection="manual")  # the silence must not end the answer
    await speak(client, "Let me think. ")
    await asyncio.sleep(2.5)  # silence longer than the vendor's idle timeout
    await speak(client, "I would start with the logs. ")
    done = await client.answer_end(1)
    assert done["transcript"] == "Let me think. I would start with the logs."
    conn = fake_deepgram.connections[0]
    assert conn.keepalives >= 3 and not conn.idle_closed and len(fake_deepgram.connections) == 1
    await client.close()


async def test_without_keepalive_the_fake_closes_an_idle_stream(fake_deepgram):
    """The control: the fake really does close a silent stream (so the KeepAlive test can fail)."""
    import aiohttp

    fake_deepgram.idle_timeout = 0.5
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{fake_deepgram.url}/v1/listen", headers={"Authorization": f"Token {fake_deepgram.api_key}"}) as ws:
            msg = await ws.receive(timeout=3)
            assert ws.close_code == 1011 or msg.type.name in ("CLOSE", "CLOSED")
    assert fake_deepgram.connections[0].idle_closed


async def test_pipelining_sends_first_audio_before_the_llm_finishes(aiohttp_server, vendor_settings, fake_openai):
    fake_openai.replies.append("First sentence comes quickly. Then a second one follows slowly. And a third one at the end?")
    fake_openai.tokens_per_second = 8
    _, url = await serve(aiohttp_server, vendor_settings)
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    await client.wait_for(lambda: chunks_of(client, 1), timeout=15)
    first_audio = time.monotonic()
    assert 1 not in client.questions, "audio must start while the LLM is still writing"
    await client.next_question(timeout=15)
    assert time.monotonic() - first_audio > 0.5
    await client.close()


async def test_audio_flood_stays_bounded_and_warns_at_most_once_a_second(aiohttp_server, vendor_settings, fake_deepgram, monkeypatch):
    server, url = await serve(
        aiohttp_server,
        vendor_settings,
        audio_queue_chunks=10,
        rate_audio_bytes_per_second=10_000_000,
        rate_events_per_second=100_000,
        # the queue's bound is tested here, not the real-time rate (test_spend.py): its bucket holds 2 s of audio
        # divided by the factor, and at 1000 a fast machine delivered the 12 MB in bursts over it (drops before the queue)
        audio_realtime_factor=1_000_000,
        vad="off",  # nor the VAD, which judges audio at no more than AUDIO_REALTIME_FACTOR x real time otherwise
    )
    fake_deepgram.receive_delay = 0.05
    client = InterviewClient(url)
    await client.connect()
    ack = await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    await client.next_question()
    live = server.app[SERVICE].live[ack["session_id"]]
    queue, put = live.audio, AudioQueue.put
    handled, peak = 0, 0

    def observed_put(self: AudioQueue, chunk: bytes) -> bool:  # observe every chunk the server queues or drops
        nonlocal handled, peak
        accepted = put(self, chunk)
        if self is queue:
            handled, peak = handled + 1, max(peak, len(queue))
        return accepted

    monkeypatch.setattr(AudioQueue, "put", observed_put)  # the queue has __slots__: patched on its class
    started = time.monotonic()
    for _ in range(3000):
        await client.send_audio(b"x" * 4096)
    await client.wait_for(lambda: handled == 3000, timeout=60)
    elapsed = time.monotonic() - started
    assert peak <= 10 and queue.dropped > 0
    warnings = await client.wait_for(
        lambda: [d for n, d in client.live_events if n == "warning" and d["code"] == "audio_dropped"], timeout=10
    )
    assert 1 <= len(warnings) <= elapsed + 1
    metrics = server.app[METRICS].render().decode()
    assert f"interview_audio_dropped_chunks_total {float(queue.dropped)}" in metrics
    await client.close()


async def test_stt_drop_after_the_buffer_overflowed_warns_the_candidate(aiohttp_server, vendor_settings, fake_deepgram):
    fake_deepgram.drop_after_bytes = 2500
    fake_deepgram.final_every_words = 100_000  # nothing is final before the drop
    _, url = await serve(aiohttp_server, vendor_settings, stt_buffer_bytes=1024)
    client = await voice_client(url)
    words = " ".join(f"word{i}" for i in range(500)) + ". "
    await speak(client, words, size=64, pause=0.001)
    done = await client.answer_end(1)
    assert fake_deepgram.connections[0].dropped and len(fake_deepgram.connections) == 2
    assert done["transcript"] != words.strip(), "the buffer was too small to re-send everything"
    assert any(n == "warning" and d["code"] == "stt_failed" for n, d in client.live_events)
    await client.close()


async def test_stt_drop_after_overflow_is_silent_when_finals_covered_the_lost_audio(aiohttp_server, vendor_settings, fake_deepgram):
    fake_deepgram.drop_after_bytes = 2500
    _, url = await serve(aiohttp_server, vendor_settings, stt_buffer_bytes=1024)
    client = await voice_client(url)
    words = " ".join(f"word{i}" for i in range(500)) + ". "
    # Up to just past the drop, then wait for the reconnection before saying the rest: audio spoken while the
    # stream is down also rolls through the 1,024-byte buffer, and whether finals covered *that* depends on
    # how fast the reconnection is. What is checked here is the audio before the drop, covered by finals.
    await speak(client, words[:2560], size=64, pause=0.001)
    await client.wait_for(lambda: len(fake_deepgram.connections) == 2, timeout=30)
    await speak(client, words[2560:], size=64, pause=0.001)
    done = await client.answer_end(1)
    assert fake_deepgram.connections[0].dropped
    assert done["transcript"] == words.strip()
    assert not any(n == "warning" and d["code"] == "stt_failed" for n, d in client.live_events)
    await client.close()


async def test_how_a_spoken_answer_was_said_is_kept_with_the_turn_and_in_the_feedback(aiohttp_server, vendor_settings, fake_openai, fake_deepgram):
    """Deepgram's word timings (the fake: 15 bytes of text a second, zero bytes silence) give pace, fillers and the
    longest pause; the turn keeps them, the feedback and the report show them, and they are not part of the score."""
    fake_deepgram.bytes_per_second = 15
    fake_openai.replies.extend(["Tell me about your last project.", "What did you learn?"])
    server, url = await serve(aiohttp_server, vendor_settings)
    client = InterviewClient(url)
    await client.connect()
    config = {"language": "en", "mode": "voice", "audio_format": "linear16", "turn_detection": "manual"}
    await client.start(**config, max_questions=1, answer_time_limit_s=60)
    await client.next_question()
    await speak(client, "Um, I led the move to Kubernetes. ")
    await client.send_audio(bytes(45))  # three seconds of silence
    await speak(client, "We cut costs by 30%, like, a lot in two months. ")
    await client.answer_end(1)
    feedback = await client.feedback()
    spoken = feedback["per_question"][0]["speaking"]
    assert spoken["timed"] is True and spoken["unit"] == "words" and spoken["units"] == 18
    assert spoken["fillers_heard"] == {"um": 1, "like": 1} and spoken["time_limit_s"] == 60
    assert 3.0 <= spoken["longest_pause_s"] <= 3.2
    assert abs(spoken["rate_per_min"] - 18 * 60 / spoken["talk_s"]) < 1.5  # talk_s is rounded to 0.1 s
    assert feedback["speaking"] == spoken  # one spoken answer: the whole interview's figures are its own
    session = await server.app[SERVICE].peek(client.session_id)
    assert session.turns[0].speaking is not None and session.turns[0].speaking.model_dump(mode="json") == spoken
    report = f"{url}/api/v1/sessions/{client.session_id}/report?format=json"
    async with aiohttp.ClientSession() as http, http.get(report, headers={"Authorization": f"Bearer {client.resume_token}"}) as r:
        assert (await r.json())["turns"][0]["speaking"] == spoken
    await client.close()
