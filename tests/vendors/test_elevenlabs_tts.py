"""ElevenLabsTTS against the fake ElevenLabs server over real HTTP."""

from __future__ import annotations

import time

import aiohttp
import pytest

from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs, audio_for
from sio_server.vendors.elevenlabs_tts import DEFAULT_VOICES, ElevenLabsTTS
from sio_server.vendors.tts import TTSError

from .helpers import fast

TEXT = "Could you tell me about a project you are proud of? What was your role in it?"


def tts(fake: FakeElevenLabs, *, max_tries: int = 3, model: str = "eleven_multilingual_v2", **kw) -> ElevenLabsTTS:
    return ElevenLabsTTS(fake.api_key, fake.url, model, kw.pop("voices", None), fast(max_tries), **kw)


async def read(client: ElevenLabsTTS, text: str = TEXT, persona: str = "professional", language: str = "en") -> bytes:
    return b"".join([c async for c in client.stream(text, persona=persona, language=language)])


async def test_streams_audio(fake_elevenlabs: FakeElevenLabs) -> None:
    client = tts(fake_elevenlabs, voices={"friendly": "voice-friendly"})
    assert client.mime == "audio/mpeg" and client.offline is False
    assert await read(client, persona="friendly") == audio_for(TEXT)
    req = fake_elevenlabs.requests[0]
    assert (req.voice_id, req.text, req.model_id, req.output_format) == (
        "voice-friendly",
        TEXT,
        "eleven_multilingual_v2",
        "mp3_44100_128",
    )
    assert req.language_code is None  # multilingual_v2 does not take language_code
    assert req.headers["xi-api-key"] == fake_elevenlabs.api_key
    await read(client, persona="challenging")
    assert fake_elevenlabs.requests[1].voice_id == DEFAULT_VOICES["challenging"]
    await client.aclose()


async def test_language_code_for_flash_models(fake_elevenlabs: FakeElevenLabs) -> None:
    await read(tts(fake_elevenlabs, model="eleven_flash_v2_5"), "안녕하세요.", language="ko")
    assert fake_elevenlabs.requests[0].language_code == "ko"


async def test_chunks_arrive_incrementally(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.chunk_size = 200
    fake_elevenlabs.chunk_delay = 0.05
    async with aiohttp.ClientSession() as session:
        client = tts(fake_elevenlabs, session=session)
        stream = client.stream(TEXT, persona="professional", language="en")
        first = await anext(stream)
        first_at = time.monotonic()
        assert first and fake_elevenlabs.finished == 0  # the fake is still sending
        rest = b"".join([c async for c in stream])
        assert first + rest == audio_for(TEXT)
        assert fake_elevenlabs.finished_at is not None and fake_elevenlabs.finished_at - first_at > 0.1
        assert not session.closed  # a shared session is left open


async def test_retries_429_honouring_retry_after(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.fail_next(1, 429, retry_after=0.3)
    fake_elevenlabs.fail_next(1, 500)
    assert await read(tts(fake_elevenlabs)) == audio_for(TEXT)
    assert fake_elevenlabs.count == 3
    first_gap = fake_elevenlabs.requests[1].at - fake_elevenlabs.requests[0].at
    assert 0.28 <= first_gap < 0.7


@pytest.mark.parametrize("status", [401, 422, 400])
async def test_never_retries_client_errors(fake_elevenlabs: FakeElevenLabs, status: int) -> None:
    fake_elevenlabs.fail_next(5, status)
    with pytest.raises(TTSError, match=str(status)):
        await read(tts(fake_elevenlabs))
    assert fake_elevenlabs.count == 1


async def test_wrong_key_is_401(fake_elevenlabs: FakeElevenLabs) -> None:
    client = ElevenLabsTTS("bad-key", fake_elevenlabs.url, options=fast())
    with pytest.raises(TTSError, match="invalid_api_key"):
        await read(client)
    assert fake_elevenlabs.count == 1
    await client.aclose()


async def test_gives_up_after_max_tries(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.fail_next(10, 503)
    with pytest.raises(TTSError):
        await read(tts(fake_elevenlabs, max_tries=2))
    assert fake_elevenlabs.count == 2


async def test_connection_refused_is_retried_then_error(refused_url: str) -> None:
    client = ElevenLabsTTS("k", refused_url, options=fast(2))
    with pytest.raises(TTSError, match="Connect"):
        await read(client)
    await client.aclose()


async def test_cut_before_first_byte_is_retried(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.cut_after_bytes = 0
    assert await read(tts(fake_elevenlabs)) == audio_for(TEXT)
    assert fake_elevenlabs.count == 2


async def test_cut_after_first_byte_raises_without_retry(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.chunk_size = 100
    fake_elevenlabs.cut_after_bytes = 250
    got = bytearray()
    with pytest.raises(TTSError, match="stream broke"):
        async for chunk in tts(fake_elevenlabs).stream(TEXT, persona="professional", language="en"):
            got += chunk
    assert bytes(got) == audio_for(TEXT)[:250]
    assert fake_elevenlabs.count == 1


async def test_slow_first_byte_past_timeout_is_retried(fake_elevenlabs: FakeElevenLabs) -> None:
    fake_elevenlabs.first_byte_delay = 0.5
    client = ElevenLabsTTS(fake_elevenlabs.api_key, fake_elevenlabs.url, options=fast(2, timeout=0.2))
    with pytest.raises(TTSError):
        await read(client)
    assert fake_elevenlabs.count == 2
    await client.aclose()
