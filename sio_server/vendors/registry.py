"""Every provider, registered by name in one place, and the fallback chains built from settings.

To add a vendor: write its module, add one :class:`Entry` here (its key
setting and how to build it from :class:`~..settings.Settings`), add its
settings, and a fake plus tests. ``LLM_PROVIDERS``, ``TTS_PROVIDERS`` and
``STT_PROVIDERS`` name the chains' links in order; unset, a chain holds the
vendors whose key is set, in the order of the tables below (``LLM_PROVIDER``
first for the LLM). The local links (:data:`LOCAL`) always end a chain, in
their order: the offline provider ends the LLM and TTS chains, and TTS speaks
with espeak-ng before it unless ``OFFLINE_TTS`` is false. STT ends with
pocketsphinx (English, ``linear16``) when the ``[offline-stt]`` extra is installed
and ``OFFLINE_STT`` allows it; with no STT provider, voice interviews run in text mode.

Vendor modules are imported only when their provider is built, so the
``openai`` SDK is loaded only in a process that uses an OpenAI provider.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..settings import Settings
from .breaker import BreakerOptions
from .budget import LLMGate
from .fallback import FallbackLLM, FallbackSTT, FallbackTTS
from .llm import LLMProvider
from .options import ConnectOptions
from .stt import STTProvider
from .tts import OfflineTTS, TTSProvider

__all__ = ["LLM", "LOCAL", "STT", "TTS", "Entry", "chain_names", "make_llm", "make_stt", "make_tts"]

OFFLINE = "offline"
ESPEAK = "espeak"
POCKETSPHINX = "pocketsphinx"


@dataclass(frozen=True)
class Entry:
    """One provider: ``key`` reads its API key setting (None: needs none), ``build`` makes it.

    ``enabled`` reads the setting that turns a provider without a key off (None: always on).
    """

    key: Callable[[Settings], str | None] | None
    build: Callable[[Settings], Any]
    enabled: Callable[[Settings], bool] | None = None

    def configured(self, settings: Settings) -> bool:
        """Whether it is turned on and its key is set (always for a provider that needs neither)."""
        if self.enabled is not None and not self.enabled(settings):
            return False
        return self.key is None or bool(self.key(settings))


def tts_options(s: Settings) -> ConnectOptions:
    """How hard a TTS call is tried."""
    return ConnectOptions(s.tts_max_tries, s.tts_retry_base, s.tts_retry_max, s.tts_timeout)


def stt_options(s: Settings) -> ConnectOptions:
    """How hard an STT connection is tried."""
    return ConnectOptions(s.stt_max_tries, s.stt_retry_base, s.stt_retry_max, s.stt_timeout)


def _openai_llm(s: Settings) -> LLMProvider:
    from .openai_llm import openai_llm

    return openai_llm(s)


def _gemini_llm(s: Settings) -> LLMProvider:
    from .openai_llm import gemini_llm

    return gemini_llm(s)


def _offline_llm(s: Settings) -> LLMProvider:
    from .offline_llm import OfflineLLM

    return OfflineLLM(delay=s.offline_llm_delay)


def _elevenlabs_tts(s: Settings) -> TTSProvider:
    from .elevenlabs_tts import ElevenLabsTTS

    voices = {
        "professional": s.elevenlabs_voice_professional,
        "friendly": s.elevenlabs_voice_friendly,
        "challenging": s.elevenlabs_voice_challenging,
    }
    return ElevenLabsTTS(
        s.elevenlabs_api_key or "", s.elevenlabs_base_url, s.elevenlabs_model, voices=voices, options=tts_options(s)
    )


def _openai_tts(s: Settings) -> TTSProvider:
    from .openai_tts import OpenAITTS

    return OpenAITTS(
        s.openai_api_key or "", s.openai_base_url, s.openai_tts_model, tts_options(s), voice=s.openai_tts_voice
    )


def _espeak_tts(s: Settings) -> TTSProvider:
    from .espeak_tts import EspeakTTS

    return EspeakTTS()


def _deepgram_stt(s: Settings) -> STTProvider:
    from .deepgram_stt import DeepgramSTT

    return DeepgramSTT(
        s.deepgram_api_key or "",
        s.deepgram_base_url,
        s.deepgram_model,
        stt_options(s),
        keepalive_interval=s.stt_keepalive_interval,
        finalize_timeout=s.stt_finalize_timeout,
        buffer_bytes=s.stt_buffer_bytes,
        query=dict(parse_qsl(s.deepgram_query)),
        utterance_end_ms=s.answer_end_silence_ms,
    )


def _openai_stt(s: Settings) -> STTProvider:
    from .openai_stt import OpenAISTT

    # The whole transcription happens inside answer_end's wait: its retries must fit in it.
    options = dataclasses.replace(stt_options(s), deadline=s.stt_finalize_timeout)
    return OpenAISTT(s.openai_api_key or "", s.openai_base_url, s.openai_stt_model, options, s.stt_buffer_bytes)


def offline_stt(s: Settings) -> bool:
    """Whether pocketsphinx ends the STT chain: ``OFFLINE_STT`` true, or auto and the extra is installed."""
    from .pocketsphinx_stt import installed

    return s.offline_stt == "true" or (s.offline_stt == "auto" and installed())


def _pocketsphinx_stt(s: Settings) -> STTProvider:
    from .pocketsphinx_stt import PocketsphinxSTT, installed

    if not installed():
        raise ValueError("OFFLINE_STT=true needs pocketsphinx: pip install 'sio-interview-server[offline-stt]'")
    return PocketsphinxSTT(s.offline_stt_streams, s.log_format)


LLM: dict[str, Entry] = {
    "openai": Entry(lambda s: s.openai_api_key, _openai_llm),
    "gemini": Entry(lambda s: s.google_api_key, _gemini_llm),
    OFFLINE: Entry(None, _offline_llm),
}
TTS: dict[str, Entry] = {
    "elevenlabs": Entry(lambda s: s.elevenlabs_api_key, _elevenlabs_tts),
    "openai": Entry(lambda s: s.openai_api_key, _openai_tts),
    ESPEAK: Entry(None, _espeak_tts, enabled=lambda s: s.offline_tts),
    OFFLINE: Entry(None, lambda s: OfflineTTS()),
}
STT: dict[str, Entry] = {
    "deepgram": Entry(lambda s: s.deepgram_api_key, _deepgram_stt),
    "openai": Entry(lambda s: s.openai_api_key, _openai_stt),
    POCKETSPHINX: Entry(None, _pocketsphinx_stt, enabled=offline_stt),
}
LOCAL: dict[str, tuple[str, ...]] = {"LLM": (OFFLINE,), "TTS": (ESPEAK, OFFLINE), "STT": (POCKETSPHINX,)}
"""The links without a vendor that end each kind's chain, in this order (those turned on)."""


def _parse(kind: str, raw: str, table: dict[str, Entry], settings: Settings) -> list[str]:
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in table:
            raise ValueError(f"{kind}_PROVIDERS: unknown provider {name!r} (known: {', '.join(table)})")
        if not table[name].configured(settings):
            raise ValueError(f"{kind}_PROVIDERS names {name!r} but its API key is not set or it is turned off")
    if len(set(names)) != len(names):
        raise ValueError(f"{kind}_PROVIDERS names a provider twice: {raw!r}")
    local = [n for n in names if n in LOCAL[kind]]
    if names[len(names) - len(local) :] != local or local != [n for n in LOCAL[kind] if n in local]:
        raise ValueError(f"{kind}_PROVIDERS: {' then '.join(map(repr, LOCAL[kind]))} can only be the last link(s)")
    return names[: len(names) - len(local)]


def chain_names(kind: str, settings: Settings) -> list[str]:
    """The provider names of the ``kind`` (``LLM``, ``TTS``, ``STT``) chain that ``settings`` selects."""
    table = {"LLM": LLM, "TTS": TTS, "STT": STT}[kind]
    raw = {"LLM": settings.llm_providers, "TTS": settings.tts_providers, "STT": settings.stt_providers}[kind]
    if raw is not None:
        names = _parse(kind, raw, table, settings)
    elif kind == "LLM" and settings.llm_provider == OFFLINE:
        names = []
    else:
        names = [n for n, entry in table.items() if n not in LOCAL[kind] and entry.configured(settings)]
        if kind == "LLM" and settings.llm_provider in names:
            names.remove(settings.llm_provider)
            names.insert(0, settings.llm_provider)
    return names + [n for n in LOCAL[kind] if table[n].configured(settings)]


def _breaker(settings: Settings) -> BreakerOptions:
    return BreakerOptions(failures=settings.vendor_breaker_failures, cooldown=settings.vendor_breaker_cooldown)


def make_llm(settings: Settings, vendor: LLMProvider | None = None) -> FallbackLLM:
    """The LLM chain; ``vendor`` (tests) replaces the configured vendors, before the offline link."""
    names = chain_names("LLM", settings)
    if vendor is not None:
        names = [OFFLINE]
    providers = ([vendor] if vendor is not None else []) + [LLM[n].build(settings) for n in names]
    gate = LLMGate(settings.llm_max_concurrent, settings.llm_calls_per_minute)
    return FallbackLLM(providers, _breaker(settings), feedback_deadline=settings.llm_feedback_deadline, gate=gate)


def make_tts(settings: Settings) -> FallbackTTS:
    """The TTS chain (espeak-ng when no TTS vendor is configured; silence when it is turned off too)."""
    return FallbackTTS(
        [TTS[n].build(settings) for n in chain_names("TTS", settings)],
        _breaker(settings),
        first_byte_deadline=settings.tts_question_deadline,
    )


def make_stt(settings: Settings) -> FallbackSTT | None:
    """The STT chain, or None when no STT provider is configured or turned on (text mode)."""
    names = chain_names("STT", settings)
    return FallbackSTT([STT[n].build(settings) for n in names], _breaker(settings)) if names else None
