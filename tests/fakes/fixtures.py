"""Pytest fixtures starting the fake vendors; import them into a ``conftest.py``::

    from tests.fakes.fixtures import fake_deepgram, fake_elevenlabs, fake_openai, refused_url  # noqa: F401

Each fixture yields a started fake (see its module for the knobs) and stops it
after the test. ``fake.url`` is the base URL the real client expects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sio_server.devtools.fakes.fake_server import free_port
from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram
from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs
from sio_server.devtools.fakes.fake_openai import FakeOpenAI

__all__ = ["fake_deepgram", "fake_elevenlabs", "fake_gemini", "fake_openai", "refused_url"]


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI server; base URL ``fake_openai.url`` (``…/v1``), Gemini path ``fake_openai.gemini_url``."""
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def fake_gemini() -> AsyncIterator[FakeOpenAI]:
    """A second, independent fake Chat Completions server, to be used through ``.gemini_url``."""
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def fake_elevenlabs() -> AsyncIterator[FakeElevenLabs]:
    """A fake ElevenLabs server; key ``fake_elevenlabs.api_key``, base URL ``fake_elevenlabs.url``."""
    async with FakeElevenLabs() as fake:
        yield fake


@pytest.fixture
async def fake_deepgram() -> AsyncIterator[FakeDeepgram]:
    """A fake Deepgram server; key ``fake_deepgram.api_key``, base URL ``fake_deepgram.url`` (``ws://…``)."""
    async with FakeDeepgram() as fake:
        yield fake


@pytest.fixture
def refused_url() -> str:
    """``http://127.0.0.1:PORT`` where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"
