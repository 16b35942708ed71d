"""Worker child processes spoken to with length-prefixed messages: both ends of the pipe.

The server runs work that must not share its process (a parser a hostile file
can blow up, a decoder that holds the GIL) in ``python -m <module> '<json
options>'`` children. Every message on their stdin and stdout is a 4-byte
big-endian length and a body; a request is a JSON header followed by one data
message (bytes, maybe empty), an answer one JSON object (never pickle: the
server trusts nothing a child says beyond a JSON object). A child answers
``{"ready": true}`` once it has loaded what it needs.

Parent side: :func:`start_child` and :class:`Child`. Child side:
:func:`child_pipes` (dies with the server by ``PR_SET_PDEATHSIG``, keeps a
library's ``print()`` out of the answers), :func:`read_message`,
:func:`write_message`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import struct
import sys
from typing import IO, Any

__all__ = [
    "LENGTH",
    "MAX_HEADER_BYTES",
    "Child",
    "child_pipes",
    "read_message",
    "start_child",
    "write_message",
]

LENGTH = struct.Struct(">I")
MAX_HEADER_BYTES = 65_536
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

log = logging.getLogger(__name__)


# -- the parent's side ---------------------------------------------------------------------------


class Child:
    """One child process and its pipes; ``answer_limit`` bounds what it may answer (bytes of JSON)."""

    def __init__(self, process: asyncio.subprocess.Process, answer_limit: int) -> None:
        self.process = process
        self.answer_limit = answer_limit

    async def receive(self) -> dict[str, Any]:
        """The child's next answer (:class:`asyncio.IncompleteReadError` when it died, ValueError when it lied)."""
        assert self.process.stdout is not None
        (size,) = LENGTH.unpack(await self.process.stdout.readexactly(LENGTH.size))
        if size > self.answer_limit:
            raise ValueError(f"a worker process answered {size} bytes")
        answer = json.loads(await self.process.stdout.readexactly(size))
        if not isinstance(answer, dict):
            raise ValueError("a worker process answered something other than an object")
        return answer

    async def send(self, header: dict[str, Any], data: bytes = b"") -> None:
        """One request: ``header`` and ``data`` (ConnectionError when the child is gone)."""
        assert self.process.stdin is not None
        body = json.dumps(header).encode()
        self.process.stdin.write(LENGTH.pack(len(body)) + body + LENGTH.pack(len(data)) + data)
        await self.process.stdin.drain()

    async def exchange(self, header: dict[str, Any], data: bytes) -> dict[str, Any]:
        """One request and its answer."""
        await self.send(header, data)
        return await self.receive()

    def discard(self) -> None:
        """SIGKILL the process now, whatever it is doing (asyncio reaps it; :meth:`kill` also waits)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    async def kill(self) -> None:
        """SIGKILL the process and reap it."""
        self.discard()
        await self.process.wait()


async def start_child(module: str, options: dict[str, Any], *, answer_limit: int, timeout: float) -> Child:
    """Start ``python -m module '<options>'`` and wait (at most ``timeout`` s) for its ``ready``; killed on failure.

    ``options`` gets the server's pid (``parent``): a child whose parent is already gone exits at once.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, json.dumps({**options, "parent": os.getpid()}),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=None,
    )
    child = Child(process, answer_limit)
    try:
        async with asyncio.timeout(timeout):
            ready = await child.receive()
        if ready.get("ready") is not True:
            raise ValueError(f"{module} said {ready!r} instead of ready")
    except BaseException:
        child.discard()
        raise
    return child


# -- the child's side ----------------------------------------------------------------------------


def read_message(stream: IO[bytes], limit: int) -> bytes | None:
    """One length-prefixed message from ``stream`` (at most ``limit`` bytes); None at end of input."""
    head = stream.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    (size,) = LENGTH.unpack(head)
    if size > limit:
        raise ValueError(f"message of {size} bytes over the limit of {limit}")
    body = stream.read(size)
    if len(body) < size:
        return None
    return body


def write_message(stream: IO[bytes], payload: dict[str, Any]) -> None:
    """``payload`` as one length-prefixed JSON message."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    stream.write(LENGTH.pack(len(body)) + body)
    stream.flush()


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the server that started it dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the closed stdin still ends an idle worker
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable", exc_info=True)


def child_pipes(options: dict[str, Any]) -> tuple[IO[bytes], IO[bytes]] | None:
    """In a child: die with the server, then the request and answer pipes; None when the server is already gone.

    Call it first thing. Afterwards file descriptor 1 is stderr, so whatever a
    library prints goes to the log, never into the answers.
    """
    _die_with_parent()
    if os.getppid() != int(options["parent"]):  # the server died before prctl took effect
        return None
    stdin = os.fdopen(os.dup(0), "rb")
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return stdin, stdout
