"""What this server can do by voice, read from its TTS and STT chains (``GET /api/v1/capabilities``).

The page asks before Start, so it offers only what works here:

* ``spoken_questions``: a TTS link whose capabilities say ``audible`` (every
  link but the silent ``offline`` one: a vendor or espeak-ng);
* ``voice_answers``: an STT chain exists (without one a voice interview runs in text mode);
  ``rough_transcript`` when only offline recognition (pocketsphinx, English) gives it;
* ``hands_free``: an answer can end by itself: every STT provider when the
  server's VAD runs (it judges ``linear16`` audio, whatever the STT), else only
  the providers that send end-of-speech events (``end_of_speech_events``: Deepgram);
* ``audio_format``: what the page should capture: ``webm`` (Opus) when the
  chain's first provider hears the end of speech itself, else ``linear16``
  (16 kHz PCM16) when the VAD runs, so the answer still ends by itself.

Each provider's capabilities record (:mod:`.plugins`) may name the interview
``languages`` it handles; None handles them all. Each mode lists the providers that give it and the
languages at least one of them handles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from .fallback import FallbackTTS
from .stt_fallback import FallbackSTT
from .vad import VADPool

__all__ = ["Capabilities", "Listening", "Mode", "capabilities"]


class Mode(BaseModel):
    """One way of running an interview: whether it works here, in which languages, through which providers."""

    available: bool
    languages: list[str]
    providers: list[str]


class Listening(Mode):
    """Voice answers: also whether every provider that takes them gives only a rough transcript."""

    rough_transcript: bool


class Capabilities(BaseModel):
    """The answer of ``GET /api/v1/capabilities``."""

    languages: list[str]
    spoken_questions: Mode
    voice_answers: Listening
    hands_free: Mode
    audio_format: str


def mode(providers: Iterable[Any], languages: Sequence[str]) -> Mode:
    """The mode the ``providers`` give, in the interview ``languages`` (their order kept)."""
    found = list(providers)
    handled = {lang for p in found for lang in (p.capabilities.languages or languages)}
    spoken = [lang for lang in languages if lang in handled]
    return Mode(available=bool(spoken), languages=spoken, providers=[p.name for p in found])


def capabilities(
    tts: FallbackTTS, stt: FallbackSTT | None, languages: Sequence[str], vad: VADPool | None = None
) -> Capabilities:
    """What ``tts`` and ``stt`` (None: no STT configured) allow, in the interview ``languages``;
    ``vad``: the server's voice activity detector (None: off or not installed)."""
    listeners = list(stt.providers) if stt is not None else []
    vad_runs = vad is not None and not vad.broken
    events = [p for p in listeners if p.capabilities.end_of_speech_events]
    lead_hears_end = bool(listeners) and listeners[0].capabilities.end_of_speech_events
    return Capabilities(
        languages=list(languages),
        spoken_questions=mode((p for p in tts.providers if p.capabilities.audible), languages),
        voice_answers=Listening(
            **mode(listeners, languages).model_dump(),
            rough_transcript=bool(listeners) and all(p.capabilities.rough_transcript for p in listeners),
        ),
        hands_free=mode(listeners if vad_runs else events, languages),
        audio_format="linear16" if vad_runs and listeners and not lead_hears_end else "webm",
    )
