"""Issue 13 row 7: buffered inbound audio is bounded for the whole process, and returned when drained or dropped."""

from __future__ import annotations

from sio_server.interview.audio_budget import AudioBudget
from sio_server.interview.audio_queue import AudioQueue


async def test_queues_share_one_budget_and_give_it_back():
    budget = AudioBudget(10_000)
    a, b = AudioQueue(100, budget=budget), AudioQueue(100, budget=budget)
    assert a.put(b"\0" * 6000) and not b.put(b"\0" * 6000), "the second socket's chunk would pass the budget"
    assert b.dropped == 1 and budget.used == 6000
    assert len(await a.get()) == 6000 and budget.used == 0, "read chunks leave the budget"
    a.task_done()
    assert b.put(b"\0" * 4000) and b.put(b"\0" * 4000) and budget.used == 8000
    b.discard()
    assert budget.used == 0 and len(b) == 0, "a session leaving memory gives its queued audio back"


async def test_a_full_queue_takes_nothing_from_the_budget():
    budget = AudioBudget(1_000_000)
    queue = AudioQueue(2, budget=budget)
    assert [queue.put(b"\0" * 100) for _ in range(4)] == [True, True, False, False]
    assert budget.used == 200
