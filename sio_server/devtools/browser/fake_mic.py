"""The fake microphone's input: 16-bit mono WAV files made of espeak-ng speech, silence and noise bursts.

Chromium plays the file given by ``--use-file-for-fake-audio-capture`` from its
start when a page opens the microphone, in real time, and loops it; so a
position in the file is a time after ``getUserMedia``.
"""

from __future__ import annotations

import array
import math
import random
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

RATE = 22050  # espeak-ng's output rate: every part of a file is at this rate


def chromium_args(wav: Path) -> list[str]:
    """Chromium flags for an auto-granted fake microphone that plays ``wav``."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    ]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speech(text: str, words_per_minute: int = 170) -> bytes:
    """``text`` spoken by espeak-ng (en-us), as PCM samples at :data:`RATE`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", str(words_per_minute), "-w", str(path), text], check=True, timeout=30
        )
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (RATE, 2, 1), w.getparams()
            return w.readframes(w.getnframes())


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))


def burst(seconds: float, peak: float = 0.8, seed: int = 1) -> bytes:
    """A cough-like noise: white noise at ``peak`` falling off quickly (-20 dB over ``seconds``)."""
    rnd = random.Random(seed)
    n = round(seconds * RATE)
    fall = math.log(10) / n
    samples = array.array("h", (round(32767 * peak * math.exp(-fall * i) * rnd.uniform(-1, 1)) for i in range(n)))
    return samples.tobytes()


def seconds_of(pcm: bytes) -> float:
    return len(pcm) / 2 / RATE


def write(path: Path, *parts: bytes) -> Path:
    """Write ``parts`` one after the other as one WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(parts))
    return path
