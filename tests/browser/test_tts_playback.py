"""Streamed question audio: binary ``tts_chunk``s (audio/mpeg) fed through the adapter's event path
play through MediaSource, and through the per-question Blob fallback (``?tts=blob``)."""

from __future__ import annotations

import pytest

from sio_server.devtools.browser.helpers import hook, open_page, wait_hook

FRAME = bytes([0xFF, 0xFB, 0x90, 0xC0]) + bytes(413)  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, silent


def feed(page, chunks: int, frames_per_chunk: int = 10) -> None:
    """Deliver ``chunks`` binary tts_chunk events and the tts_end for question 1, as the server would."""
    page.evaluate(
        """([hex, chunks, per]) => {
        const frame = Uint8Array.from(hex.match(/../g).map(h => parseInt(h, 16)));
        const client = window.__interview.client;
        for (let i = 0; i < chunks; i++) {
            const buf = new Uint8Array(frame.length * per);
            for (let f = 0; f < per; f++) buf.set(frame, f * frame.length);
            client._fire('tts_chunk', { index: 1, chunk: i, mime: 'audio/mpeg', audio: buf.buffer });
        }
        client._fire('tts_end', { index: 1, chunks, ok: true });
    }""",
        [FRAME.hex(), chunks, frames_per_chunk],
    )


@pytest.mark.parametrize("path,mode", [("/", "mse"), ("/?tts=blob", "blob")])
def test_streamed_tts_chunks_are_played(server, page, path, mode):
    open_page(page, server.url + path)
    assert hook(page, "s.ttsMode") == mode
    feed(page, 4)
    wait_hook(page, "s.ttsChunksReceived === 4 && s.ttsEnded === 1 && s.ttsChunksPlayed === 4")
    # The audio element really plays the appended stream.
    page.wait_for_function("() => document.getElementById('tts-audio').currentTime > 0.2", timeout=10_000)
