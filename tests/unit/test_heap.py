"""The heap trimmer (sio_server/heap.py): glibc's malloc_trim gives free pages back, on a timer, off the loop."""

from __future__ import annotations

import asyncio
import threading

from sio_server.heap import HeapTrimmer, libc_malloc_trim


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_malloc_trim_returns_the_free_pages_inside_the_heap():
    trim = libc_malloc_trim()
    assert trim is not None  # glibc (the Linux images this runs on)
    trim()
    blocks = [bytearray(1000) for _ in range(60_000)]  # 60 MB from malloc (over pymalloc's 512 bytes)
    kept = blocks[::16]  # one block in 16 lives on: the free pages lie between them, not at the top
    del blocks
    before = rss_kib()
    trim()
    after = rss_kib()
    assert before - after > 30_000, (before, after)  # most of the 56 MB freed is no longer resident
    assert len(kept) == 3750


async def test_the_trimmer_trims_on_its_interval_off_the_loop_and_stops():
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def trim() -> int:
        threads.append(threading.get_ident())
        return 1

    durations: list[float] = []
    trimmer = HeapTrimmer(0.01, trim, durations.append)
    trimmer.start()
    while trimmer.trims < 3:
        await asyncio.sleep(0.01)
    await trimmer.stop()
    stopped_at = trimmer.trims
    await asyncio.sleep(0.05)
    assert trimmer.trims == stopped_at and len(threads) == stopped_at
    assert loop_thread not in threads
    assert len(durations) == stopped_at and all(0 <= d < 1 for d in durations)


async def test_a_disabled_trimmer_runs_nothing():
    for trimmer in (HeapTrimmer(0, lambda: 1), HeapTrimmer(10, None)):
        trimmer.start()
        assert trimmer._task is None
        await trimmer.stop()
