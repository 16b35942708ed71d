"""What this server can do by voice, read from its TTS and STT chains (``GET /api/v1/capabilities``).

The page asks before Start, so it offers only what works here:

* ``spoken_questions``: a TTS link that makes sound (every link but the silent
  ``offline`` one: a vendor or espeak-ng);
* ``voice_answers``: an STT chain exists (without one a voice interview runs in text mode);
  ``rough_transcript`` when only offline recognition (pocketsphinx, English) gives it;
* ``hands_free``: an STT provider that sends end-of-speech events
  (``end_of_speech_events``, today Deepgram), so an answer can end by itself.

A provider may declare the interview ``languages`` it handles; one that does
not handles them all. Each mode lists the providers that give it and the
languages at least one of them handles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from .fallback import FallbackSTT, FallbackTTS

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


def mode(providers: Iterable[Any], languages: Sequence[str]) -> Mode:
    """The mode the ``providers`` give, in the interview ``languages`` (their order kept)."""
    found = list(providers)
    handled = {lang for p in found for lang in (getattr(p, "languages", None) or languages)}
    spoken = [lang for lang in languages if lang in handled]
    return Mode(available=bool(spoken), languages=spoken, providers=[p.name for p in found])


def capabilities(tts: FallbackTTS, stt: FallbackSTT | None, languages: Sequence[str]) -> Capabilities:
    """What ``tts`` and ``stt`` (None: no STT configured) allow, in the interview ``languages``."""
    listeners = list(stt.providers) if stt is not None else []
    return Capabilities(
        languages=list(languages),
        spoken_questions=mode((p for p in tts.providers if not p.offline), languages),
        voice_answers=Listening(
            **mode(listeners, languages).model_dump(),
            rough_transcript=bool(listeners) and all(getattr(p, "rough_transcript", False) for p in listeners),
        ),
        hands_free=mode((p for p in listeners if getattr(p, "end_of_speech_events", False)), languages),
    )
