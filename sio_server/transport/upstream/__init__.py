"""python-socketio and python-engineio as this server uses them: the ONLY package that touches their internals.

Upstream offers few public hooks for what a hostile network needs (raw frames,
the handshake, the polling body, the listener's retry policy), so a handful of
private members are overridden or read. Every such use lives in this package,
each with a comment naming the upstream behaviour it relies on, and is pinned
by ``tests/unit/test_socketio_internals.py``, ``tests/unit/test_rooms.py`` and
``tests/integration/test_admission.py``: an upgrade that changes one fails
there first. ``tests/unit/test_upstream_boundary.py`` fails when any other
module of ``sio_server`` reaches a private member of socketio or engineio.

* :mod:`.server`: the Socket.IO and Engine.IO servers (admission, whole polling
  bodies, bounded binary packets, reserved event names, queued bytes per socket);
* :mod:`.managers`: the client managers (connect signals, the Redis listener
  seam ``_listen``, the listener's start, liveness and restart);
* :mod:`.rooms`: the room index that makes a disconnect O(its rooms).
"""

from .managers import (
    ConnectSignals,
    ListenerRedisManager,
    LocalManager,
    listener_alive,
    restart_listener,
    start_manager,
)
from .rooms import RoomIndex
from .server import InterviewEngineServer, InterviewSocketServer

__all__ = [
    "ConnectSignals",
    "InterviewEngineServer",
    "InterviewSocketServer",
    "ListenerRedisManager",
    "LocalManager",
    "RoomIndex",
    "listener_alive",
    "restart_listener",
    "start_manager",
]
