"""Offline text-to-speech: espeak-ng (GPL-3.0) in this process through ctypes, MP3 by lameenc (LGPL-3.0).

The ``espeakng-loader`` wheel ships ``libespeak-ng.so`` and the whole
``espeak-ng-data`` (English and Korean included), so questions are spoken with
no key, no network and no system package. :class:`EspeakTTS` is the TTS chain's
last speaking link (``OFFLINE_TTS``); the silent ``offline`` link only follows it.

libespeak-ng keeps its state in globals: it is initialized once per process
(``AUDIO_OUTPUT_SYNCHRONOUS``: ``espeak_Synth`` returns when the text is spoken,
calling back with 22,050 Hz PCM16 every ``CHUNK_MS`` of audio) and one synthesis
runs at a time (:data:`_LOCK`). Synthesis runs in a thread of its own (the C
code releases the GIL); each PCM block is encoded to MP3 there and handed to the
event loop, so the first audio goes out while the rest of the sentence is still
being synthesized. ``voices`` (``espeak_voices.json``) gives the voice of each
persona and language. Unlike the silent link, it can fail, so it is not
``offline`` in the chain's sense: it has a breaker like a vendor.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from pydantic import Field

from ..settings import Settings
from .plugins import TTSCapabilities, Vendor, VendorSettings, register, vendor_config
from .tts import TTSError

__all__ = ["EspeakTTS", "Voice", "load_voices", "synthesize"]

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of exiting the process
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAMETER_RATE = 1
EE_OK = 0
CHUNK_MS = 100  # audio per callback
MP3_KBPS = 48
MAX_INPUT_CHARS = 4096  # as OpenAI's limit: a sentence is far shorter
MAX_CHUNK_BYTES = 16384  # one tts_chunk at most (blocks waiting together are sent as one)

SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
OnPCM = Callable[[bytes], bool]

_LOCK = threading.Lock()
"""libespeak-ng's global state: held while it is initialized and for each whole synthesis."""


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice name (``language+variant``) and its rate in words per minute."""

    name: str
    rate: int


def load_voices() -> dict[str, dict[str, Voice]]:
    """``espeak_voices.json``: language → persona → :class:`Voice`."""
    raw: dict[str, Any] = json.loads(resources.files(__package__).joinpath("espeak_voices.json").read_text("utf-8"))
    return {
        language: {persona: Voice(name, table["rate"]) for persona, name in table.items() if persona != "rate"}
        for language, table in raw.items()
        if not language.startswith("_")
    }


def _check(code: int, what: str) -> None:
    if code != EE_OK:
        raise TTSError(f"espeak: {what} failed (espeak_ERROR {code})")


class _Engine:
    """libespeak-ng loaded and initialized for this process (create it holding :data:`_LOCK`)."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [SynthCallback]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, CHUNK_MS, data, INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise TTSError(f"espeak: espeak_Initialize failed ({rate})")
        self.lib = lib
        self.sample_rate: int = rate
        self._on_pcm: OnPCM | None = None
        self._error: BaseException | None = None
        self._callback = SynthCallback(self._receive)  # referenced as long as the library may call it
        lib.espeak_SetSynthCallback(self._callback)

    def _receive(self, wav: Any, samples: int, events: Any) -> int:
        """libespeak-ng's callback: 0 goes on, 1 aborts the synthesis."""
        if samples <= 0 or not wav or self._on_pcm is None:
            return 0
        try:
            return 0 if self._on_pcm(ctypes.string_at(wav, samples * 2)) else 1
        except BaseException as exc:  # noqa: BLE001 - a ctypes callback cannot raise: re-raised by speak()
            self._error = exc
            return 1

    def speak(self, text: str, voice: Voice, on_pcm: OnPCM) -> None:
        """Synthesize ``text`` (call holding :data:`_LOCK`); ``on_pcm`` gets each PCM16 block, False stops."""
        _check(self.lib.espeak_SetVoiceByName(voice.name.encode()), f"voice {voice.name!r}")
        _check(self.lib.espeak_SetParameter(PARAMETER_RATE, voice.rate, 0), "setting the rate")
        data = text.encode("utf-8") + b"\0"
        self._on_pcm, self._error = on_pcm, None
        try:
            _check(self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None), "synthesis")
        finally:
            self._on_pcm = None
        if self._error is not None:
            raise self._error


_engine: _Engine | None = None


def _speak(text: str, voice: Voice, on_start: Callable[[int], OnPCM]) -> None:
    """One synthesis with the process's engine (initialized on first use); ``on_start(sample_rate)`` gives ``on_pcm``."""
    global _engine
    with _LOCK:
        if _engine is None:
            _engine = _Engine()
        _engine.speak(text, voice, on_start(_engine.sample_rate))


def synthesize(text: str, voice: Voice) -> tuple[int, bytes]:
    """``text`` spoken by ``voice`` at once: the sample rate and the whole mono PCM16 (blocks the calling thread)."""
    blocks: list[bytes] = []
    rate = 0

    def start(sample_rate: int) -> OnPCM:
        nonlocal rate
        rate = sample_rate
        return lambda pcm: blocks.append(pcm) is None

    _speak(text, voice, start)
    return rate, b"".join(blocks)


def mp3_encoder(sample_rate: int) -> Any:
    """A LAME encoder for mono PCM16 at ``sample_rate`` (constant ``MP3_KBPS``, fastest quality)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_bit_rate(MP3_KBPS)
    encoder.set_quality(7)
    encoder.silence()
    return encoder


class EspeakTTS:
    """A :class:`~.tts.TTSProvider` speaking English and Korean with espeak-ng, MP3 streamed as synthesized."""

    name = "espeak"
    offline = False
    mime = "audio/mpeg"

    def __init__(self, voices: Mapping[str, Mapping[str, Voice]] | None = None) -> None:
        self.voices = voices if voices is not None else load_voices()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")

    @property
    def capabilities(self) -> TTSCapabilities:
        """MP3 streamed as synthesised, in the interview languages it has voices for."""
        return TTSCapabilities(streaming=True, languages=frozenset(self.voices))

    def voice_for(self, persona: str, language: str) -> Voice:
        """The voice of ``persona`` in ``language`` (:class:`TTSError` for a language it does not speak)."""
        table = self.voices.get(language)
        if not table:
            raise TTSError(f"espeak: no voice for language {language!r}")
        return table.get(persona) or next(iter(table.values()))

    async def aclose(self) -> None:
        """Stop the synthesis thread (a synthesis under way stops at its next block)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def stream(self, text: str, *, persona: str, language: str) -> AsyncIterator[bytes]:
        """Yield the MP3 of ``text`` as it is synthesized (blocks waiting together come as one chunk)."""
        voice = self.voice_for(persona, language)
        loop = asyncio.get_running_loop()
        blocks: asyncio.Queue[bytes | None] = asyncio.Queue()
        stop = threading.Event()

        def put(block: bytes | None) -> None:
            if not loop.is_closed():  # closed: the server is gone, nobody reads
                loop.call_soon_threadsafe(blocks.put_nowait, block)

        def synthesize() -> None:
            encoder: Any = None

            def start(sample_rate: int) -> OnPCM:
                nonlocal encoder
                encoder = mp3_encoder(sample_rate)

                def on_pcm(pcm: bytes) -> bool:
                    if stop.is_set():
                        return False
                    mp3 = encoder.encode(pcm)
                    if mp3:
                        put(bytes(mp3))
                    return True

                return on_pcm

            try:
                _speak(text[:MAX_INPUT_CHARS], voice, start)
                if encoder is not None and not stop.is_set():
                    put(bytes(encoder.flush()))
            finally:
                put(None)

        job = loop.run_in_executor(self._executor, synthesize)
        try:
            done = False
            while not done:
                block = await blocks.get()
                if block is None:
                    break
                parts, size = [block], len(block)
                while size < MAX_CHUNK_BYTES and not blocks.empty():
                    more = blocks.get_nowait()
                    if more is None:
                        done = True
                        break
                    parts.append(more)
                    size += len(more)
                if size:
                    yield b"".join(parts)
            try:
                await job
            except TTSError:
                raise
            except Exception as exc:
                raise TTSError(f"espeak: {type(exc).__name__}: {exc}") from exc
        finally:
            stop.set()
            job.cancel()  # not started yet: never starts; running: stops at its next block


class EspeakSettings(VendorSettings):
    """espeak-ng needs no key; ``OFFLINE_TTS`` turns it off."""

    model_config = vendor_config("ESPEAK_")
    key_field: ClassVar[str | None] = None

    enabled: bool = Field(
        default=True, validation_alias="OFFLINE_TTS",
        description="speak questions with espeak-ng (GPL-3.0) as the TTS chain's last link; false: silence",
    )


def build(settings: Settings, own: EspeakSettings) -> EspeakTTS:
    """espeak-ng with the voices of ``espeak_voices.json``."""
    return EspeakTTS()


VENDOR = register(Vendor("espeak", "TTS", EspeakSettings, build, rank=1, local=True, enabled=lambda own: own.enabled))
