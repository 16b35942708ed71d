"""A vendor is one module: a fake TTS vendor written here registers itself and joins a chain by TTS_PROVIDERS.

The module below is the whole vendor: settings with its own prefix (``ACME_API_KEY``,
``ACME_BASE_URL``), a key, a capabilities record and ``register(...)``. Nothing else
is edited; the chain, offline detection (and so the default CORS policy),
``GET /api/v1/capabilities`` and the benchmarks' scrub list all pick it up.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from sio_server.app import create_app
from sio_server.vendors.plugins import key_env_names, offline, unregister, vendor_env_names, vendors
from sio_server.vendors.chains import chain_names, make_tts

ACME_TTS = '''
"""Acme speech: a fake vendor that 'speaks' each sentence as its UTF-8 bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sio_server.settings import Settings
from sio_server.vendors.plugins import TTSCapabilities, Vendor, VendorSettings, register, vendor_config


class AcmeSettings(VendorSettings):
    model_config = vendor_config("ACME_")

    api_key: str | None = None
    base_url: str = "https://acme.invalid"


class AcmeTTS:
    name = "acme"
    offline = False
    mime = "audio/mpeg"
    capabilities = TTSCapabilities(streaming=False, languages=frozenset({"en"}))

    def __init__(self, api_key: str, base_url: str) -> None:
        self.api_key, self.base_url = api_key, base_url

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        yield f"{self.base_url}|{persona}|{text}".encode()


def build(settings: Settings, own: AcmeSettings) -> AcmeTTS:
    return AcmeTTS(own.api_key or "", own.base_url)


VENDOR = register(Vendor("acme", "TTS", AcmeSettings, build, rank=30))
'''


@pytest.fixture
def acme(tmp_path):
    """The vendor module, written to a file and imported (which registers it); unregistered afterwards."""
    path = tmp_path / "acme_tts.py"
    path.write_text(textwrap.dedent(ACME_TTS))
    spec = importlib.util.spec_from_file_location("acme_tts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["acme_tts"] = module
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        unregister("TTS", "acme")
        sys.modules.pop("acme_tts", None)


async def test_a_vendor_module_joins_the_chain_by_tts_providers(acme, settings):
    assert "acme" in vendors("TTS")
    keyed = settings.model_copy(update={"acme_api_key": "k", "acme_base_url": "https://fake.acme", "tts_providers": "acme"})
    assert chain_names("TTS", keyed) == ["acme", "espeak", "offline"]
    chain = make_tts(keyed)
    try:
        audio = [c async for c in chain.stream("Hello there.", persona="friendly", language="en")]
        assert audio == [b"https://fake.acme|friendly|Hello there."]
        assert chain.name == "acme>espeak>offline"
    finally:
        await chain.aclose()
    unkeyed = settings.model_copy(update={"tts_providers": "acme"})
    with pytest.raises(ValueError, match="'acme' but its API key is not set"):
        chain_names("TTS", unkeyed)


def test_its_key_decides_offline_and_the_bench_scrubs_its_variables(acme, settings, monkeypatch):
    assert "ACME_API_KEY" in key_env_names() and {"ACME_API_KEY", "ACME_BASE_URL"} <= set(vendor_env_names())
    assert offline(settings) and settings.cors_origins(offline(settings)) == "*"
    keyed = settings.model_copy(update={"acme_api_key": "k"})
    assert not offline(keyed) and keyed.cors_origins(offline(keyed)) is None, "a keyed server is same-origin"
    assert chain_names("TTS", keyed) == ["acme", "espeak", "offline"], "keyed: in the default chain by its rank"
    monkeypatch.setenv("ACME_API_KEY", "from-the-environment")
    assert not offline(settings), "its variable, read from the environment"


async def test_the_capabilities_route_reads_its_record(acme, settings, aiohttp_client):
    http = await aiohttp_client(create_app(settings.model_copy(update={"acme_api_key": "k", "offline_tts": False})))
    answer = await (await http.get("/api/v1/capabilities")).json()
    assert answer["spoken_questions"] == {"available": True, "languages": ["en"], "providers": ["acme"]}


def test_every_vendor_module_is_loaded_by_the_registry():
    """Each ``<vendor>_<kind>.py`` of vendors/ (a vendor name may hold ``_``) registers itself, in a fresh process."""
    import subprocess
    import sys
    from pathlib import Path

    import sio_server.vendors as package

    files = sorted(p.stem for p in Path(package.__file__).parent.glob("*.py") if p.stem.endswith(("_llm", "_tts", "_stt")))
    probe = (
        "import sys; from sio_server.vendors.plugins import load_vendors; load_vendors(); "
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('sio_server.vendors.') "
        "and m.endswith(('_llm', '_tts', '_stt'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "openai_realtime_stt" in files
    assert eval(out) == files  # noqa: S307 - our own probe's list literal


def test_a_module_named_like_a_vendor_registers_one():
    """Only vendor modules end in ``_llm``/``_tts``/``_stt``: the loader imports them all, so a helper named that way
    (``fallback_stt.py`` once) would be imported as a vendor that registers nothing."""
    import subprocess
    import sys

    probe = (
        "import sys; from sio_server.vendors import plugins; plugins.load_vendors(); "
        "mods = {m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('sio_server.vendors.') "
        "and plugins.VENDOR_MODULE.match(m.rsplit('.', 1)[1])}; "
        "owners = {m.rsplit('.', 1)[1] for kind in ('LLM', 'TTS', 'STT') "
        "for v in plugins.vendors(kind).values() for m in (v.build.__module__, v.settings.__module__)}; print(sorted(mods - owners))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"modules named like vendors that register none: {out.strip()}"
