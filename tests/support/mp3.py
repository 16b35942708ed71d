"""MPEG audio Layer III frames: enough of the header to check that bytes are whole, playable MP3 frames."""

from __future__ import annotations

from dataclasses import dataclass

BITRATES_KBPS = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Frame:
    """One frame: its MPEG version (1, 2 or 25 for 2.5), sample rate, bit rate, bytes and samples."""

    version: int
    sample_rate: int
    kbps: int
    size: int
    samples: int


def frames(data: bytes) -> list[Frame]:
    """Every Layer III frame of ``data``, which must be nothing but whole frames (ValueError otherwise)."""
    out: list[Frame] = []
    at = 0
    while at < len(data):
        if len(data) - at < 4:
            raise ValueError(f"{len(data) - at} stray bytes at {at}")
        b1, b2 = data[at + 1], data[at + 2]
        if data[at] != 0xFF or b1 & 0xE0 != 0xE0:
            raise ValueError(f"no frame sync at byte {at}")
        version = {3: 1, 2: 2, 0: 25}.get((b1 >> 3) & 3)
        if version is None or (b1 >> 1) & 3 != 1:
            raise ValueError(f"not MPEG Layer III at byte {at}")
        kbps = BITRATES_KBPS[1 if version == 1 else 2][b2 >> 4]
        rate_index = (b2 >> 2) & 3
        if kbps == 0 or rate_index == 3:
            raise ValueError(f"bad bit rate or sample rate at byte {at}")
        sample_rate = SAMPLE_RATES[version][rate_index]
        samples = 1152 if version == 1 else 576
        size = (samples // 8) * kbps * 1000 // sample_rate + ((b2 >> 1) & 1)
        if at + size > len(data):
            raise ValueError(f"the frame at {at} is cut ({len(data) - at} of {size} bytes)")
        out.append(Frame(version, sample_rate, kbps, size, samples))
        at += size
    return out


def duration_s(data: bytes) -> float:
    """Seconds of audio in ``data`` (whole frames only)."""
    return sum(f.samples / f.sample_rate for f in frames(data))
