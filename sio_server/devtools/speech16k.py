"""English speech as 16 kHz mono PCM16 (``linear16``), made with the server's own espeak-ng (no system package).

For tests and benchmarks of speech recognition: a Klatt voice (``en-us+klatt4``)
is the espeak-ng voice pocketsphinx recognizes best (about 0.6 of the words of
plain sentences, against 0.2-0.5 for the default voices), resampled from
espeak-ng's 22,050 Hz by linear interpolation (as good for recognition here as a
polyphase filter).
"""

from __future__ import annotations

import array

from ..vendors.espeak_tts import Voice, synthesize

RATE = 16000
VOICE = Voice("en-us+klatt4", 150)


def resample(pcm: bytes, rate: int, to: int = RATE) -> bytes:
    """Mono PCM16 at ``rate`` as PCM16 at ``to`` (linear interpolation)."""
    samples = array.array("h", pcm)
    if rate == to or not samples:
        return pcm
    count = len(samples) * to // rate
    step = rate / to
    last = len(samples) - 1
    out = array.array("h", bytes(2 * count))
    for i in range(count):
        x = i * step
        j = int(x)
        a, b = samples[j], samples[min(j + 1, last)]
        out[i] = round(a + (b - a) * (x - j))
    return out.tobytes()


def linear16(text: str, voice: Voice = VOICE) -> bytes:
    """``text`` spoken in English by espeak-ng, as 16 kHz mono PCM16."""
    rate, pcm = synthesize(text, voice)
    return resample(pcm, rate)


def silence(seconds: float) -> bytes:
    """``seconds`` of silence at 16 kHz."""
    return bytes(2 * round(seconds * RATE))


def chunks(pcm: bytes, ms: int = 100) -> list[bytes]:
    """``pcm`` cut into ``ms`` chunks (as the page sends them)."""
    size = 2 * RATE * ms // 1000
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edit distance over the reference's words (case and punctuation ignored)."""
    ref = _words(reference)
    hyp = _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c in " '" else " " for c in text.lower()).split()


def words_recognised(reference: str, hypothesis: str) -> float:
    """The share of the reference's words found in the hypothesis in the same order (longest common subsequence)."""
    ref = _words(reference)
    hyp = _words(hypothesis)
    row = [0] * (len(hyp) + 1)
    for r in ref:
        prev = 0
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], prev + 1 if r == h else max(row[j], row[j - 1])
    return row[-1] / max(1, len(ref))
