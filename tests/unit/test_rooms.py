"""The client managers' room index (sio_server/transport/rooms.py) against python-socketio's own scan.

Every sequence of connects, joins, leaves, room closes and disconnects leaves
a :class:`LocalManager` in exactly the state of an upstream ``AsyncManager``;
the upstream ``basic_disconnect`` it replaces touches only what the
replacement touches; and a disconnect no longer tests every room.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap

import socketio
from bidict import BidictBase
from hypothesis import given, settings
from hypothesis import strategies as st
from socketio.base_manager import BaseManager

from sio_server.transport.upstream import ListenerRedisManager, LocalManager

NS = ["/interview", "/"]
ROOMS = ["room-a", "room-b", "room-c"]


class FakeEngine:
    """What ``pre_connect`` asks of the server: a fresh sid."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def generate_id(self) -> str:
        self.made.append(f"sid{len(self.made)}")
        return self.made[-1]


class FakeServer:
    def __init__(self) -> None:
        self.eio = FakeEngine()
        self.packet_class = socketio.packet.Packet


def manager(cls: type) -> socketio.AsyncManager:
    m = cls()
    m.set_server(FakeServer())
    return m


def state(m: socketio.AsyncManager) -> tuple:
    rooms = {ns: {room: dict(b) for room, b in r.items()} for ns, r in m.rooms.items()}
    return rooms, dict(m.callbacks), {k: sorted(v) for k, v in m.pending_connect.items()}, {
        k: sorted(v) for k, v in m.pending_disconnect.items()
    }


operation = st.one_of(
    st.tuples(st.just("connect"), st.integers(0, 3), st.sampled_from(NS)),
    st.tuples(st.just("pre_connect"), st.integers(0, 3), st.sampled_from(NS)),
    st.tuples(st.just("enter"), st.integers(0, 4), st.sampled_from(NS), st.sampled_from(ROOMS)),
    st.tuples(st.just("leave"), st.integers(0, 4), st.sampled_from(NS), st.sampled_from(ROOMS)),
    st.tuples(st.just("close"), st.sampled_from(NS), st.sampled_from(ROOMS)),
    st.tuples(st.just("pre_disconnect"), st.integers(0, 4), st.sampled_from(NS)),
    st.tuples(st.just("callback"), st.integers(0, 4)),
    st.tuples(st.just("disconnect"), st.integers(0, 4), st.sampled_from(NS)),
)


async def apply(m: socketio.AsyncManager, op: tuple) -> None:
    kind = op[0]
    made = m.server.eio.made  # an operation names the k-th sid made so far, so most of them hit a real socket
    sid = made[op[1] % len(made)] if isinstance(op[1], int) and made else "sid-none"
    if kind == "connect":
        await m.connect(f"eio{op[1]}", op[2])
    elif kind == "pre_connect":
        await m.pre_connect(f"eio{op[1]}", op[2])
    elif kind == "enter":
        if m.is_connected(sid, op[2]) or m.is_pre_connected(sid, op[2]) and sid in m.rooms.get(op[2], {}).get(None, {}):
            await m.enter_room(sid, op[2], op[3])
    elif kind == "leave":
        await m.leave_room(sid, op[2], op[3])
    elif kind == "close":
        await m.close_room(op[2], op[1])
    elif kind == "pre_disconnect":
        if sid in m.rooms.get(op[2], {}).get(None, {}):
            m.pre_disconnect(sid, op[2])
    elif kind == "callback":
        m.callbacks[sid] = {1: lambda: None}
    elif kind == "disconnect":
        await m.disconnect(sid, op[2])


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, min_size=5, max_size=60))
def test_every_sequence_leaves_the_state_of_upstreams_manager(ops):
    asyncio.run(compare(ops))


async def compare(ops: list[tuple]) -> None:
    ours, upstream = manager(LocalManager), manager(socketio.AsyncManager)
    for op in ops:
        await apply(ours, op)
        await apply(upstream, op)
        if op[0] == "callback":  # the same callback object in both, so the states compare equal
            for sid, callback in upstream.callbacks.items():
                ours.callbacks[sid] = callback
        assert state(ours) == state(upstream), op
    for ns in NS:
        for sid in list(ours.rooms.get(ns, {}).get(None, {})):
            others = [r for r in upstream.rooms[ns] if r not in (None, sid) and sid in upstream.rooms[ns][r]]
            assert sorted(ours.rooms_of(sid, ns)) == sorted(others)


def _self_names(func) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"}


def test_upstreams_disconnect_touches_only_what_the_index_replaces():
    # If python-socketio starts keeping another per-socket structure, basic_disconnect must clean it too.
    assert _self_names(BaseManager.basic_disconnect) == {"rooms", "basic_leave_room", "callbacks", "pending_connect", "pending_disconnect"}
    for cls in (LocalManager, ListenerRedisManager):
        assert cls.basic_disconnect is not BaseManager.basic_disconnect


async def test_a_disconnect_tests_the_leaving_sockets_rooms_only(monkeypatch):
    m = manager(LocalManager)
    for i in range(2000):
        sid = await m.connect(f"eio{i}", "/interview")
        await m.enter_room(sid, "/interview", f"session-{i}")
    tests = 0
    contains = BidictBase.__contains__

    def counting(self, key):  # upstream's scan tests the socket's membership room by room
        nonlocal tests
        tests += 1
        return contains(self, key)

    monkeypatch.setattr(BidictBase, "__contains__", counting)
    await m.disconnect("sid7", "/interview")
    assert tests <= 2  # upstream: 4,001 (every room of the namespace)
    rooms = m.rooms["/interview"]
    assert "sid7" not in rooms[None] and "session-7" not in rooms and "sid7" not in rooms
    assert len(rooms) == 1 + 2 * 1999
    assert m.rooms_of("sid8", "/interview") == ["session-8"] and m.rooms_of("sid7", "/interview") == []
