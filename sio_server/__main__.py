"""``python -m sio_server``: settings from the environment, then serve."""

from __future__ import annotations

import logging

from aiohttp import web

from .app import create_app
from .observability.logs import setup_logging
from .settings import Settings
from .transport.admission import raise_descriptor_limit


def main() -> None:
    """Start one server process."""
    settings = Settings()
    setup_logging(settings.log_level, settings.log_format)
    descriptors = raise_descriptor_limit()  # before create_app: the socket cap is sized from it
    app = create_app(settings)
    logging.getLogger("sio_server").info(
        "interview server on http://%s:%s (llm=%s, store=%s, ping %ss, %d descriptors)",
        settings.host, settings.port, settings.llm_provider,
        "postgresql" if settings.database_url else "files", settings.ping_interval, descriptors,
    )
    web.run_app(
        app, host=settings.host, port=settings.port, print=None, shutdown_timeout=1.0,
        keepalive_timeout=settings.http_idle_timeout,  # idle and half-sent requests give their descriptor back
        lingering_time=1.0,  # aiohttp's default reads an unread body for 10 s after answering
    )


if __name__ == "__main__":
    main()
