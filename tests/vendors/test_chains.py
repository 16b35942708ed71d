"""The vendor chains (vendors/chains.py): chosen by settings, defaults as before, clear errors for bad lists."""

from __future__ import annotations

import pytest

from sio_server.settings import Settings
from sio_server.vendors.plugins import vendors
from sio_server.vendors.chains import build, chain_names, make_llm, make_stt, make_tts


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **{"offline_stt": "false", **kw})


def names(kind: str, **kw: object) -> list[str]:
    return chain_names(kind, settings(**kw))


def test_defaults_are_the_keyed_vendors_then_offline() -> None:
    assert names("LLM") == ["offline"] and names("TTS") == ["espeak", "offline"] and names("STT") == []
    assert names("TTS", offline_tts=False) == ["offline"]
    assert names("LLM", openai_api_key="k", llm_provider="offline") == ["offline"]
    assert names("LLM", google_api_key="g") == ["gemini", "offline"]
    assert names("LLM", openai_api_key="k", google_api_key="g") == ["openai", "gemini", "offline"]
    assert names("LLM", openai_api_key="k", google_api_key="g", llm_provider="gemini") == [
        "gemini",
        "openai",
        "offline",
    ]
    keyed = {"openai_api_key": "k", "elevenlabs_api_key": "e", "deepgram_api_key": "d"}
    assert names("TTS", **keyed) == ["elevenlabs", "openai", "espeak", "offline"]
    assert names("STT", **keyed) == ["deepgram", "openai_realtime", "openai"]
    assert names("TTS", elevenlabs_api_key="e") == ["elevenlabs", "espeak", "offline"]
    assert names("TTS", elevenlabs_api_key="e", offline_tts=False) == ["elevenlabs", "offline"]
    assert names("STT", deepgram_api_key="d") == ["deepgram"]


def test_provider_lists_choose_and_order_the_links() -> None:
    keyed = {"openai_api_key": "k", "google_api_key": "g", "elevenlabs_api_key": "e", "deepgram_api_key": "d"}
    assert names("LLM", llm_providers="gemini", **keyed) == ["gemini", "offline"]
    assert names("LLM", llm_providers="Gemini, openai, offline", **keyed) == ["gemini", "openai", "offline"]
    assert names("TTS", tts_providers="openai,elevenlabs", **keyed) == ["openai", "elevenlabs", "espeak", "offline"]
    assert names("TTS", tts_providers="openai,espeak,offline", **keyed) == ["openai", "espeak", "offline"]
    assert names("TTS", tts_providers="offline", **keyed) == ["espeak", "offline"]
    assert names("STT", stt_providers="openai", **keyed) == ["openai"]
    assert names("STT", stt_providers="", **keyed) == []


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"tts_providers": "polly"}, "unknown provider 'polly'"),
        ({"tts_providers": "elevenlabs"}, "its API key is not set"),
        ({"tts_providers": "espeak", "offline_tts": False}, "turned off"),
        ({"llm_providers": "offline,openai", "openai_api_key": "k"}, "only be the last link"),
        ({"tts_providers": "espeak,openai", "openai_api_key": "k"}, "only be the last link"),
        ({"tts_providers": "offline,espeak"}, "only be the last link"),
        ({"stt_providers": "openai,openai", "openai_api_key": "k"}, "twice"),
    ],
)
def test_bad_lists_are_refused_clearly(kw: dict[str, object], message: str) -> None:
    kind = next(k.split("_")[0].upper() for k in kw if k.endswith("_providers"))
    with pytest.raises(ValueError, match=message):
        chain_names(kind, settings(**kw))


async def test_chains_are_built_from_the_registry() -> None:
    s = settings(openai_api_key="k", openai_base_url="http://127.0.0.1:9/v1", vendor_breaker_failures=2)
    llm, tts, stt = make_llm(s), make_tts(s), make_stt(s)
    try:
        assert (
            llm.name == "openai>offline" and tts.name == "openai>espeak>offline" and stt is not None and stt.name == "openai_realtime>openai"
        )
        realtime = stt.providers[0]
        assert realtime.url == "ws://127.0.0.1:9/v1/realtime?intent=transcription" and realtime.rescue is not None
        assert all(link.breaker.options.failures == 2 for link in llm.links)
        assert make_stt(settings()) is None and make_llm(settings()).offline
        assert make_tts(settings(offline_tts=False)).offline and not make_tts(settings()).offline, "espeak speaks"
    finally:
        for chain in (llm, tts, stt):
            await chain.aclose()


def test_every_entry_builds_a_provider_named_as_registered() -> None:
    s = settings(openai_api_key="k", google_api_key="g", elevenlabs_api_key="e", deepgram_api_key="d")
    for kind in ("LLM", "TTS", "STT"):
        for name, vendor in vendors(kind).items():
            provider = build(kind, name, s)
            assert provider.name == name and vendor.kind == kind
            assert provider.capabilities is not None, "every provider declares its capabilities"
