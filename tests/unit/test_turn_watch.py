"""TurnWatcher driven without a socket: recorded hooks, short thresholds, waits on conditions."""

from __future__ import annotations

import asyncio
import time

import pytest

from sio_server.interview.turn_detection import TurnDetectionConfig
from sio_server.interview.turn_watch import OpenQuestion, TurnWatcher, WatchPolicy


class Hooks:
    def __init__(self) -> None:
        self.question: OpenQuestion | None = OpenQuestion(1)
        self.calls: list[tuple] = []
        self.changed = asyncio.Event()

    def open_question(self) -> OpenQuestion | None:
        return self.question

    async def notify(self, event: str, data: dict) -> None:
        self.calls.append((event, data["index"]))
        self.changed.set()

    def words_heard(self) -> None:
        self.calls.append(("words",))

    async def end_answer(self, index: int, reason: str) -> None:
        self.calls.append(("end", index, reason))
        self.question = None  # answered
        self.changed.set()

    async def transcript_stable(self, index: int, transcript: str) -> None:
        self.calls.append(("stable", transcript))
        self.changed.set()

    async def transcript_changed(self, index: int, transcript: str) -> None:
        self.calls.append(("changed", transcript))
        self.changed.set()

    async def closed(self) -> None:
        self.calls.append(("closed",))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    async def until(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))


def watcher(hooks: Hooks, auto: bool = True, stable: float = 0.0) -> TurnWatcher:
    detection = TurnDetectionConfig(end_silence_s=0.4, notice_s=0.15, min_answer_words=3)
    return TurnWatcher(WatchPolicy(auto=auto, detection=detection, preemptive_stable_s=stable), hooks)


async def test_silence_notices_then_ends_once():
    hooks = Hooks()
    w = watcher(hooks)
    w.heard("I built the queue", True)
    await hooks.until(lambda: "end" in hooks.names())
    assert hooks.calls[1:] == [("answer_ending", 1), ("end", 1, "silence")]
    w.wake()
    await asyncio.sleep(0.5)  # nothing more may happen: the answer is closed
    assert hooks.names().count("end") == 1
    await w.close()
    assert hooks.names()[-1] == "closed"


async def test_speech_after_the_notice_resumes_and_the_vendor_end_is_immediate():
    hooks = Hooks()
    w = watcher(hooks)
    w.heard("I built the queue", True)
    await hooks.until(lambda: ("answer_ending", 1) in hooks.calls)
    w.heard("and the retries", False)
    await hooks.until(lambda: ("answer_resumed", 1) in hooks.calls)
    w.vendor_event("utterance_end")
    await hooks.until(lambda: "end" in hooks.names())
    assert hooks.calls[-1] == ("end", 1, "utterance_end")
    await w.close()


async def test_manual_mode_ends_only_at_the_time_limit():
    hooks = Hooks()
    hooks.question = OpenQuestion(1, deadline=time.time() + 0.6)
    w = watcher(hooks, auto=False)
    w.heard("I built the queue and more", True)
    await hooks.until(lambda: "end" in hooks.names())
    assert hooks.calls[-1] == ("end", 1, "time_limit")
    assert "answer_ending" not in hooks.names()
    await w.close()


async def test_a_stable_transcript_is_reported_and_a_change_withdraws_it():
    hooks = Hooks()
    w = TurnWatcher(
        WatchPolicy(auto=True, detection=TurnDetectionConfig(5.0, 1.0, 3), preemptive_stable_s=0.1), hooks
    )
    w.heard("I built the queue", False)
    await hooks.until(lambda: "stable" in hooks.names())
    assert ("stable", "I built the queue") in hooks.calls
    w.heard("I built the queue.", True)  # the interim's words, now final: no change
    await asyncio.sleep(0.05)
    assert "changed" not in hooks.names()
    w.heard("with retries", False)
    await hooks.until(lambda: "changed" in hooks.names())
    await hooks.until(lambda: hooks.names().count("stable") == 2)
    assert hooks.calls[-1] == ("stable", "I built the queue. with retries")
    await w.close()


@pytest.mark.parametrize("words", ["", "too short"])
async def test_too_few_words_never_end(words):
    hooks = Hooks()
    w = watcher(hooks)
    if words:
        w.heard(words, True)
    w.wake()
    await asyncio.sleep(0.6)
    assert "end" not in hooks.names() and "answer_ending" not in hooks.names()
    await w.close()
