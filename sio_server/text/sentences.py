"""Split a stream of LLM tokens into sentences as soon as each one ends.

Pure text logic with no I/O, so the first sentence of a question can go to TTS
while the LLM is still writing the rest (the Pipecat pattern).

A sentence ends at ``.``, ``!``, ``?`` or ``…`` (and the full-width ``。！？``),
together with any run of further terminators and closing quotes or brackets,
when whitespace follows. Full-width terminators, and a ``.`` right after a
Hangul syllable (``했습니다.다음``), also end a sentence without whitespace.
A ``.`` does not end a sentence when:

* it sits inside a number (``3.5``: no whitespace follows);
* the word before it is an abbreviation that never ends a sentence
  (``Mr.``, ``Dr.``, ``e.g.``, ``i.e.``, ``vs.`` …) or a single capital letter
  (the initial in ``J. Smith``);
* the next word starts with a lowercase Latin letter (``etc. and``,
  ``Well... maybe``).

Because of the last rule a ``.`` is only confirmed once the next visible
character has arrived (or at :meth:`SentenceSplitter.flush`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["SentenceSplitter", "split_sentences"]

TERMINATORS = frozenset(".!?…。！？")
FULL_WIDTH = frozenset("。！？")
CLOSERS = frozenset("\"'”’»)]}」』〉》")
_NEXT_TERMINATOR = re.compile("[" + re.escape("".join(sorted(TERMINATORS))) + "]")  # skips the words in C
OPENERS = "\"'“‘«([{「『〈《"

# Words that a "." follows without ending a sentence, compared lowercased and
# without their final dot.
NEVER_END = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "cf",
        "approx",
        "no",
        "nos",
        "fig",
        "vol",
        "dept",
        "e.g",
        "i.e",
        "eg",
        "ie",
        "viz",
        "ca",
        "gen",
        "gov",
        "rev",
        "hon",
        "capt",
        "lt",
        "col",
    }
)


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def _word_before(text: str, i: int) -> str:
    """The whitespace-delimited word ending just before index ``i``, lowercased, openers stripped."""
    start = i
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:i].lstrip(OPENERS).lower()


class SentenceSplitter:
    """Buffer tokens and hand back every sentence that is complete.

    ``push(token)`` returns the sentences completed by that token (often none);
    ``flush()`` returns the sentences left at the end of the stream. Sentences are
    returned stripped of surrounding whitespace and never empty.
    """

    def __init__(self) -> None:
        self._buf = ""

    def push(self, token: str) -> list[str]:
        """Add ``token`` and return the sentences it completed, in order."""
        self._buf += token
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """End of stream: return the remaining sentences, the last one possibly without punctuation."""
        out = self._drain(final=True)
        rest = self._buf.strip()
        self._buf = ""
        if rest:
            out.append(rest)
        return out

    def _drain(self, *, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            end = _first_boundary(self._buf, final)
            if end is None:
                return out
            sentence, self._buf = self._buf[:end].strip(), self._buf[end:]
            if sentence:
                out.append(sentence)


def _first_boundary(text: str, final: bool) -> int | None:
    """Index just past the first complete sentence in ``text``, or None if none is complete yet."""
    n = len(text)
    i = 0
    while i < n:
        found = _NEXT_TERMINATOR.search(text, i)
        if found is None:
            return None
        i = found.start()
        j = i
        while j < n and text[j] in TERMINATORS:
            j += 1
        while j < n and text[j] in CLOSERS:
            j += 1
        run = text[i:j]
        if j == n:
            # Nothing after the punctuation yet: more terminators or a quote may follow.
            return n if final and _dot_may_end(text, i, run, None) else None
        nxt = text[j]
        if nxt.isspace():
            k = j
            while k < n and text[k].isspace():
                k += 1
            if k == n and not final and not _only_strong(run):
                return None  # a "." waits for the next word to rule out "etc. and"
            following = text[k] if k < n else None
            if _only_strong(run) or _dot_may_end(text, i, run, following):
                return j
        elif (
            any(ch in FULL_WIDTH for ch in run)
            or run[0] == "."
            and i > 0
            and _is_hangul(text[i - 1])
            and not nxt.isdigit()
        ):
            return j
        i = j
    return None


def _only_strong(run: str) -> bool:
    """True when the run ends a sentence whatever follows (it has ``!``/``?``/full-width marks)."""
    return any(ch in "!?。！？" for ch in run)


def _dot_may_end(text: str, i: int, run: str, following: str | None) -> bool:
    """Whether a run of ``.``/``…`` at ``i`` ends a sentence, given the next visible character."""
    if _only_strong(run):
        return True
    word = _word_before(text, i)
    if word.rstrip(".") in NEVER_END:
        return False
    if len(word) == 1 and word.isalpha() and text[i - 1].isupper():
        return False  # an initial, "J. Smith"
    # "etc. and", "Well... maybe": a lowercase word continues the sentence
    return not (following is not None and following.isascii() and following.islower())


async def split_sentences(tokens: AsyncIterable[str]) -> AsyncIterator[str]:
    """Yield the sentences of an async token stream as soon as each one is complete."""
    splitter = SentenceSplitter()
    async for token in tokens:
        for sentence in splitter.push(token):
            yield sentence
    for sentence in splitter.flush():
        yield sentence
