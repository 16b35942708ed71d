"""``python -m sio_server``: settings from the environment, then serve."""

from __future__ import annotations

import logging

from aiohttp import web

from .observability.logs import setup_logging
from .settings import Settings
from .transport.optional_imports import import_socketio


def main() -> None:
    """Start one server process."""
    settings = Settings()
    import_socketio(redis=bool(settings.redis_url))  # before anything imports socketio: see that module
    from .app import create_app

    setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    logging.getLogger("sio_server").info(
        "interview server on http://%s:%s (llm=%s, store=%s, ping %ss)",
        settings.host, settings.port, settings.llm_provider,
        "postgresql" if settings.database_url else f"files in {settings.data_dir}", settings.ping_interval,
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=1.0)


if __name__ == "__main__":
    main()
