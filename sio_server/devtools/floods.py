"""Bounded floods against a local server (loopback only), as one attacking client would send them.

Used by the tests of issue 13 and by ``bench/security_floods.py``; each flood
is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from pathlib import Path

import aiohttp

from .process import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}  # the admin header of the test and benchmark servers

NS = "/interview"
MALFORMED_TEXT = (f"42{NS},{{}}", "42", f"42{NS},[]")


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def metric(url: str, name: str) -> float:
    """The sum of every sample of metric ``name`` at ``url``'s ``/metrics``."""
    async with aiohttp.ClientSession() as http:
        text = await (await http.get(f"{url}/metrics", headers=ADMIN)).text()
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(m.group(2)) for m in pattern.finditer(text))


async def open_ws(http: aiohttp.ClientSession, url: str, namespace: bool = True) -> aiohttp.ClientWebSocketResponse:
    """A raw Engine.IO websocket, with the ``/interview`` namespace connected."""
    ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
    await ws.receive_str()
    if namespace:
        await ws.send_str(f"40{NS},")
        await ws.receive_str()
    return ws


async def malformed_flood(url: str, count: int = 3000, sockets: int = 4, deadline: float = 60.0) -> None:
    """Send ``count`` malformed packets: the three bad events on websockets, ``9garbage`` and non-UTF-8 polling bodies."""
    stop = time.monotonic() + deadline
    closers = max(1, count // 30)  # 9garbage and non-UTF-8 bodies each close their socket
    async with aiohttp.ClientSession() as http:
        for _ in range(closers):
            ws = await open_ws(http, url, namespace=False)
            await ws.send_str("9garbage")
            await ws.close()
            sid = json.loads((await (await http.get(f"{url}/socket.io/?EIO=4&transport=polling")).text())[1:])["sid"]
            await http.post(f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}", data=b"40/interview,\xff\xfe")
        remaining = count - 2 * closers
        conns = [await open_ws(http, url) for _ in range(sockets)]
        for i in range(remaining):
            if time.monotonic() > stop:
                break
            await conns[i % sockets].send_str(MALFORMED_TEXT[i % len(MALFORMED_TEXT)])
            if i % 200 == 0:
                await asyncio.sleep(0)
        for ws in conns:
            await ws.close()


async def session_flood(url: str, seconds: float = 10.0, sockets: int = 1) -> dict[str, int]:
    """Start interviews as fast as possible for ``seconds``, a new socket for each; count the acks by outcome."""
    outcomes: dict[str, int] = {}
    stop = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < stop:
            try:
                ws = await open_ws(http, url)
            except (TimeoutError, aiohttp.ClientError):
                outcomes["socket_refused"] = outcomes.get("socket_refused", 0) + 1
                await asyncio.sleep(0.01)
                continue
            await ws.send_str(f'42{NS},1["start_interview",{{"mode":"text","max_questions":1}}]')
            while True:
                msg = await ws.receive_str()
                if msg.startswith(f"43{NS},1"):
                    ack = json.loads(msg[len(f"43{NS},1") :])[0]
                    key = "ok" if ack["ok"] else ack["error"]["code"]
                    outcomes[key] = outcomes.get(key, 0) + 1
                    break
            await ws.close()
    return outcomes


async def socket_hoard(url: str, count: int) -> tuple[list[aiohttp.ClientWebSocketResponse], int, aiohttp.ClientSession]:
    """Open up to ``count`` sockets and keep them; returns (sockets, refused, session to close)."""
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))  # no client-side cap on connections
    held, refused = [], 0
    for _ in range(count):
        try:
            held.append(await open_ws(http, url, namespace=False))
        except (TimeoutError, aiohttp.ClientError):
            refused += 1
    return held, refused, http


async def audio_flood(url: str, sockets: int = 20, chunks: int = 200, size: int = 60_000) -> None:
    """Start a text interview on each socket and send binary ``audio_chunk``s into it."""
    async with aiohttp.ClientSession() as http:
        conns = []
        for _ in range(sockets):
            try:
                ws = await open_ws(http, url)
            except aiohttp.ClientError:
                break
            await ws.send_str(f'42{NS},1["start_interview",{{"mode":"voice","max_questions":1}}]')
            conns.append(ws)
        blob = b"\x00" * size
        for _ in range(chunks):
            for ws in conns:
                if not ws.closed:
                    await ws.send_str(f'451-{NS},["audio_chunk",{{"_placeholder":true,"num":0}}]')
                    await ws.send_bytes(blob)
            await asyncio.sleep(0)
        for ws in conns:
            await ws.close()


def raw_connections(port: int, count: int) -> list[socket.socket]:
    """Open ``count`` TCP connections that send nothing (as many as the server accepts)."""
    conns = []
    for _ in range(count):
        try:
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    return conns


PUMP_WORDS = "we then measured every slow query and cached the hot keys before sharding the tenants by region".split()


async def never_ending_answer(client, seconds: float) -> None:
    """Issue 19 row 4: a spoken answer that never ends, one new word about every second (linear16 text as audio).

    ``client`` is a :class:`client_adapter.InterviewClient` in a voice interview whose question is asked;
    the fake Deepgram hears the bytes as words, and the transcript is stable between two words.
    """
    started = time.monotonic()
    for i in range(int(seconds)):
        word = (PUMP_WORDS[i % len(PUMP_WORDS)] + " ").encode()
        for j in range(0, len(word), 8):
            await client.send_audio(word[j : j + 8])
        await asyncio.sleep(max(0.0, started + i + 1 - time.monotonic()))
