"""Re-run the floods of issues 13 and 19 (the résumé upload bombs, the draft pump) against a real ``python -m sio_server`` on loopback, and print the figures.

``python -m bench.security_floods``: each flood is bounded in count and time;
the server runs with default settings (a fake vendor key for the origin check).
The draft pump (issue 19 row 4) runs against the fake vendors, once with the
draft and session limits lifted ("before") and once with the defaults.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from client_adapter import InterviewClient
from sio_server.devtools.fakes.env import vendor_env
from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram
from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs
from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from sio_server.devtools.floods import (
    NS,
    audio_flood,
    malformed_flood,
    metric,
    never_ending_answer,
    rss_kib,
    session_flood,
    socket_hoard,
)
from sio_server.devtools.process import DEV_ADMIN_TOKEN as ADMIN_TOKEN
from sio_server.devtools.process import ServerProcess
from sio_server.devtools.rawpolling import RawPolling
from sio_server.devtools.cv_files import empty_paragraphs_docx, merged_cells_docx, text_pdf, xobject_pdf

EVIL = "https://evil.example"


async def binary_flood(url: str, frames: int = 2000, size: int = 500_000) -> None:
    """Row 1: a huge attachment count, then 500 kB frames, reconnecting whenever the server closes."""
    blob = b"\0" * size
    sent = 0
    async with aiohttp.ClientSession() as http:
        while sent < frames:
            ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
            await ws.receive_str()
            await ws.send_str(f"40{NS},")
            await ws.receive_str()
            await ws.send_str(f'459999999-{NS},["audio_chunk",{{"_placeholder":true,"num":0}}]')
            try:
                while sent < frames and not ws.closed:
                    await ws.send_bytes(blob)
                    sent += 1
            except (ConnectionError, aiohttp.ClientError):
                pass
            await ws.close()


async def evil_origin(url: str) -> tuple[int, int]:
    """Row 5: the polling handshake status and the websocket upgrade status with a foreign Origin."""
    async with aiohttp.ClientSession() as http:
        polling = (await http.get(f"{url}/socket.io/?EIO=4&transport=polling", headers={"Origin": EVIL})).status
        try:
            await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket", headers={"Origin": EVIL})
            websocket = 101
        except aiohttp.WSServerHandshakeError as exc:
            websocket = exc.status
    return polling, websocket


def pieces_body(server: ServerProcess) -> bool:
    """Row 6: a 2 kB start_interview body in two TCP pieces 200 ms apart is accepted whole."""
    client = RawPolling("127.0.0.1", server.port)
    client.post(f"40{NS},".encode())
    client.read_until(f"40{NS},")
    payload = {"mode": "text", "max_questions": 1, "job_description": "x" * 2000}
    client.post(f'42{NS},1["start_interview",{json.dumps(payload)}]'.encode(), pieces=2, pause=0.2)
    return '"ok":true' in client.read_until(f"43{NS},1").replace(" ", "")


def start(root: Path, name: str) -> ServerProcess:
    """A server with default settings and a (fake) vendor key, so the same-origin default is on."""
    return ServerProcess(root / name, env={"ADMIN_TOKEN": ADMIN_TOKEN, "OPENAI_API_KEY": "sk-flood", "OPENAI_BASE_URL": "http://127.0.0.1:9/"}).start()


async def checks(root: Path) -> dict[str, object]:
    """Rows 5 and 6 on a fresh server."""
    server = start(root, "checks")
    try:
        return {
            "evil_origin_polling_websocket_status": await evil_origin(server.url),
            "pieces_body_accepted": await asyncio.to_thread(pieces_body, server),
        }
    finally:
        server.kill()


async def floods(root: Path) -> dict[str, object]:
    """Every flood from one client against one server, RSS sampled after each."""
    server = start(root, "floods")
    pid = server.proc.pid
    figures: dict[str, object] = {}
    base = peak = rss_kib(pid)

    def sample(name: str) -> None:
        nonlocal peak
        now = rss_kib(pid)
        peak = max(peak, now)
        figures[f"rss_growth_after_{name}_mib"] = round((now - base) / 1024, 1)

    try:
        figures["session_flood_20s"] = await session_flood(server.url, seconds=20)
        sample("sessions")
        await binary_flood(server.url)
        sample("binary")
        await audio_flood(server.url, sockets=40, chunks=150)
        sample("audio")
        held, refused, http = await socket_hoard(server.url, 2000)
        sample("sockets")
        figures["sockets_held_refused_of_2000"] = (len(held), refused)
        for ws in held:
            await ws.close()
        await http.close()
        log_before = server.log_path.stat().st_size
        await malformed_flood(server.url, 3000)
        await asyncio.sleep(1)
        figures["log_bytes_for_3000_malformed"] = server.log_path.stat().st_size - log_before
        figures["malformed_counted"] = await metric(server.url, "interview_malformed_packets_total")
        await malformed_flood(server.url, 30_000, deadline=20)
        sample("malformed")
        figures["rss_base_mib"] = round(base / 1024, 1)
        figures["rss_peak_growth_mib"] = round((peak - base) / 1024, 1)
        figures["tracebacks_in_log"] = server.log_path.read_text().count("Traceback")
    finally:
        server.kill()
    return figures


async def _post_file(http: aiohttp.ClientSession, url: str, name: str, data: bytes, leave_after: float | None = None) -> tuple[int, float]:
    """One résumé upload as the page sends it: its status (0 when the client left first) and seconds."""
    body = aiohttp.FormData()
    body.add_field("file", data, filename=name, content_type="application/octet-stream")
    started = time.monotonic()
    try:
        async with asyncio.timeout(leave_after):
            async with http.post(f"{url}/api/v1/resume", data=body, headers={"X-Requested-With": "interview-page"}) as r:
                return r.status, round(time.monotonic() - started, 2)
    except TimeoutError:
        return 0, round(time.monotonic() - started, 2)


async def upload_bombs(root: Path) -> dict[str, object]:
    """Issue 19 rows 1 and 2 on a fresh server: RSS growth, time to the 4xx and /healthz latency under the bombs."""
    server = start(root, "uploads")
    figures: dict[str, object] = {}
    stop = asyncio.Event()
    latencies: list[float] = []

    async def healthz(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            started = time.monotonic()
            async with http.get(f"{server.url}/healthz") as r:
                await r.read()
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)

    normal = text_pdf()  # made before any clock starts
    try:
        base = peak = rss_kib(server.pid)
        async with aiohttp.ClientSession() as http, aiohttp.ClientSession() as probe:
            health = asyncio.create_task(healthz(probe))
            for name, file, bomb, leave in (
                ("docx_3m_paragraphs", "cv.docx", empty_paragraphs_docx(), None),
                ("docx_merged_cells", "cv.docx", merged_cells_docx(1_500), None),
                ("pdf_xobject_50_pages", "cv.pdf", xobject_pdf(pages=50), 5.0),
            ):
                latencies.clear()
                uploads = asyncio.gather(*(_post_file(http, server.url, file, bomb, leave) for _ in range(2)))
                victim = None
                if leave is not None:
                    await asyncio.sleep(1.0)
                    victim = asyncio.create_task(_post_file(http, server.url, "cv.pdf", normal))
                while not uploads.done():
                    peak = max(peak, rss_kib(server.pid))
                    await asyncio.sleep(0.05)
                figures[f"{name}_x2_status_seconds"] = uploads.result()
                if victim is not None:
                    figures[f"{name}_victim_pdf_status_seconds"] = await victim
                figures[f"{name}_healthz_max_ms"] = round(1000 * max(latencies, default=0), 1)
            stop.set()
            await health
        figures["uploads_rss_peak_growth_mib"] = round((peak - base) / 1024, 1)
        started = time.monotonic()
        server.terminate(10)
        figures["sigterm_exit_seconds"] = round(time.monotonic() - started, 2)
        figures["upload_tracebacks_in_log"] = server.log_path.read_text().count("Traceback")
    finally:
        server.kill()


UNLIMITED_DRAFTS = {"PREEMPTIVE_MAX_DRAFTS": "100000", "PREEMPTIVE_MIN_NEW_WORDS": "1", "SESSION_LLM_CALLS": "100000"}


async def draft_pump(root: Path, seconds: int = 30) -> dict[str, object]:
    """Row 4: LLM requests per minute from one never-ending voice answer, without the limits and with the defaults."""
    figures: dict[str, object] = {}
    async with FakeOpenAI() as openai, FakeElevenLabs() as elevenlabs, FakeDeepgram() as deepgram:
        for label, extra in (("before", UNLIMITED_DRAFTS), ("after", {})):
            server = ServerProcess(root / f"pump-{label}", env={**vendor_env(openai, elevenlabs, deepgram), **extra}).start()
            client = InterviewClient(server.url)
            try:
                await client.connect()
                await client.start(language="en", mode="voice", audio_format="linear16", max_questions=5)
                await client.wait_for(lambda c=client: c.questions.get(1), timeout=30)
                asked = openai.count
                await never_ending_answer(client, seconds)
                figures[f"draft_pump_llm_calls_per_minute_{label}"] = round((openai.count - asked) * 60 / seconds, 1)
            finally:
                await client.close()
                server.kill()
    return figures


async def run(root: Path) -> dict[str, object]:
    """Every part."""
    return {**await checks(root), **await upload_bombs(root), **await floods(root), **await draft_pump(root)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run(Path(tmp)))
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
