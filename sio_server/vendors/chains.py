"""The fallback chains built from settings, out of the vendors registered in :mod:`.plugins`.

Every vendor registers itself from its own module (``<vendor>_<kind>.py``: its
settings, key, capabilities and ``register(Vendor(...))``; see
:mod:`.plugins`). ``LLM_PROVIDERS``, ``TTS_PROVIDERS`` and ``STT_PROVIDERS``
name the chains' links in order; unset, a chain holds the vendors whose key is
set, by ``rank`` (``LLM_PROVIDER`` first for the LLM). The local links (no
vendor: ``local=True``) always end a chain, by rank: the offline interviewer
ends the LLM chain; TTS ends with espeak-ng (unless ``OFFLINE_TTS`` is false)
then silence. STT has none (no STT provider: voice interviews run in text mode).

Vendor modules import their SDK only when their provider is built, so the
``openai`` SDK is loaded only in a process that uses an OpenAI provider.
"""

from __future__ import annotations

from ..settings import Settings
from .breaker import BreakerOptions
from .budget import LLMGate
from .fallback import FallbackLLM, FallbackTTS
from .stt_fallback import FallbackSTT
from .llm import LLMProvider
from .plugins import Kind, Vendor, stt_options, tts_options, vendors

__all__ = ["chain_names", "local_names", "make_llm", "make_stt", "make_tts", "stt_options", "tts_options"]

OFFLINE = "offline"


def local_names(kind: Kind) -> tuple[str, ...]:
    """The links without a vendor that end ``kind``'s chain, in their order (those turned on or not)."""
    return tuple(name for name, vendor in vendors(kind).items() if vendor.local)


def _parse(kind: Kind, raw: str, table: dict[str, Vendor], settings: Settings) -> list[str]:
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in table:
            raise ValueError(f"{kind}_PROVIDERS: unknown provider {name!r} (known: {', '.join(table)})")
        if not table[name].configured(settings):
            raise ValueError(f"{kind}_PROVIDERS names {name!r} but its API key is not set or it is turned off")
    if len(set(names)) != len(names):
        raise ValueError(f"{kind}_PROVIDERS names a provider twice: {raw!r}")
    local_links = local_names(kind)
    local = [n for n in names if n in local_links]
    if names[len(names) - len(local) :] != local or local != [n for n in local_links if n in local]:
        raise ValueError(f"{kind}_PROVIDERS: {' then '.join(map(repr, local_links))} can only be the last link(s)")
    return names[: len(names) - len(local)]


def chain_names(kind: Kind, settings: Settings) -> list[str]:
    """The provider names of the ``kind`` (``LLM``, ``TTS``, ``STT``) chain that ``settings`` selects."""
    table = vendors(kind)
    local_links = local_names(kind)
    raw = {"LLM": settings.llm_providers, "TTS": settings.tts_providers, "STT": settings.stt_providers}[kind]
    first = (settings.llm_provider or "").strip().lower() if kind == "LLM" else ""
    if first and first not in table:
        raise ValueError(f"LLM_PROVIDER: unknown provider {first!r} (known: {', '.join(table)})")
    if raw is not None:
        names = _parse(kind, raw, table, settings)
    elif first == OFFLINE:
        names = []
    else:
        names = [n for n, vendor in table.items() if not vendor.local and vendor.configured(settings)]
        if first in names:
            names.remove(first)
            names.insert(0, first)
    return names + [n for n in local_links if table[n].configured(settings)]


def build(kind: Kind, name: str, settings: Settings) -> object:
    """The provider ``name`` of ``kind``, built from ``settings`` and its own settings."""
    vendor = vendors(kind)[name]
    return vendor.build(settings, vendor.own(settings))


def _breaker(settings: Settings) -> BreakerOptions:
    return BreakerOptions(failures=settings.vendor_breaker_failures, cooldown=settings.vendor_breaker_cooldown)


def make_llm(settings: Settings, vendor: LLMProvider | None = None) -> FallbackLLM:
    """The LLM chain; ``vendor`` (tests) replaces the configured vendors, before the offline link."""
    names = chain_names("LLM", settings)
    if vendor is not None:
        names = [OFFLINE]
    providers = ([vendor] if vendor is not None else []) + [build("LLM", n, settings) for n in names]
    gate = LLMGate(settings.llm_max_concurrent, settings.llm_calls_per_minute)
    return FallbackLLM(providers, _breaker(settings), feedback_deadline=settings.llm_feedback_deadline, gate=gate)


def make_tts(settings: Settings) -> FallbackTTS:
    """The TTS chain (espeak-ng when no TTS vendor is configured; silence when it is turned off too)."""
    return FallbackTTS(
        [build("TTS", n, settings) for n in chain_names("TTS", settings)],
        _breaker(settings),
        first_byte_deadline=settings.tts_question_deadline,
    )


def make_stt(settings: Settings) -> FallbackSTT | None:
    """The STT chain, or None when no STT provider is configured or turned on (text mode)."""
    names = chain_names("STT", settings)
    return FallbackSTT([build("STT", n, settings) for n in names], _breaker(settings)) if names else None
