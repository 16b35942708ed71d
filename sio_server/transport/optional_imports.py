"""Import python-socketio without the optional packages a server process does not use.

``import socketio`` imports, whenever they are installed, ``requests`` and
``websocket`` (python-engineio's synchronous *client*) and ``redis`` / ``valkey``
(the Redis client managers): about 12 MiB of RSS in an idle process (measured in
docs/benchmarks.md). This server never uses the synchronous client, and uses Redis
only with ``REDIS_URL``. Upstream behaviour relied on: ``engineio/client.py``,
``socketio/redis_manager.py`` and ``socketio/async_redis_manager.py`` import each of
them inside ``try: import X`` / ``except ImportError: X = None`` at module level, so
hiding them while socketio is first imported leaves only those features off
(pinned by tests/unit/test_optional_imports.py). Call :func:`import_socketio`
before anything else imports socketio; afterwards it changes nothing.
"""

from __future__ import annotations

import importlib
import sys

CLIENT_ONLY = ("requests", "websocket")
REDIS = ("redis", "valkey", "aioredis")


def import_socketio(redis: bool) -> list[str]:
    """Import socketio with the sync client's packages (and, unless ``redis``, the Redis ones) hidden.

    Returns the names it hid (none when socketio was already imported). The
    hidden packages stay importable for anyone else afterwards.
    """
    if "socketio" in sys.modules:
        return []
    names = [n for n in (*CLIENT_ONLY, *(() if redis else REDIS)) if n not in sys.modules]
    for name in names:
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" raise ImportError
    try:
        importlib.import_module("socketio")
    finally:
        for name in names:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return names
