"""PacketQueue: asyncio.Queue's behaviour for what python-engineio calls, plus its byte count."""

from __future__ import annotations

import asyncio

import pytest
from engineio import packet

from sio_server.transport.packet_queue import PacketQueue, packet_size


def text(data: str) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, data)


async def test_fifo_with_bytes_counted_and_empty_raises_queue_empty():
    q = PacketQueue()
    q.put_nowait(text("abc"))
    await q.put(packet.Packet(packet.MESSAGE, b"\x00" * 10))
    q.put_nowait(packet.Packet(packet.PING))
    assert q.qsize() == 3 and not q.empty()
    assert q.bytes == 3 + 10 + packet_size(packet.Packet(packet.PING))
    assert q.get_nowait().data == "abc"
    assert (await q.get()).data == b"\x00" * 10
    q.get_nowait()
    assert q.empty() and q.bytes == 0
    with pytest.raises(asyncio.QueueEmpty):
        q.get_nowait()
    q.put_nowait(None)  # engine.io's "stop the writer" marker counts nothing
    assert q.bytes == 0 and q.get_nowait() is None


async def test_get_waits_for_a_put_and_getters_are_served_in_order():
    q = PacketQueue()
    first, second = asyncio.create_task(q.get()), asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not first.done() and not second.done()
    q.put_nowait(text("1"))
    q.put_nowait(text("2"))
    assert (await first).data == "1" and (await second).data == "2"


async def test_a_timed_out_get_leaves_no_waiter_and_loses_no_item():
    q = PacketQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(q.get(), 0.01)
    assert q._getters == []
    q.put_nowait(text("kept"))
    assert (await asyncio.wait_for(q.get(), 1)).data == "kept"


async def test_a_getter_woken_then_cancelled_passes_the_item_to_the_next():
    q = PacketQueue()
    doomed, other = asyncio.create_task(q.get()), asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.put_nowait(text("x"))  # wakes ``doomed``, which is cancelled before it runs
    doomed.cancel()
    assert (await asyncio.wait_for(other, 1)).data == "x"
    assert doomed.cancelled()


async def test_join_waits_for_task_done_of_every_item():
    q = PacketQueue()
    await asyncio.wait_for(q.join(), 1)  # nothing put: returns at once
    q.put_nowait(text("a"))
    q.put_nowait(text("b"))
    joined = asyncio.create_task(q.join())
    q.get_nowait()
    q.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    q.get_nowait()
    q.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        q.task_done()
