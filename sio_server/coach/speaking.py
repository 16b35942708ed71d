"""How a spoken answer was said: pace, filler words, the longest pause and talk time. Measured, never scored.

Pure functions over the transcript and, when the speech-to-text vendor gives them,
its words with start and end times (seconds). What counts as a filler, the unit of
pace (words in English, syllables in Korean), the usual ranges and the hints are
the language pack's ``speaking`` section (``languages/<code>.json``):

* pace is units a minute of talk time; talk time is first word to last with word
  timings, else the length of the answer's audio;
* ``fillers`` ("um", "음") always count; ``fillers_before_pause`` ("like", "그")
  count only right before a pause (a comma or ellipsis after them, or a gap of
  ``pause_gap_s`` before the next word), where they fill it;
* the longest pause is the longest gap between two words (only with timings);
* a figure outside its usual range gets a plain-language hint; nothing is
  judged under ``min_talk_s`` of talk.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..domain.model import Speaking
from .data import SpeakingPack, language_pack

__all__ = ["TimedWord", "combine", "measure", "units_of"]

TimedWord = tuple[str, float, float]
"""A word as the STT heard it: its text (punctuation kept), start and end in seconds."""

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_ALNUM_RUN = re.compile(r"[^\W_]+")
_PAUSE_MARKS = (",", "…", "...", "-", "—", ";")
_STRIP = ".,!?;:…\"'“”‘’()[]-—"


def units_of(text: str, unit: str) -> int:
    """Words in ``text``, or for ``syllables`` its Hangul syllables plus one per other run of letters or digits."""
    if unit == "words":
        return sum(1 for token in text.split() if _ALNUM_RUN.search(token))
    hangul = len(_HANGUL.findall(text))
    others = sum(1 for run in _ALNUM_RUN.findall(_HANGUL.sub(" ", text)))
    return hangul + others


def _tokens(transcript: str, words: Sequence[TimedWord], pause_gap_s: float) -> list[tuple[str, bool]]:
    """Each word, lower case without punctuation, and whether a pause follows it."""
    if not words:
        return [(t.strip(_STRIP).lower(), t.endswith(_PAUSE_MARKS)) for t in transcript.split()]
    out = []
    for i, (text, _, end) in enumerate(words):
        gap = words[i + 1][1] - end if i + 1 < len(words) else 0.0
        out.append((text.strip(_STRIP).lower(), text.rstrip().endswith(_PAUSE_MARKS) or gap >= pause_gap_s))
    return out


def _fillers(pack: SpeakingPack, transcript: str, words: Sequence[TimedWord]) -> Counter[str]:
    """The fillers heard (phrases of up to three words), by how often."""
    tokens = _tokens(transcript, words, pack.usual.pause_gap_s)
    heard: Counter[str] = Counter()
    i = 0
    while i < len(tokens):
        for size in (3, 2, 1):
            if len(tokens) - i < size:
                continue
            phrase = " ".join(text for text, _ in tokens[i : i + size])
            paused = tokens[i + size - 1][1]
            if phrase in pack.fillers or (phrase in pack.fillers_before_pause and paused):
                heard[phrase] += 1
                i += size
                break
        else:
            i += 1
    return heard


def _per_min(count: float, talk_s: float) -> float:
    return round(count * 60.0 / talk_s, 1) if talk_s > 0 else 0.0


def _examples(heard: dict[str, int]) -> str:
    """The three most frequent fillers with their counts: "um ×3, like ×1"."""
    return ", ".join(f"{word} ×{n}" for word, n in list(heard.items())[:3])


def _hints(speaking: Speaking, pack: SpeakingPack, limited: int) -> list[str]:
    """The hints for ``speaking``'s figures outside the usual range (``limited``: answers that ran to the limit)."""
    usual, say = pack.usual, pack.hints
    if speaking.talk_s < usual.min_talk_s:
        return []
    hints = []
    low, high = usual.rate
    rate = speaking.rate_per_min
    if rate is not None and rate > high:
        hints.append(say.fast.format(rate=round(rate), low=low, high=high))
    elif rate is not None and rate < low:
        hints.append(say.slow.format(rate=round(rate), low=low, high=high))
    if speaking.fillers_per_min is not None and speaking.fillers_per_min > usual.fillers_per_min:
        hints.append(say.fillers.format(per_min=f"{speaking.fillers_per_min:g}", examples=_examples(speaking.fillers_heard)))
    if speaking.longest_pause_s is not None and speaking.longest_pause_s > usual.longest_pause_s:
        hints.append(say.pause.format(pause=speaking.longest_pause_s))
    if limited and speaking.answers == 1 and speaking.time_limit_s:
        hints.append(say.limit.format(talk=round(speaking.talk_s), limit=speaking.time_limit_s))
    elif limited and speaking.answers > 1:
        hints.append(say.limit_some.format(count=limited))
    return hints


def _ran_to_limit(speaking: Speaking, pack: SpeakingPack) -> bool:
    limit = speaking.time_limit_s
    return bool(limit) and speaking.talk_s >= pack.usual.limit_share * limit  # type: ignore[operator]


def _figures(pack: SpeakingPack, talk_s: float, units: int, heard: Counter[str], **rest: object) -> Speaking:
    """The measures from talk time, units and fillers heard (rates only from ``min_talk_s`` of talk); ``rest``:
    the other fields."""
    judged = talk_s >= max(1.0, pack.usual.min_talk_s)
    fillers = sum(heard.values())
    return Speaking(
        talk_s=round(talk_s, 1),
        units=units,
        unit=pack.unit,
        rate_per_min=_per_min(units, talk_s) if judged else None,
        fillers=fillers,
        fillers_per_min=_per_min(fillers, talk_s) if judged else None,
        fillers_heard=dict(heard.most_common()),
        **rest,  # type: ignore[arg-type]
    )


def measure(
    transcript: str,
    words: Sequence[TimedWord],
    audio_s: float,
    language: str,
    time_limit_s: int | None = None,
) -> Speaking:
    """How the answer ``transcript`` was said.

    ``words`` are the STT's timed words (empty when it gives none: then talk time is ``audio_s``, the
    length of the answer's audio, and the longest pause is unknown); ``time_limit_s`` is the answer's limit.
    """
    pack = language_pack(language).speaking
    timed = len(words) > 0
    talk_s = max(0.0, words[-1][2] - words[0][1]) if timed else max(0.0, audio_s)
    pauses = [words[i + 1][1] - words[i][2] for i in range(len(words) - 1)]
    speaking = _figures(
        pack, talk_s, units_of(transcript, pack.unit), _fillers(pack, transcript, words),
        longest_pause_s=round(max(pauses, default=0.0), 1) if timed else None, timed=timed, time_limit_s=time_limit_s,
    )  # fmt: skip
    limited = int(_ran_to_limit(speaking, pack))
    return speaking.model_copy(update={"hints": _hints(speaking, pack, limited)})


def combine(answers: Sequence[Speaking], language: str) -> Speaking | None:
    """All spoken answers together (pace and fillers over the total talk time, the longest pause of any);
    None when no answer was spoken, the answer itself when one was."""
    if len(answers) <= 1:
        return answers[0] if answers else None
    pack = language_pack(language).speaking
    heard: Counter[str] = Counter()
    for a in answers:
        heard.update(a.fillers_heard)
    pauses = [a.longest_pause_s for a in answers if a.longest_pause_s is not None]
    limits = {a.time_limit_s for a in answers}
    speaking = _figures(
        pack, sum(a.talk_s for a in answers), sum(a.units for a in answers), heard,
        answers=len(answers), longest_pause_s=max(pauses) if pauses else None, timed=any(a.timed for a in answers),
        time_limit_s=limits.pop() if len(limits) == 1 else None,
    )  # fmt: skip
    limited = sum(_ran_to_limit(a, pack) for a in answers)
    return speaking.model_copy(update={"hints": _hints(speaking, pack, limited)})
