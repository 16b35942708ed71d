"""Issue 19 rows 1-3 and 7-9 against real server processes: hostile résumé files and foreign pages.

The files are made in memory (``sio_server/devtools/cv_files.py``): 3 M empty
DOCX paragraphs, a PDF drawing one form XObject 1,000 times a page, a CMap of
10,000 odd lines, 1,500 vertically merged table rows.
"""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest

from sio_server.devtools.cv_files import (
    CV_LINES,
    cmap_pdf,
    empty_paragraphs_docx,
    merged_cells_docx,
    text_pdf,
    xobject_pdf,
)
from tests.support.proctree import alive, children, cpu_seconds, tree_cpu_seconds
from tests.support.server import ServerProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
PAGE = {"X-Requested-With": "interview-page"}
EVIL = "https://evil.example"
MIB = 1 << 20


@pytest.fixture(scope="module")
def shared(tmp_path_factory, request) -> ServerProcess:
    """One server for the tests that leave it as they found it: a vendor key (same-origin by default),
    loopback as the trusted proxy (each test names its own client in ``X-Forwarded-For``), 2 uploads a
    minute per client, a 1.5 s body deadline."""
    env = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/",
        "TRUSTED_PROXIES": "127.0.0.1",
        "CV_UPLOADS_PER_MINUTE": "2",
        "CV_BODY_TIMEOUT": "1.5",
    }
    server = ServerProcess(tmp_path_factory.mktemp("resume") / "data", env=env).start()
    request.addfinalizer(server.kill)
    return server


def client(number: int) -> dict[str, str]:
    """The page's header from client ``203.0.113.<number>`` (through the trusted loopback proxy)."""
    return {**PAGE, "X-Forwarded-For": f"203.0.113.{number}"}


def form(name: str, data: bytes) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field("file", data, filename=name, content_type="application/octet-stream")
    return body


async def upload(url: str, name: str, data: bytes, headers: dict[str, str] = PAGE) -> tuple[int, dict, float]:
    """Status, JSON body and seconds of one upload on its own connection."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/v1/resume", data=form(name, data), headers=headers) as r:
            return r.status, await r.json(), time.monotonic() - started


async def healthz_latencies(url: str, stop: asyncio.Event) -> list[float]:
    """``/healthz`` answer times, one request after another until ``stop``."""
    times = []
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.monotonic()
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 200
            times.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return times


@pytest.mark.alone  # /healthz within 500 ms while two bombs are parsed: nothing else of the suite beside it
async def test_docx_of_3m_empty_paragraphs_twice_at_once_leaves_the_server_small_and_responsive(shared):
    # Row 1: one upload took 1.03 GiB, two 2.02 GiB, and every other request stalled up to 6.8 s.
    bomb = empty_paragraphs_docx()
    assert len(bomb) < 40_000
    base = peak = shared.rss()
    stop = asyncio.Event()
    health = asyncio.create_task(healthz_latencies(shared.url, stop))
    uploads = asyncio.gather(*(upload(shared.url, "cv.docx", bomb, client(n)) for n in (1, 2)))
    while not uploads.done():
        peak = max(peak, shared.rss())
        await asyncio.sleep(0.02)
    stop.set()
    latencies = await health
    for status, body, seconds in uploads.result():
        assert 400 <= status < 500 and body["error"]["code"] == "invalid_file" and seconds < 30
    assert (peak - base) <= 64 * MIB, f"server RSS grew {(peak - base) / MIB:.1f} MiB"
    assert latencies and max(latencies) < 0.5, max(latencies)
    assert "Traceback" not in shared.log()


async def test_cmap_pdf_writes_at_most_200_kb_of_log(shared):
    # Row 3: 10,000 odd CMap lines were 114 MB of pypdf warnings.
    before = shared.log_path.stat().st_size
    status, body, _ = await upload(shared.url, "cv.pdf", cmap_pdf(), client(3))
    assert status == 200 and body["text"], body
    await asyncio.sleep(0.5)  # the worker's stderr is the server's log: let it flush
    assert shared.log_path.stat().st_size - before <= 200_000


@pytest.mark.parametrize(("number", "rows_text", "status"), [(4, False, 422), (5, True, 200)])
async def test_merged_cells_docx_is_answered_fast_without_a_traceback(shared, number, rows_text, status):
    # Row 2: python-docx's row.cells recursed through 1,500 merged rows: 63 s, then RecursionError and HTTP 500.
    answer_status, body, seconds = await upload(shared.url, "cv.docx", merged_cells_docx(1_500, text=rows_text), client(number))
    assert answer_status == status and seconds < 5, (answer_status, body, seconds)
    assert "Traceback" not in shared.log()


def raw_upload(port: int, headers: dict[str, str], body: bytes = b"", length: int = 1_000_000) -> tuple[bytes, float]:
    """Send the headers of a large multipart upload and ``body`` (less than announced); the server's whole answer
    (until it closes or 5 s pass) and how long it took."""
    lines = [
        "POST /api/v1/resume HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: multipart/form-data; boundary=x",
        f"Content-Length: {length}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = sock.recv(4096)
    return answer, time.monotonic() - started


async def test_foreign_origin_and_headerless_uploads_are_refused_before_the_body(shared):
    # Row 7: ten no-cors uploads from a foreign page were all parsed (a vendor key is set: same-origin only).
    cases = [
        ({"Origin": EVIL, **client(6)}, b"403", b"cors_rejected"),  # a foreign page, even with the header
        ({"X-Forwarded-For": "203.0.113.6"}, b"400", b"header_required"),  # a form post or a no-cors fetch
        ({"Origin": shared.url, "X-Forwarded-For": "203.0.113.6"}, b"400", b"header_required"),
    ]
    for headers, status, code in cases:  # answered at once: the announced megabyte is never waited for
        answer, seconds = await asyncio.to_thread(raw_upload, shared.port, headers)
        assert answer.startswith(b"HTTP/1.1 " + status) and code in answer and seconds < 2, (headers, answer, seconds)
    async with aiohttp.ClientSession() as http:
        preflight = {"Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-requested-with"}
        async with http.options(f"{shared.url}/api/v1/resume", headers=preflight) as r:
            assert r.status == 403
    busy_before = tree_cpu_seconds(shared.pid)
    status, body, _ = await upload(shared.url, "cv.pdf", xobject_pdf(pages=3), headers={"Origin": EVIL, **client(6)})
    assert status == 403 and body["error"]["code"] == "cors_rejected"
    assert tree_cpu_seconds(shared.pid) - busy_before < 0.2, "nothing was parsed"
    status, body, _ = await upload(shared.url, "cv.pdf", text_pdf(), headers={"Origin": shared.url, **client(6)})
    assert status == 200 and body["kind"] == "pdf"
    assert shared.log().count("résumé upload refused") >= 4


async def test_a_stalled_body_is_cut_at_the_deadline(shared):
    # Row 8: ten stalled 1.9 MB uploads were held 70 s.
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="cv.pdf"\r\n\r\n%PDF-1.4\n'
    answer, seconds = await asyncio.to_thread(raw_upload, shared.port, client(7), part, 1_900_000)
    assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout" in answer and seconds < 4, (answer[:300], seconds)


async def test_upload_limit_counts_the_forwarded_client_of_a_trusted_proxy(shared):
    # Row 9: behind the deploy/ proxies every client shared the proxy's address: one client's uploads refused all.
    statuses = [(await upload(shared.url, "cv.pdf", text_pdf(), client(8)))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert (await upload(shared.url, "cv.pdf", text_pdf(), client(9)))[0] == 200


async def test_xobject_pdfs_whose_clients_leave_are_killed_a_normal_pdf_is_answered_and_sigterm_ends_it(server):
    # Row 2: two CPU bombs (minutes each) held both parse slots after their clients left; SIGTERM did not end it.
    # 4,000 draws a page: one page costs far more CPU than CV_PARSE_CPU_SECONDS on any machine, so the bombs
    # are still being parsed when their clients leave (the 20,000-character stop only comes between pages).
    bomb, normal = xobject_pdf(pages=50, draws=4_000), text_pdf()  # made before the clock starts (fpdf2 loads slowly)
    sent = time.monotonic()
    bombs = [asyncio.create_task(upload(server.url, "cv.pdf", bomb)) for _ in range(2)]
    await wait_until(lambda: len(children(server.pid)) == 2 and tree_cpu_seconds(server.pid) > 1.5, timeout=20, what="parsing")
    workers = children(server.pid)
    victim_sent = time.monotonic()
    victim = asyncio.create_task(upload(server.url, "cv.pdf", normal))  # waits for a slot
    await asyncio.sleep(max(0.0, sent + 5 - time.monotonic()))
    assert not any(task.done() for task in bombs), "a bomb was answered before its client left"
    left = time.monotonic()
    for task in bombs:  # the clients leave after 5 s: their connections close
        task.cancel()
    await asyncio.gather(*bombs, return_exceptions=True)
    status, body, seconds = await victim
    assert status == 200 and body["text"] == "\n".join(CV_LINES) and seconds < 10, (status, seconds)
    assert victim_sent + seconds >= left, "the victim cannot have been parsed while both workers were busy"
    await wait_until(lambda: not any(alive(pid) for pid in workers), timeout=15, what="the bombs' workers killed")

    def idle() -> bool:
        before = {pid: cpu_seconds(pid) for pid in children(server.pid)}
        time.sleep(1.0)
        return all(cpu_seconds(pid) - spent < 0.1 for pid, spent in before.items())

    await wait_until(idle, timeout=15, what="no parse worker busy")
    assert "abandoned by its client" in server.log()

    bombs = [asyncio.create_task(upload(server.url, "cv.pdf", bomb)) for _ in range(2)]
    await wait_until(lambda: tree_cpu_seconds(server.pid) > 0.5, timeout=20, what="parsing again")
    workers = children(server.pid)
    started = time.monotonic()
    await asyncio.to_thread(server.terminate, 10)
    assert time.monotonic() - started < 5
    await asyncio.gather(*bombs, return_exceptions=True)
    await wait_until(lambda: not any(alive(pid) for pid in workers), timeout=5, what="workers gone with the server")
