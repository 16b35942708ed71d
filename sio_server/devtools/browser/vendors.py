"""The fake vendors (OpenAI, ElevenLabs, Deepgram) for the sync Playwright tests.

Playwright's sync API owns the test's thread, so the fakes (aiohttp servers)
run on their own event loop in a daemon thread. Set a fake's knobs before the
server process uses it; read its records (lists only appended to) from the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar

from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram
from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs, silent_mp3_for
from sio_server.devtools.fakes.fake_openai import FakeOpenAI

T = TypeVar("T")


class Vendors:
    """Started fakes on a background loop: ``with Vendors() as v: v.env`` for the server process."""

    def __init__(self) -> None:
        self.openai = FakeOpenAI()
        self.elevenlabs = FakeElevenLabs()
        self.elevenlabs.audio_factory = silent_mp3_for  # decodable, so the page really plays it
        self.deepgram = FakeDeepgram()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-vendors", daemon=True)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the fakes' loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def fakes(self) -> tuple[FakeOpenAI, FakeElevenLabs, FakeDeepgram]:
        return (self.openai, self.elevenlabs, self.deepgram)

    @property
    def env(self) -> dict[str, str]:
        """The server's environment for these fakes."""
        return {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": self.openai.url,
            "ELEVENLABS_API_KEY": self.elevenlabs.api_key,
            "ELEVENLABS_BASE_URL": self.elevenlabs.url,
            "DEEPGRAM_API_KEY": self.deepgram.api_key,
            "DEEPGRAM_BASE_URL": self.deepgram.url,
        }

    def __enter__(self) -> Self:
        self._thread.start()
        try:
            for fake in self.fakes:
                self.run(fake.start())
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for fake in self.fakes:
            with contextlib.suppress(Exception):  # best effort on teardown
                self.run(fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()
