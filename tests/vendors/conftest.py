"""Fixtures of the vendor tests: the fake vendor servers."""

from tests.fakes.fixtures import fake_deepgram, fake_elevenlabs, fake_gemini, fake_openai, refused_url  # noqa: F401
