"""Vendors behind small interfaces, composed into fallback chains.

:mod:`.registry` names every provider and builds the LLM, TTS and STT chains
(:mod:`.fallback`) from settings. A chain's last link is the offline provider:
the offline interviewer for the LLM, silence for TTS (after espeak-ng, which
speaks with no key: :mod:`.espeak_tts`); no STT provider means voice interviews
run in text mode.
"""

from __future__ import annotations

from .registry import make_llm, make_stt, make_tts

__all__ = ["make_llm", "make_stt", "make_tts"]
