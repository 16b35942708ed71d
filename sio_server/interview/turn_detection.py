"""Hands-free end of a spoken answer: has the candidate finished? Pure rules; the time is passed in.

An interview answer is long and has pauses, so the defaults are an
interviewer's, not a voice assistant's: nothing ends before
``min_answer_words`` have been heard, a pause shorter than ``notice_s``
changes nothing, a longer one tells the candidate the answer is about to end
(``ENDING``, which speech cancels: ``RESUMED``), and ``end_silence_s`` of
silence ends it (``END``, once). Speech is anything the STT stream reports:
interim or final words, the vendor's speech-start event, or a voiced frame
of the server's own VAD (``linear16`` audio; :mod:`..vendors.vad`). Enough was
said once ``min_answer_words`` were transcribed or the VAD heard
``min_speech_s`` of speech (a file transcription has no words before the end).
Once the VAD reports an answer, only it times the speech: transcripts come
late (a realtime segment about a second after it was said) and would push the
end back by that much.
A vendor's own end-of-utterance event (Deepgram's ``UtteranceEnd``) ends the
answer at once when enough was said; otherwise the silence since the last
speech decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TurnSignal(str, Enum):
    """What the detector says after a poll."""

    NONE = "none"
    ENDING = "ending"
    RESUMED = "resumed"
    END = "end"


@dataclass(frozen=True)
class TurnDetectionConfig:
    """Thresholds in seconds (``ANSWER_END_SILENCE_MS`` is ``end_silence_s``)."""

    end_silence_s: float = 2.5
    notice_s: float = 1.0
    min_answer_words: int = 3
    min_speech_s: float = 1.0  # of VAD-heard speech; 0: words only

    def __post_init__(self) -> None:
        if not 0 < self.notice_s < self.end_silence_s:
            raise ValueError("notice_s must be between 0 and end_silence_s")


class TurnDetector:
    """Tracks the speech of one answer."""

    def __init__(self, config: TurnDetectionConfig) -> None:
        self.config = config
        self.final_words = 0
        self.interim_words = 0
        self.last_speech: float | None = None
        self.speech_s = 0.0  # speech the VAD heard
        self.by_voice = False  # the VAD reports this answer: it alone times the speech
        self.ending = False
        self.ended = False

    @property
    def words(self) -> int:
        """Words heard so far: the finals, plus the interim result still open."""
        return self.final_words + self.interim_words

    def heard(self, now: float, text: str, is_final: bool) -> None:
        """A transcript result with new text arrived at ``now``."""
        count = len(text.split())
        if is_final:
            self.final_words += count
            self.interim_words = 0
        else:
            self.interim_words = count
        if count and not self.by_voice:  # words arrive late (a realtime segment: ~1 s after it was said)
            self.last_speech = now

    def speech_started(self, now: float) -> None:
        """The vendor heard speech begin (before any word is recognised)."""
        self.last_speech = now

    def voiced(self, now: float, seconds: float) -> None:
        """The VAD heard ``seconds`` of speech ending at ``now``; from now on it alone times the speech."""
        self.by_voice = True
        self.last_speech = now
        self.speech_s += seconds

    def enough_said(self) -> bool:
        """Whether the answer may end by itself: enough words, or enough speech heard by the VAD."""
        if self.words >= self.config.min_answer_words:
            return True
        return self.config.min_speech_s > 0 and self.speech_s >= self.config.min_speech_s

    def silence(self, now: float) -> float:
        """Seconds since the last speech (0 before any)."""
        return 0.0 if self.last_speech is None else max(0.0, now - self.last_speech)

    def utterance_end(self, now: float) -> TurnSignal:
        """The vendor says the candidate stopped speaking: end when enough was said."""
        if self.ended or not self.enough_said():
            return TurnSignal.NONE
        return self._end()

    def poll(self, now: float) -> TurnSignal:
        """Check the silence at ``now``; ``END`` is returned once per answer."""
        if self.ended or self.last_speech is None or not self.enough_said():
            return TurnSignal.NONE
        silence = self.silence(now)
        if silence >= self.config.end_silence_s:
            return self._end()
        if silence >= self.config.notice_s and not self.ending:
            self.ending = True
            return TurnSignal.ENDING
        if silence < self.config.notice_s and self.ending:
            self.ending = False
            return TurnSignal.RESUMED
        return TurnSignal.NONE

    def next_check(self, now: float) -> float | None:
        """When the next threshold passes if nobody speaks (None: nothing to wait for)."""
        if self.ended or self.last_speech is None or not self.enough_said():
            return None
        threshold = self.config.end_silence_s if self.ending else self.config.notice_s
        return max(now, self.last_speech + threshold)

    def _end(self) -> TurnSignal:
        self.ended = True
        self.ending = False
        return TurnSignal.END
