"""The vendor plugin contract: what one vendor module declares, and the registry it declares itself in.

A vendor is **one module** of this package named ``<vendor>_<kind>.py``
(``elevenlabs_tts.py``, ``deepgram_stt.py``, ``openai_llm.py``). It declares:

* its **settings**: a :class:`VendorSettings` subclass with its own ``env_prefix``
  (``ELEVENLABS_`` → ``ELEVENLABS_API_KEY``, ``ELEVENLABS_BASE_URL``…); a field
  named elsewhere keeps its name with ``validation_alias`` (``GOOGLE_API_KEY``);
* its **key**: the ``api_key`` field (``key_field = None``: it needs none);
* its **abilities**: a ``capabilities`` record on the provider class
  (:class:`TTSCapabilities`, :class:`STTCapabilities`, :class:`LLMCapabilities`),
  read by the fallback chains and ``GET /api/v1/capabilities``;
* and it **registers itself**: ``register(Vendor(name, kind, settings, build, rank))``
  at import. :func:`load_vendors` imports every such module of the package.

The rest is derived from the registry: the chains ``LLM_PROVIDERS`` /
``TTS_PROVIDERS`` / ``STT_PROVIDERS`` name (and their default order, by
``rank``), whether the server is offline (no key set: CORS open by default),
and the environment the benchmarks scrub. Heavy SDKs (``openai``) are imported
inside ``build``, never at module level: loading the registry stays cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from ..settings import Settings
from .options import ConnectOptions

__all__ = [
    "Kind",
    "LLMCapabilities",
    "STTCapabilities",
    "TTSCapabilities",
    "Vendor",
    "VendorSettings",
    "key_env_names",
    "load_vendors",
    "offline",
    "register",
    "stt_options",
    "tts_options",
    "vendor_config",
    "vendor_env_names",
    "vendors",
]

Kind = Literal["LLM", "TTS", "STT"]
VENDOR_MODULE = re.compile(r"^[a-z0-9_]+_(llm|tts|stt)$")


@dataclass(frozen=True)
class LLMCapabilities:
    """What an LLM provider can do."""

    streaming: bool = True
    """The question arrives in pieces as it is written (False: all at once)."""


@dataclass(frozen=True)
class TTSCapabilities:
    """What a TTS provider can do (LiveKit's ``TTSCapabilities``)."""

    streaming: bool
    """Audio arrives in chunks while the vendor synthesises (False: one piece per sentence)."""
    audible: bool = True
    """It makes sound (False: the silent last link)."""
    languages: frozenset[str] | None = None
    """The interview languages it speaks (None: all)."""


@dataclass(frozen=True)
class STTCapabilities:
    """What an STT provider can do (LiveKit's ``STTCapabilities``)."""

    streaming: bool
    """Audio is recognised while it arrives (False: the answer's file is sent at its end)."""
    interim_results: bool
    """It sends partial transcripts before the final one."""
    end_of_speech_events: bool = False
    """It sends speech-start and end-of-utterance events (``on_event``), so an answer can end by itself."""
    languages: frozenset[str] | None = None
    """The interview languages it recognises (None: all)."""
    audio_formats: tuple[str, ...] | None = None
    """The answer audio formats it takes (``linear16``, ``webm``; None: any): the chain skips it for others."""
    rough_transcript: bool = False
    """Its transcripts are rough (offline recognition): the page says so."""


def vendor_config(env_prefix: str) -> SettingsConfigDict:
    """The ``model_config`` of a vendor's settings: its variables start with ``env_prefix``.

    ``.env`` is read once, by the core :class:`~sio_server.settings.Settings`,
    which keeps the variables it does not know as extras; :meth:`VendorSettings.from_core`
    hands them on (so ``Settings(_env_file=None)`` keeps ``.env`` away from the vendors too).
    """
    return SettingsConfigDict(env_prefix=env_prefix, extra="ignore", case_sensitive=False, populate_by_name=True)


class VendorSettings(BaseSettings):
    """One vendor's settings, read from its own environment variables.

    The core settings' extras (``.env`` lines and ``Settings(openai_api_key=...)``
    in tests, by the variable's name) are laid over the environment by :meth:`from_core`.
    """

    model_config = vendor_config("")
    key_field: ClassVar[str | None] = "api_key"

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name → the environment variable that sets it (upper case)."""
        prefix = cls.model_config.get("env_prefix", "")
        names = {}
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            names[name] = (alias if isinstance(alias, str) else prefix + name).upper()
        return names

    @classmethod
    def key_env(cls) -> str | None:
        """The variable holding the API key (None: the vendor needs no key)."""
        return cls.env_names()[cls.key_field] if cls.key_field else None

    @classmethod
    def from_core(cls, core: Settings) -> Any:
        """This vendor's settings: the environment, with what ``core`` was given by variable name laid over it."""
        given = {k.upper(): v for k, v in (core.model_extra or {}).items()}
        return cls(**{field: given[env] for field, env in cls.env_names().items() if env in given})

    def key(self) -> str | None:
        """The API key, None when it is not set (or the vendor needs none)."""
        if self.key_field is None:
            return None
        return getattr(self, self.key_field) or None


class NoSettings(VendorSettings):
    """The settings of a provider that has none."""

    model_config = vendor_config("NO_SETTINGS_")
    key_field: ClassVar[str | None] = None


@dataclass(frozen=True)
class Vendor:
    """One registered provider.

    ``build(core, own)`` makes it from the core settings and its own;
    ``rank`` orders the default chains (lower first); ``local`` marks a link
    without a vendor, which always ends its chain (in ``rank`` order);
    ``enabled(own)`` turns a provider without a key off (None: always on).
    """

    name: str
    kind: Kind
    settings: type[VendorSettings]
    build: Callable[[Settings, Any], Any]
    rank: int
    local: bool = False
    enabled: Callable[[Any], bool] | None = None

    def own(self, core: Settings) -> Any:
        """Its settings for ``core``."""
        return self.settings.from_core(core)

    def configured(self, core: Settings) -> bool:
        """Whether it is turned on and its key is set (always for a provider that needs neither)."""
        own = self.own(core)
        if self.enabled is not None and not self.enabled(own):
            return False
        return self.settings.key_field is None or bool(own.key())


_REGISTRY: dict[Kind, dict[str, Vendor]] = {"LLM": {}, "TTS": {}, "STT": {}}


def register(vendor: Vendor) -> Vendor:
    """Add ``vendor`` to the registry (a vendor module calls this at import); returns it."""
    known = _REGISTRY[vendor.kind].get(vendor.name)
    if known is not None and known.settings.__qualname__ != vendor.settings.__qualname__:
        raise ValueError(f"two {vendor.kind} vendors named {vendor.name!r}")
    _REGISTRY[vendor.kind][vendor.name] = vendor
    return vendor


def unregister(kind: Kind, name: str) -> None:
    """Remove a vendor (tests that registered one of their own)."""
    _REGISTRY[kind].pop(name, None)


def load_vendors() -> None:
    """Import every vendor module of this package (``<vendor>_<kind>.py``): each registers itself."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if VENDOR_MODULE.match(module.name):
            importlib.import_module(f"{__package__}.{module.name}")


def vendors(kind: Kind) -> dict[str, Vendor]:
    """The registered vendors of ``kind`` by name, in chain order (``rank``)."""
    load_vendors()
    return dict(sorted(_REGISTRY[kind].items(), key=lambda item: item[1].rank))


def _all() -> list[Vendor]:
    return [v for kind in _REGISTRY for v in vendors(kind).values()]


def key_env_names() -> list[str]:
    """Every vendor key's variable (``OPENAI_API_KEY``, ``GOOGLE_API_KEY``…): one set means not offline."""
    return sorted({env for v in _all() if (env := v.settings.key_env())})


def vendor_env_names() -> list[str]:
    """Every variable of a vendor that needs a key (keys, base URLs, models): what a benchmark scrubs from its shell."""
    return sorted({env for v in _all() if v.settings.key_field for env in v.settings.env_names().values()})


def offline(core: Settings) -> bool:
    """True when no vendor key at all is set (nothing a foreign page could spend): CORS is then open by default."""
    return not any(v.settings.key_field and v.own(core).key() for v in _all())


def tts_options(core: Settings) -> ConnectOptions:
    """How hard a TTS call is tried."""
    return ConnectOptions(core.tts_max_tries, core.tts_retry_base, core.tts_retry_max, core.tts_timeout)


def stt_options(core: Settings) -> ConnectOptions:
    """How hard an STT connection is tried."""
    return ConnectOptions(core.stt_max_tries, core.stt_retry_base, core.stt_retry_max, core.stt_timeout)
