"""What the live speech-to-text streams share on their websocket: the open error, the transcript report, the close.

:mod:`.deepgram_stt` and :mod:`.openai_realtime_stt` each speak their own
protocol; these are the pieces where they behave alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from .retry import is_retryable
from .stt import OnTranscript, STTError

log = logging.getLogger(__name__)


def open_failed(vendor: str, exc: BaseException) -> STTError:
    """The :class:`STTError` for a stream that could not open: the HTTP status or the error, and whether it was retryable."""
    status = getattr(exc, "status", None)
    detail = f"HTTP {status}" if status else f"{type(exc).__name__}: {exc}"
    kind = "retryable" if is_retryable(exc) else "fatal"
    return STTError(f"{vendor}: cannot open the stream ({detail}, {kind})")


async def report(vendor: str, on_transcript: OnTranscript, text: str, is_final: bool) -> None:
    """Hand one result to ``on_transcript``; a failing callback is logged with its traceback, not raised."""
    try:
        await on_transcript(text, is_final)
    except Exception:
        log.exception("%s: on_transcript failed", vendor)


async def close_socket(ws: aiohttp.ClientWebSocketResponse | None) -> None:
    """Close ``ws`` (bounded by one second), ignoring a socket already gone."""
    if ws is not None and not ws.closed:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 1.0)
