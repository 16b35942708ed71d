"""Vendors behind small interfaces, each with a real and an offline implementation."""

from __future__ import annotations

import logging

from ..settings import Settings
from .llm import LLMProvider

log = logging.getLogger(__name__)


def make_llm(settings: Settings, offline: LLMProvider) -> LLMProvider:
    """The LLM that ``settings`` selects; the offline one when no vendor key is set."""
    if settings.llm_provider == "offline":
        return offline
    log.warning("LLM provider %r has no client in this build; using the offline interviewer", settings.llm_provider)
    return offline
