"""Vendors behind small interfaces, each with a real and an offline implementation.

A vendor whose key is unset is replaced by its offline provider: the offline
interviewer for the LLM, silence for TTS, and no STT (voice interviews then
run in text mode).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..settings import Settings
from .llm import LLMProvider
from .options import ConnectOptions
from .stt import STTProvider
from .tts import OfflineTTS, TTSProvider


def make_llm(settings: Settings, offline: LLMProvider) -> LLMProvider:
    """OpenAI and/or Gemini (one the fallback of the other) when keys are set, else ``offline``.

    The openai SDK (about 25 MB) is imported only when a vendor key is set.
    """
    if settings.llm_provider == "offline" or not (settings.openai_api_key or settings.google_api_key):
        return offline
    from .fallback import make_vendor_llm

    return make_vendor_llm(settings) or offline


def make_tts(settings: Settings) -> TTSProvider:
    """ElevenLabs when ``ELEVENLABS_API_KEY`` is set, else silence."""
    if not settings.elevenlabs_api_key:
        return OfflineTTS()
    from .elevenlabs_tts import ElevenLabsTTS

    return ElevenLabsTTS(
        settings.elevenlabs_api_key,
        settings.elevenlabs_base_url,
        settings.elevenlabs_model,
        voices={
            "professional": settings.elevenlabs_voice_professional,
            "friendly": settings.elevenlabs_voice_friendly,
            "challenging": settings.elevenlabs_voice_challenging,
        },
        options=ConnectOptions(max_tries=settings.tts_max_tries, timeout=settings.tts_timeout),
    )


def make_stt(settings: Settings) -> STTProvider | None:
    """Deepgram live when ``DEEPGRAM_API_KEY`` is set, else None (text mode)."""
    if not settings.deepgram_api_key:
        return None
    from .deepgram_stt import DeepgramSTT

    return DeepgramSTT(
        settings.deepgram_api_key,
        settings.deepgram_base_url,
        settings.deepgram_model,
        ConnectOptions(max_tries=settings.stt_max_tries, timeout=settings.stt_timeout),
        keepalive_interval=settings.stt_keepalive_interval,
        finalize_timeout=settings.stt_finalize_timeout,
        buffer_bytes=settings.stt_buffer_bytes,
        query=dict(parse_qsl(settings.deepgram_query)),
        utterance_end_ms=settings.answer_end_silence_ms,
    )
