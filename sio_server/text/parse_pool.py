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
import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from .documents import CODES, MAX_CHARS, MAX_PAGES, Document, DocumentError
from .parse_worker import LENGTH, MAX_HEADER_BYTES

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


class _Worker:
    """One child process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        (size,) = LENGTH.unpack(await self.process.stdout.readexactly(LENGTH.size))
        if size > MAX_ANSWER_BYTES:
            raise ValueError(f"a parse worker answered {size} bytes")
        answer = json.loads(await self.process.stdout.readexactly(size))
        if not isinstance(answer, dict):
            raise ValueError("a parse worker answered something other than an object")
        return answer

    async def exchange(self, header: dict[str, Any], data: bytes) -> dict[str, Any]:
        assert self.process.stdin is not None
        body = json.dumps(header).encode()
        self.process.stdin.write(LENGTH.pack(len(body)) + body + LENGTH.pack(len(data)) + data)
        await self.process.stdin.drain()
        return await self.receive()

    async def kill(self) -> None:
        """SIGKILL the process (whatever it is doing) and reap it."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


class ParsePool:
    """At most ``size`` parse workers, started when files arrive; :meth:`parse` hands a file to a free one."""

    def __init__(self, size: int, limits: ParseLimits, wait: float, log_format: str = "json") -> None:
        self.size = size
        self.limits = limits
        self.wait = wait
        self.log_format = log_format
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Worker] = []  # started, waiting for a file
        self._workers: set[_Worker] = set()  # every process started and not yet seen reaped
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

    async def _exchange(self, worker: _Worker, data: bytes, filename: str) -> dict[str, Any]:
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
            self._discard(worker)
            log.warning("a résumé parse passed %s s and was killed", self.limits.wall_seconds)
            raise DocumentError("invalid_file", "the file took too long to read") from None
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):  # the worker died: CPU or memory limit
            self._discard(worker)
            log.warning("a résumé parse worker ended (exit %s)", await worker.process.wait())
            raise DocumentError("invalid_file", "the file needs too much to read") from None
        except BaseException:  # cancelled (the client left, shutdown): the parse must not go on
            self._discard(worker)
            raise
        if answer.get("retire"):  # it ran out of memory and exits
            self._discard(worker)
        elif not self._closed:
            self._idle.append(worker)
        return answer

    def _discard(self, worker: _Worker) -> None:
        """SIGKILL ``worker`` now (asyncio reaps it; :meth:`close` waits for it if it has not been yet)."""
        with contextlib.suppress(ProcessLookupError):
            worker.process.kill()

    async def _start_one(self) -> _Worker:
        """A new worker that has loaded its parsers."""
        if self._closed:
            raise PoolBusy
        options = {
            "memory_bytes": self.limits.memory_bytes,
            "max_bytes": self.limits.max_bytes,
            "log_format": self.log_format,
            "parent": os.getpid(),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sio_server.text.parse_worker", json.dumps(options),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=None,
        )
        worker = _Worker(process)
        self._workers = {w for w in self._workers if w.process.returncode is None}
        self._workers.add(worker)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                ready = await worker.receive()
            if ready.get("ready") is not True:
                raise ValueError(f"a parse worker said {ready!r} instead of ready")
        except BaseException:
            self._discard(worker)
            raise
        return worker


def _document(answer: dict[str, Any], max_chars: int) -> Document:
    """The worker's JSON answer as a :class:`Document` (checked: the worker is not trusted)."""
    text, kind, pages = answer.get("text"), answer.get("kind"), answer.get("pages")
    if not isinstance(text, str) or kind not in ("pdf", "docx") or not (pages is None or isinstance(pages, int)):
        raise DocumentError("invalid_file", "the file could not be read")
    return Document(text=text[:max_chars], kind=kind, pages=pages, truncated=bool(answer.get("truncated")))
