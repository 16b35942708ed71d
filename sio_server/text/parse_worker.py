"""The child process that parses résumé files: ``python -m sio_server.text.parse_worker '<json options>'``.

Started and owned by :class:`sio_server.text.parse_pool.ParsePool`; one file at
a time. Before anything else it caps its own address space (``RLIMIT_AS``),
then loads the parsers and says it is ready. For each file it moves its soft
``RLIMIT_CPU`` to the CPU time used so far plus the file's allowance, so a CPU
bomb ends the process with ``SIGXCPU``; the pool kills it on its wall clock
too. Messages on stdin and stdout are those of :mod:`sio_server.aio.child_process`:
a JSON request header followed by the file's bytes, a JSON answer back.
Anything the libraries print goes to stderr, and their logs through the
server's bounded logging.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from typing import IO, Any

from ..aio.child_process import MAX_HEADER_BYTES, child_pipes, read_message, write_message


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


def main() -> None:
    options = json.loads(sys.argv[1])
    pipes = child_pipes(options)
    if pipes is None:
        return
    memory = int(options["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from ..observability.logs import setup_logging

    setup_logging(options.get("log_level", "WARNING"), options.get("log_format", "json"))
    serve(options, *pipes)


if __name__ == "__main__":
    main()
