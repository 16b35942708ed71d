"""16 kHz → 24 kHz mono PCM16 resampling, one stream at a time (the page's audio for OpenAI's realtime socket).

``audioop.ratecv`` where the standard library still has it (Python 3.11-3.12,
deprecated there); else a pure-Python linear 2:3 interpolation, ~30x the CPU:
0.8 % of a core per stream against 0.03 %.
"""

from __future__ import annotations

import array
import warnings
from typing import Any

with warnings.catch_warnings():  # audioop: deprecated since 3.11, removed in 3.13 (the pure-Python path then)
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - Python 3.13+
        audioop = None

__all__ = ["IN_RATE", "OUT_RATE", "Resampler", "audioop"]

IN_RATE, OUT_RATE = 16000, 24000


class Resampler:
    """16 kHz → 24 kHz mono PCM16, one stream (state kept between chunks); ``pure`` forces the Python path."""

    def __init__(self, pure: bool = False) -> None:
        self.pure = pure or audioop is None
        self._state: Any = None
        self._odd = b""  # a byte short of a sample
        self._pending = array.array("h")  # the Python path's samples still needing a neighbour

    def convert(self, chunk: bytes) -> bytes:
        """The 24 kHz samples of ``chunk`` (an odd byte waits for the next chunk)."""
        data = self._odd + chunk
        whole = len(data) - len(data) % 2
        data, self._odd = data[:whole], data[whole:]
        if not data:
            return b""
        if not self.pure:
            out, self._state = audioop.ratecv(data, 2, 1, IN_RATE, OUT_RATE, self._state)
            return bytes(out)
        samples = self._pending + array.array("h", data)
        out = array.array("h")
        i, last = 0, len(samples) - 2
        while i < last:  # 3 outputs per 2 inputs, at input positions 0, 2/3 and 4/3
            a, b, c = samples[i], samples[i + 1], samples[i + 2]
            out.extend((a, (a + 2 * b) // 3, (2 * b + c) // 3))
            i += 2
        self._pending = samples[i:]
        return out.tobytes()
