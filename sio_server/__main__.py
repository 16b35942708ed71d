"""``python -m sio_server``: settings from the environment, then serve."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from .observability.logs import setup_logging
from .settings import Settings
from .transport.optional_imports import import_socketio


def event_loop() -> tuple[asyncio.AbstractEventLoop, str]:
    """uvloop's event loop when uvloop is installed (the ``fast`` extra), else asyncio's; and its name.

    uvloop takes about a third less server CPU per MB of audio ingested and a tenth less per turn
    (docs/benchmarks.md).
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop(), "asyncio"
    return uvloop.new_event_loop(), "uvloop"


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
    """``--workers N`` (default: ``WORKERS``); ``--worker`` is how the supervisor starts each worker."""
    parser = argparse.ArgumentParser(prog="python -m sio_server", description="The interview server.")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="server processes on one port (SO_REUSEPORT); default: WORKERS, 1")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    """One server process, or (``--workers N``, N > 1) the supervisor of N of them."""
    args = parse_args(argv)
    settings = load_settings()
    workers = 1 if args.worker else args.workers or settings.workers
    if workers > 1:
        from .supervisor import Supervisor, refusal

        reason = refusal(settings, workers)
        if reason is not None:
            print(f"not starting: {reason}", file=sys.stderr)
            raise SystemExit(2)
        setup_logging(settings.log_level, settings.log_format)
        logging.getLogger("sio_server").info("supervisor of %d workers on http://%s:%s", workers, settings.host, settings.port)
        raise SystemExit(Supervisor(workers, settings.shutdown_grace).run())
    serve(settings, reuse_port=args.worker)


def serve(settings: Settings, reuse_port: bool = False) -> None:
    """Start one server process (``reuse_port``: one of the supervisor's workers, sharing the port)."""
    import_socketio(redis=bool(settings.redis_url))  # before anything imports socketio: see that module
    from .app import create_app
    from .transport.admission import raise_descriptor_limit
    from .vendors.chains import chain_names

    setup_logging(settings.log_level, settings.log_format)
    descriptors = raise_descriptor_limit()  # before create_app: the socket cap is sized from it
    app = create_app(settings)
    loop, loop_name = event_loop()
    logging.getLogger("sio_server").info(
        "interview server on http://%s:%s (llm=%s, store=%s, ping %ss, %d descriptors, loop=%s%s)",
        settings.host, settings.port, ">".join(chain_names("LLM", settings)),
        "postgresql" if settings.database_url else "files", settings.ping_interval, descriptors, loop_name,
        ", a worker sharing the port" if reuse_port else "",
    )
    web.run_app(
        app, host=settings.host, port=settings.port, print=None, shutdown_timeout=1.0, loop=loop,
        keepalive_timeout=settings.http_idle_timeout,  # idle and half-sent requests give their descriptor back
        lingering_time=1.0,  # aiohttp's default reads an unread body for 10 s after answering
        backlog=settings.listen_backlog,  # aiohttp's 128 drops SYNs when every client reconnects after a restart
        reuse_port=reuse_port or None,
    )

if __name__ == "__main__":
    main()
