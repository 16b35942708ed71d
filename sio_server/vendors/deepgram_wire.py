"""Deepgram's live wire format: the ``/v1/listen`` URL, its control messages, and its results on the answer's timeline.

Nothing here does I/O; :mod:`.deepgram_stt` owns the socket and the stream.

Offsets: each Deepgram result carries ``start`` and ``duration`` in seconds of
the audio sent on that connection. After a reconnect the stream re-sends the
answer's audio from its beginning, so the new connection's timeline is the
old one, shifted by the audio the bounded buffer had to drop (known for
``linear16``, 32,000 bytes per second; unknown for WebM, taken as 0).
:class:`Timeline` remembers where the last accepted final ended
(``covered``); results that end before it are dropped and a result
straddling it keeps only the words that start after it. So a final already
reported (and shown to the candidate) is never reported or joined twice, and
the words the old connection never finalized come from the new one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from .stt import Word

__all__ = ["DEFAULT_QUERY", "VENDOR_EVENTS", "Timeline", "listen_url"]

LINEAR16_BYTES_PER_SECOND = 16000 * 2
EPSILON = 1e-6  # tolerance when comparing result times (seconds)

DEFAULT_QUERY = {"smart_format": "true", "punctuate": "true", "endpointing": "300", "filler_words": "true"}  # fillers kept: "how you spoke"
VENDOR_EVENTS = {"SpeechStarted": "speech_started", "UtteranceEnd": "utterance_end"}  # VENDORS.md 5.1

KEEPALIVE = json.dumps({"type": "KeepAlive"})
FINALIZE = json.dumps({"type": "Finalize"})
CLOSE_STREAM = json.dumps({"type": "CloseStream"})


def listen_url(
    base_url: str, *, model: str, language: str, audio_format: str, extra: dict[str, str] | None = None
) -> str:
    """The ``/v1/listen`` websocket URL for one answer.

    ``extra`` (from ``DEEPGRAM_QUERY``) adds or overrides query parameters;
    ``linear16`` audio adds ``encoding``/``sample_rate``/``channels``; WebM
    sends neither (Deepgram reads the container header).
    """
    params: dict[str, str] = {
        "model": model,
        "language": language,
        "interim_results": "true",
        **DEFAULT_QUERY,
        **(extra or {}),
    }
    if audio_format == "linear16":
        params.update(encoding="linear16", sample_rate="16000", channels="1")
    return f"{base_url.rstrip('/')}/v1/listen?{urlencode(params)}"


def _word_text(word: dict[str, Any]) -> str:
    return str(word.get("punctuated_word") or word.get("word") or "")


class Timeline:
    """One answer's ``Results`` read onto its timeline (see the module docstring)."""

    def __init__(self) -> None:
        self.covered: float | None = None  # end (seconds, answer timeline) of the last accepted final
        self.shift = 0.0  # seconds of audio missing at the start of the current connection

    def reconnected(self, dropped_bytes: int, audio_format: str) -> bool:
        """Start a new connection's timeline after ``dropped_bytes`` left the buffer; True when audio no final covered is lost."""
        self.shift = dropped_bytes / LINEAR16_BYTES_PER_SECOND if audio_format == "linear16" else 0.0
        return bool(dropped_bytes) and (audio_format != "linear16" or (self.covered or 0.0) < self.shift - EPSILON)

    def take(self, msg: dict[str, Any]) -> tuple[str, list[Word]]:
        """The new text of a ``Results`` message ('' when nothing is new) and, for a final, its new timed words.

        A final moves ``covered`` to its end.
        """
        alt = ((msg.get("channel") or {}).get("alternatives") or [{}])[0]
        is_final = bool(msg.get("is_final"))
        text = self._new_text(msg, alt)
        words = self._new_words(msg, alt) if is_final and text else []
        if is_final and "start" in msg:
            end = float(msg["start"]) + float(msg.get("duration") or 0.0) + self.shift
            if text or self.covered is None or end > self.covered:
                self.covered = max(end, self.covered or 0.0)
        return text, words

    def _new_text(self, msg: dict[str, Any], alt: dict[str, Any]) -> str:
        """The part of a result not already covered by an accepted final ('' when nothing is new)."""
        text = (alt.get("transcript") or "").strip()
        if self.covered is None or "start" not in msg:
            return text
        start = float(msg["start"]) + self.shift
        end = start + float(msg.get("duration") or 0.0)
        if end <= self.covered + EPSILON:
            return ""
        if start >= self.covered - EPSILON:
            return text
        words = alt.get("words") or []
        if not words:
            return text
        kept = [w for w in words if float(w.get("start", 0.0)) + self.shift >= self.covered - EPSILON]
        return " ".join(_word_text(w) for w in kept).strip()

    def _new_words(self, msg: dict[str, Any], alt: dict[str, Any]) -> list[Word]:
        """The timed words of a final result that no accepted final covered (as :meth:`_new_text` keeps them)."""
        shift = self.shift
        words = [
            Word(_word_text(w), float(w["start"]) + shift, float(w["end"]) + shift)
            for w in alt.get("words") or []
            if "start" in w and "end" in w
        ]
        if self.covered is None or "start" not in msg:
            return words
        return [w for w in words if w.start >= self.covered - EPSILON]
