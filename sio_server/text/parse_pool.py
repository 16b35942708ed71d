"""Résumé parsing in child processes: a few workers the server starts, limits, kills and replaces.

A hostile PDF or DOCX can cost minutes of CPU or gigabytes of memory in the
parsers, so none of it runs in the server process. :class:`ParsePool` keeps
``size`` processes of :mod:`sio_server.text.parse_worker`, each parsing one file
at a time under ``RLIMIT_AS`` and ``RLIMIT_CPU`` (set by the worker on itself),
and a wall clock kept here. A parse that breaches a limit, and a parse whose
caller is cancelled (the HTTP client left, the server is stopping), ends with
a SIGKILL of exactly its worker, and a fresh worker takes its place. A caller
waits at most ``wait`` seconds for a free worker, then gets :class:`PoolBusy`.
The pool is opened and closed by the application (``cleanup_ctx``); closing
kills every worker, parsing or not.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from ..aio.child_process import MAX_HEADER_BYTES, Child, start_child
from .documents import CODES, MAX_CHARS, MAX_PAGES, Document, DocumentError

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 4 * MAX_CHARS + MAX_HEADER_BYTES  # JSON of MAX_CHARS characters, escaped
START_TIMEOUT = 30.0  # seconds a new worker may take to load its parsers


class PoolBusy(Exception):
    """Every worker stayed busy for the whole wait."""


@dataclass(frozen=True)
class ParseLimits:
    """What one parse may use: memory (bytes of address space), CPU and wall-clock seconds, input and output."""

    memory_bytes: int
    cpu_seconds: float
    wall_seconds: float
    max_bytes: int
    max_pages: int = MAX_PAGES
    max_chars: int = MAX_CHARS


class ParsePool:
    """At most ``size`` parse workers, started when files arrive; :meth:`parse` hands a file to a free one."""

    def __init__(self, size: int, limits: ParseLimits, wait: float, log_format: str = "json") -> None:
        self.size = size
        self.limits = limits
        self.wait = wait
        self.log_format = log_format
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Child] = []  # started, waiting for a file
        self._workers: set[Child] = set()  # every process started and not yet seen reaped
        self._closed = False

    async def close(self) -> None:
        """Kill every worker, parsing or idle; no parse starts after this."""
        self._closed = True
        await asyncio.gather(*(w.kill() for w in list(self._workers)))
        self._workers.clear()
        self._idle.clear()

    async def parse(self, data: bytes, filename: str) -> Document:
        """The text of ``data``: :class:`DocumentError` when it cannot be read, :class:`PoolBusy` when no worker frees up.

        Cancelling the call kills the worker parsing the file.
        """
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolBusy from None
        try:
            worker = self._idle.pop() if self._idle else await self._start_one()
            answer = await self._exchange(worker, data, filename)
        finally:
            self._slots.release()
        if answer.get("ok") is not True:
            code = answer.get("code")
            raise DocumentError(code if code in CODES else "invalid_file", str(answer.get("message", ""))[:200])
        return _document(answer, self.limits.max_chars)

    async def _exchange(self, worker: Child, data: bytes, filename: str) -> dict[str, Any]:
        """``worker``'s answer about one file; the worker is killed on any failure, kept when it answered."""
        header = {
            "filename": filename[:255],
            "max_bytes": self.limits.max_bytes,
            "max_pages": self.limits.max_pages,
            "max_chars": self.limits.max_chars,
            "cpu_seconds": self.limits.cpu_seconds,
        }
        try:
            async with asyncio.timeout(self.limits.wall_seconds):
                answer = await worker.exchange(header, data)
        except TimeoutError:
            worker.discard()
            log.warning("a résumé parse passed %s s and was killed", self.limits.wall_seconds)
            raise DocumentError("invalid_file", "the file took too long to read") from None
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):  # the worker died: CPU or memory limit
            worker.discard()
            log.warning("a résumé parse worker ended (exit %s)", await worker.process.wait())
            raise DocumentError("invalid_file", "the file needs too much to read") from None
        except BaseException:  # cancelled (the client left, shutdown): the parse must not go on
            worker.discard()
            raise
        if answer.get("retire"):  # it ran out of memory and exits
            worker.discard()
        elif not self._closed:
            self._idle.append(worker)
        return answer

    async def _start_one(self) -> Child:
        """A new worker that has loaded its parsers."""
        if self._closed:
            raise PoolBusy
        options = {
            "memory_bytes": self.limits.memory_bytes,
            "max_bytes": self.limits.max_bytes,
            "log_format": self.log_format,
        }
        self._workers = {w for w in self._workers if w.process.returncode is None}
        worker = await start_child(
            "sio_server.text.parse_worker", options, answer_limit=MAX_ANSWER_BYTES, timeout=START_TIMEOUT
        )
        if self._closed:  # closed while it loaded
            await worker.kill()
            raise PoolBusy
        self._workers.add(worker)
        return worker


def _document(answer: dict[str, Any], max_chars: int) -> Document:
    """The worker's JSON answer as a :class:`Document` (checked: the worker is not trusted)."""
    text, kind, pages = answer.get("text"), answer.get("kind"), answer.get("pages")
    if not isinstance(text, str) or kind not in ("pdf", "docx") or not (pages is None or isinstance(pages, int)):
        raise DocumentError("invalid_file", "the file could not be read")
    return Document(text=text[:max_chars], kind=kind, pages=pages, truncated=bool(answer.get("truncated")))
