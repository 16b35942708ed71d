"""``python -m sio_server``: settings from the environment, then serve."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import socket
import sys
from typing import Any

from pydantic import ValidationError

from .observability.logs import setup_logging
from .settings import Settings
from .transport.optional_imports import import_socketio


def event_loop(choice: str = "auto") -> tuple[asyncio.AbstractEventLoop, str]:
    """The loop ``EVENT_LOOP`` names, and its name: ``auto`` is uvloop's when uvloop is installed (the ``fast``
    extra), else asyncio's; ``uvloop`` without uvloop installed exits with a clear message.

    uvloop takes about a third less server CPU per MB of audio ingested (docs/benchmarks.md).
    """
    if choice == "asyncio":
        return asyncio.new_event_loop(), "asyncio"
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            print("not starting: EVENT_LOOP=uvloop but uvloop is not installed (pip install '.[fast]')",
                  file=sys.stderr)
            raise SystemExit(2) from None
        return asyncio.new_event_loop(), "asyncio"
    return uvloop.new_event_loop(), "uvloop"


GC_YOUNG_THRESHOLD = 10_000  # allocations between two young collections (CPython's default: 700)


def tune_collector() -> None:
    """Once the server has started: take what start-up made (modules, classes, schemas) out of the cyclic
    collector's generations, and collect the young generation every ``GC_YOUNG_THRESHOLD`` allocations.

    Measured by a collector callback on a 2,000-session resume storm (docs/benchmarks.md): with CPython's
    defaults the collector took 1.0 s of the server's 2.8 s of CPU (six full collections 0.7 s); with these,
    0.37 s of 2.45 s. Objects freed by reference counting (almost all) are freed as before.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def load_settings() -> Settings:
    """The settings of the environment; an invalid one ends the process (status 2) with one line per error.

    The lines name the variable and the rule, never the value (it may be a secret such as ``ADMIN_TOKEN``).
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        print("invalid settings, not starting:", *lines, sep="\n", file=sys.stderr)
        raise SystemExit(2) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """``--workers N`` (default: ``WORKERS``)."""
    parser = argparse.ArgumentParser(prog="python -m sio_server", description="The interview server.")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="server processes accepting from one listening socket; default: WORKERS, 1")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    """One server process, or (``--workers N``, N > 1) the supervisor of N of them."""
    args = parse_args(argv)
    settings = load_settings()
    workers = args.workers or settings.workers
    if workers > 1:
        from .supervisor import Supervisor, listening_socket, refusal

        reason = refusal(settings, workers)
        if reason is not None:
            print(f"not starting: {reason}", file=sys.stderr)
            raise SystemExit(2)
        setup_logging(settings.log_level, settings.log_format)
        logging.getLogger("sio_server").info(
            "supervisor of %d workers on http://%s:%s", workers, settings.host, settings.port
        )
        try:
            sock = listening_socket(settings.host, settings.port, settings.listen_backlog)
        except OSError as exc:
            print(f"not starting: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        shared = settings.model_copy(update={"workers": workers})  # each worker knows it is one of several
        import_server(shared)  # once, here: the workers are forked from this process with the server imported
        raise SystemExit(Supervisor(workers, settings.shutdown_grace, sock, lambda s: serve(shared, s)).run())
    serve(settings)


def import_server(settings: Settings) -> None:
    """Import the server's modules (python-socketio as ``settings`` need it first: see that module)."""
    import_socketio(redis=bool(settings.redis_url))
    from . import app  # noqa: F401


def serve(settings: Settings, sock: socket.socket | None = None) -> None:
    """Serve in this process (``sock``: one of the supervisor's workers, accepting from its listening socket)."""
    import_server(settings)
    from aiohttp import web

    from .app import create_app
    from .transport.admission import raise_descriptor_limit
    from .vendors.chains import chain_names

    setup_logging(settings.log_level, settings.log_format)
    descriptors = raise_descriptor_limit()  # before create_app: the socket cap is sized from it
    app = create_app(settings)

    async def after_startup(_: web.Application) -> None:
        tune_collector()

    app.on_startup.append(after_startup)  # last: after the app's own start-up (the store's index included)
    loop, loop_name = event_loop(settings.event_loop)
    logging.getLogger("sio_server").info(
        "interview server on http://%s:%s (llm=%s, store=%s, ping %ss, %d descriptors, loop=%s%s)",
        settings.host, settings.port, ">".join(chain_names("LLM", settings)),
        "postgresql" if settings.database_url else "files", settings.ping_interval, descriptors, loop_name,
        ", a worker sharing the port" if sock is not None else "",
    )
    where: dict[str, Any] = {"sock": sock} if sock is not None else {"host": settings.host, "port": settings.port}
    web.run_app(
        app, **where, print=None, shutdown_timeout=1.0, loop=loop,
        keepalive_timeout=settings.http_idle_timeout,  # idle and half-sent requests give their descriptor back
        lingering_time=1.0,  # aiohttp's default reads an unread body for 10 s after answering
        backlog=settings.listen_backlog,  # aiohttp's 128 drops SYNs when every client reconnects after a restart
    )

if __name__ == "__main__":
    main()
