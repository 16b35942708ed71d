"""The child process that transcribes answers: ``python -m sio_server.vendors.pocketsphinx_worker '<json options>'``.

Started and owned by :class:`sio_server.vendors.pocketsphinx_stt.DecoderPool`.
pocketsphinx holds the GIL while it decodes (a 604 ms stall of the event loop
was measured with it in a thread), so it never runs in the server process. The
worker loads one decoder (the en-us model in the wheel, ``fwdflat`` and
``bestpath`` off: the final result comes within a few tens of milliseconds of
the last audio, with the same accuracy) before it says it is ready, then
decodes one answer after another with it.

Requests (:mod:`sio_server.aio.child_process` messages: a JSON header and the
data): ``{"op": "start"}`` begins an answer; ``{"op": "audio"}`` with 16 kHz
mono PCM16 decodes it and answers ``{"hyp": text}`` when the text so far
changed; ``{"op": "end"}`` answers ``{"final": text}``. Any other request, or an
error of the decoder, ends the process (the pool replaces it).
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from ..aio.child_process import MAX_HEADER_BYTES, child_pipes, read_message, write_message

MAX_AUDIO_BYTES = 1 << 20  # one request's audio (the stream splits larger chunks)


def _text(decoder: Any) -> str:
    hyp = decoder.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Load the decoder, say ready, answer requests until stdin closes."""
    from pocketsphinx import Decoder

    decoder = Decoder(fwdflat=False, bestpath=False, loglevel="FATAL")
    write_message(stdout, {"ready": True})
    said = ""
    while (header := read_message(stdin, MAX_HEADER_BYTES)) is not None:
        op = json.loads(header).get("op")
        data = read_message(stdin, MAX_AUDIO_BYTES)
        if data is None:
            return
        if op == "start":
            decoder.start_utt()
            said = ""
        elif op == "audio":
            decoder.process_raw(data, False, False)
            text = _text(decoder)
            if text != said:
                said = text
                write_message(stdout, {"hyp": text})
        elif op == "end":
            decoder.end_utt()
            write_message(stdout, {"final": _text(decoder)})
        else:
            raise ValueError(f"unknown request {op!r}")


def main() -> None:
    options = json.loads(sys.argv[1])
    pipes = child_pipes(options)
    if pipes is None:
        return
    from ..observability.logs import setup_logging

    setup_logging(options.get("log_level", "WARNING"), options.get("log_format", "json"))
    serve(*pipes)


if __name__ == "__main__":
    main()
