"""A server process's environment with every vendor pointed at its fake."""

from __future__ import annotations

from .fake_deepgram import FakeDeepgram
from .fake_elevenlabs import FakeElevenLabs
from .fake_openai import FakeOpenAI


def vendor_env(fake_openai: FakeOpenAI, fake_elevenlabs: FakeElevenLabs, fake_deepgram: FakeDeepgram) -> dict[str, str]:
    """OpenAI, ElevenLabs and Deepgram keys and base URLs of the three fakes."""
    return {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.url,
        "ELEVENLABS_API_KEY": fake_elevenlabs.api_key,
        "ELEVENLABS_BASE_URL": fake_elevenlabs.url,
        "DEEPGRAM_API_KEY": fake_deepgram.api_key,
        "DEEPGRAM_BASE_URL": fake_deepgram.url,
    }
