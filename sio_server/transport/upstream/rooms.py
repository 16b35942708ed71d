"""Which rooms each socket joined, so that a disconnect costs the same with 10 sockets or 10,000.

python-socketio's ``BaseManager.basic_disconnect`` finds a leaving socket's
rooms by copying the namespace's whole room table and testing the socket's
membership in every room. Every socket has a room of its own (and here one
session room), so each disconnect is O(sockets), and a proxy restart that
drops 5,000 sockets at once costs 5,000 × 10,000 membership tests with the
event loop blocked (docs/benchmarks.md, the resume storm's disconnect row).
:class:`RoomIndex` keeps, per namespace, the rooms a socket entered besides
its own and ``None`` (usually one: its session's), and leaves exactly those.
"""

from __future__ import annotations

from typing import Any


class RoomIndex:
    """Client-manager mixin: a disconnect leaves the socket's indexed rooms instead of scanning all of them.

    Upstream (python-socketio 5.x) keeps ``rooms[namespace][room]`` as bidicts
    of ``sid -> eio_sid`` (room ``None`` holds every connected socket, room
    ``sid`` the socket alone) and routes every join and leave, local or from
    another process's pub/sub message, through ``basic_enter_room`` and
    ``basic_leave_room``; ``basic_disconnect`` then also drops the socket's
    ``callbacks`` and its ``pending_connect`` / ``pending_disconnect`` entries.
    ``tests/unit/test_rooms.py`` pins that, and that this index leaves the
    manager in the same state as upstream's scan.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # namespace -> sid -> the one other room it is in, or a set of them (a set is never a room name)
        self._joined: dict[str | None, dict[str, Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str | None, room: Any, eio_sid: str | None = None) -> None:
        """Enter the room (upstream), then index it."""
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        if room is None or room == sid:
            return
        joined = self._joined.setdefault(namespace, {})
        have = joined.get(sid)
        if have is None:
            joined[sid] = room
        elif isinstance(have, set):
            have.add(room)
        elif have != room:
            joined[sid] = {have, room}

    def basic_leave_room(self, sid: str, namespace: str | None, room: Any) -> None:
        """Leave the room (upstream), then forget it."""
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        joined = self._joined.get(namespace)
        have = joined.get(sid) if joined is not None else None
        if have is None:
            return
        if isinstance(have, set):
            have.discard(room)
            if len(have) == 1:
                joined[sid] = next(iter(have))  # type: ignore[index]
        elif have == room:
            del joined[sid]  # type: ignore[union-attr]
        if not joined:
            del self._joined[namespace]

    def rooms_of(self, sid: str, namespace: str | None) -> list[Any]:
        """The rooms ``sid`` entered besides its own and ``None``."""
        have = self._joined.get(namespace, {}).get(sid)
        if have is None:
            return []
        return list(have) if isinstance(have, set) else [have]

    def basic_disconnect(self, sid: str, namespace: str | None, **kwargs: Any) -> None:
        """What upstream's ``basic_disconnect`` does, with the socket's rooms taken from the index."""
        rooms: dict[Any, Any] = self.rooms  # type: ignore[attr-defined]
        if namespace not in rooms:
            return
        for room in [*self.rooms_of(sid, namespace), sid, None]:
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)  # type: ignore[attr-defined]
        for pending in (self.pending_connect, self.pending_disconnect):  # type: ignore[attr-defined]
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]
