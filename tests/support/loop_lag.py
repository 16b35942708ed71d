"""The event loop's lag, measured from inside: how late a short sleep wakes up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def loop_lags(interval: float) -> AsyncIterator[list[float]]:
    """Sleep ``interval`` over and over while the block runs; the list gets how late each wake-up was (seconds)."""
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append(time.perf_counter() - started - interval)

    watcher = asyncio.create_task(probe())
    try:
        yield lags
    finally:
        done.set()
        await watcher
