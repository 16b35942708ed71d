"""Vendors behind small interfaces, composed into fallback chains.

**One vendor, one module**: ``<vendor>_<kind>.py`` (``elevenlabs_tts.py``,
``deepgram_stt.py``, ``gemini_llm.py``…) holds the provider class with its
``capabilities`` record, its settings class (``VendorSettings`` with its own
``env_prefix``; the key in ``api_key``), a ``build(settings, own)`` function and
``VENDOR = register(Vendor(name, kind, SettingsClass, build, rank=...))``. The
pattern is in :mod:`.plugins`; :mod:`.elevenlabs_tts` is a short example. The
module is found by its name; nothing else changes: the chains
(``*_PROVIDERS``), offline detection (and so the default CORS policy),
``GET /api/v1/capabilities`` and the benchmarks' scrubbed environment all read
the registry. Add a fake in ``devtools/fakes/`` and tests in ``tests/vendors/``.

:mod:`.chains` builds the LLM, TTS and STT chains (:mod:`.fallback`) from
settings. A chain's last link is local: the offline interviewer for the LLM,
espeak-ng then silence for TTS; no STT provider means voice interviews run in
text mode.
"""

from __future__ import annotations

from .chains import make_llm, make_stt, make_tts

__all__ = ["make_llm", "make_stt", "make_tts"]
