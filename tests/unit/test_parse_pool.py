"""The résumé parse pool (sio_server.text.parse_pool) with real child processes: limits kill exactly the worker."""

from __future__ import annotations

import asyncio
import os

import pytest

from sio_server.devtools.cv_files import CV_LINES, text_pdf, xobject_pdf
from sio_server.text.documents import DocumentError
from sio_server.text.parse_pool import ParseLimits, ParsePool, PoolBusy
from tests.support.proctree import alive, children
from tests.support.waiting import wait_until


def slow_pdf() -> bytes:
    """A PDF whose parse takes about 5 s of CPU on this 2-core VM (5,000 form draws a page; 1,000 took 1.3 s, too
    close to the limits below on a faster machine: it could finish inside a 1 s CPU or a 1.5 s wall-clock limit)."""
    return xobject_pdf(pages=50, draws=5_000)


def pool(**limits: float) -> ParsePool:
    values = {"memory_bytes": 256 << 20, "cpu_seconds": 30.0, "wall_seconds": 30.0, "max_bytes": 2_000_000, **limits}
    return ParsePool(1, ParseLimits(**values), wait=0.5, log_format="text")


async def refusal(parsing: ParsePool, data: bytes) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        await parsing.parse(data, "cv.pdf")
    return caught.value


async def test_a_cpu_bomb_ends_at_its_cpu_limit_and_the_next_file_gets_a_fresh_worker():
    parsing = pool(cpu_seconds=1.0)
    try:
        assert (await parsing.parse(text_pdf(), "cv.pdf")).text == "\n".join(CV_LINES)
        first = children(os.getpid())
        error = await refusal(parsing, slow_pdf())
        assert error.code == "invalid_file" and "too much" in error.message  # killed by SIGXCPU, not the wall clock
        await wait_until(lambda: not any(alive(pid) for pid in first), what="the worker killed by SIGXCPU")
        assert (await parsing.parse(text_pdf(), "cv.pdf")).kind == "pdf"
    finally:
        await parsing.close()


async def test_the_wall_clock_kills_a_slow_parse():
    parsing = pool(wall_seconds=1.5)
    try:
        error = await refusal(parsing, slow_pdf())
        assert error.code == "invalid_file" and "too long" in error.message
    finally:
        await parsing.close()


async def test_cancelling_a_parse_kills_its_worker_and_the_slot_is_free_again():
    parsing = pool()
    try:
        task = asyncio.create_task(parsing.parse(slow_pdf(), "cv.pdf"))
        await wait_until(lambda: children(os.getpid()), what="a worker")
        workers = children(os.getpid())
        with pytest.raises(PoolBusy):  # the one slot is taken for longer than the wait
            await parsing.parse(text_pdf(), "cv.pdf")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await wait_until(lambda: not any(alive(pid) for pid in workers), timeout=2, what="the worker killed")
        assert (await parsing.parse(text_pdf(), "cv.pdf")).kind == "pdf"
    finally:
        await parsing.close()
    assert not any(alive(pid) for pid in children(os.getpid()))
