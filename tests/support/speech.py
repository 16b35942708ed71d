"""Real speech for tests: espeak-ng's voice as 16 kHz mono PCM16 (``linear16``), the audio the page sends.

A fake vendor cannot recognise it (the fakes are told what it says); the server's VAD hears it as speech.
"""

from __future__ import annotations

import functools
import io
import subprocess
import wave

from sio_server.vendors.resample import audioop

RATE = 16000
BYTES_PER_SECOND = RATE * 2


@functools.cache
def speech(text: str, voice: str = "en") -> bytes:
    """``text`` spoken by espeak-ng (the CLI), resampled to 16 kHz mono PCM16."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    return audioop.ratecv(pcm, 2, 1, rate, RATE, None)[0]


def silence(seconds: float) -> bytes:
    """Digital silence (a quiet room is not quieter)."""
    return b"\0\0" * int(RATE * seconds)


def chunks(pcm: bytes, ms: int = 100) -> list[bytes]:
    """``pcm`` in the page's 100 ms chunks."""
    size = BYTES_PER_SECOND * ms // 1000
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]
