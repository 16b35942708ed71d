"""The Gemini LLM vendor: Google's OpenAI-compatible endpoint, through :class:`~.openai_llm.OpenAICompatLLM`.

Its settings: ``GOOGLE_API_KEY``, ``GEMINI_BASE_URL``, ``GEMINI_MODEL``.
"""

from __future__ import annotations

from pydantic import Field

from ..settings import Settings
from .openai_llm import OpenAICompatLLM, compat_llm
from .plugins import Vendor, VendorSettings, register, vendor_config

__all__ = ["GeminiSettings", "gemini_llm"]


class GeminiSettings(VendorSettings):
    """Gemini's settings; its key keeps Google's name, ``GOOGLE_API_KEY``."""

    model_config = vendor_config("GEMINI_")

    api_key: str | None = Field(default=None, validation_alias="GOOGLE_API_KEY")
    base_url: str = "https://generativelanguage.googleapis.com/v1beta/openai/"
    model: str = "gemini-2.0-flash"


def gemini_llm(settings: Settings, own: GeminiSettings | None = None) -> OpenAICompatLLM:
    """Gemini as ``settings`` describe it (``GOOGLE_API_KEY`` must be set)."""
    return compat_llm("gemini", settings, own or GeminiSettings.from_core(settings))


VENDOR = register(Vendor("gemini", "LLM", GeminiSettings, gemini_llm, rank=20))
