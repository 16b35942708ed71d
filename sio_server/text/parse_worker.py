"""The child process that parses résumé files: ``python -m sio_server.text.parse_worker '<json options>'``.

Started and owned by :class:`sio_server.text.parse_pool.ParsePool`; one file at
a time. Before anything else it caps its own address space (``RLIMIT_AS``),
then loads the parsers and says it is ready. For each file it moves its soft
``RLIMIT_CPU`` to the CPU time used so far plus the file's allowance, so a CPU
bomb ends the process with ``SIGXCPU``; the pool kills it on its wall clock
too. Messages on stdin and stdout are a 4-byte big-endian length and a body:
a JSON request header followed by the file's bytes, a JSON answer back (never
pickle: the server trusts nothing a parser process says beyond a JSON object).
Anything the libraries print goes to stderr, and their logs through the
server's bounded logging.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import resource
import signal
import struct
import sys
from typing import IO, Any

LENGTH = struct.Struct(">I")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
MAX_HEADER_BYTES = 65_536

log = logging.getLogger(__name__)


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


def _limit_cpu(seconds: float) -> None:
    """Let this process use ``seconds`` more CPU time: past it the kernel sends SIGXCPU, which ends it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _answer(request: dict[str, Any], data: bytes) -> dict[str, Any]:
    from .documents import DocumentError, parse_document

    try:
        document = parse_document(
            data,
            str(request.get("filename", "")),
            max_bytes=int(request["max_bytes"]),
            max_pages=int(request["max_pages"]),
            max_chars=int(request["max_chars"]),
        )
    except DocumentError as exc:
        return {"ok": False, "code": exc.code, "message": exc.message}
    return {"ok": True, "text": document.text, "kind": document.kind, "pages": document.pages, "truncated": document.truncated}


def serve(options: dict[str, Any], stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Answer requests from ``stdin`` until it closes; return early after a ``MemoryError`` (the pool replaces us)."""
    import lxml.etree  # noqa: F401  (loaded before "ready", so no parse pays for it)
    import pypdf  # noqa: F401

    from . import documents  # noqa: F401

    write_message(stdout, {"ready": True})
    limit = int(options["max_bytes"]) + MAX_HEADER_BYTES
    while (header := read_message(stdin, MAX_HEADER_BYTES)) is not None:
        request = json.loads(header)
        data = read_message(stdin, limit)
        if data is None:
            return
        _limit_cpu(float(request["cpu_seconds"]))
        try:
            answer = _answer(request, data)
        except MemoryError:
            del data
            write_message(stdout, {"ok": False, "code": "invalid_file", "message": "the file needs too much memory to read", "retire": True})
            return
        write_message(stdout, answer)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the server that started it dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the closed stdin still ends an idle worker
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable", exc_info=True)


def main() -> None:
    options = json.loads(sys.argv[1])
    _die_with_parent()
    if os.getppid() != int(options["parent"]):  # the server died before prctl took effect
        return
    memory = int(options["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from ..observability.logs import setup_logging

    setup_logging(options.get("log_level", "WARNING"), options.get("log_format", "json"))
    stdin = os.fdopen(os.dup(0), "rb")
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's print() goes to the log, never into the answers
    serve(options, stdin, stdout)


if __name__ == "__main__":
    main()
