"""``POST /api/v1/resume``: a résumé file (PDF or DOCX) in, its text out; the file is never stored.

The upload is a same-origin action of the interview page. Before a byte of
the body is read, the route refuses a present ``Origin`` the server's
:class:`~.cors.OriginPolicy` does not allow (403 ``cors_rejected``) and a
request without ``X-Requested-With: interview-page`` (400 ``header_required``:
a foreign page cannot send that header without a preflight, which the policy
refuses); then it spends one upload of the client's address
(``CV_UPLOADS_PER_MINUTE``, the address the socket caps count, from
:mod:`.client_address`) and one of the whole process
(``CV_UPLOADS_PER_MINUTE_TOTAL``), 429 ``rate_limited``; at most
``CV_UPLOADS_IN_FLIGHT`` uploads are handled at once (503 ``server_busy``). The
multipart body is read chunk by chunk up to ``CV_MAX_BYTES`` (413
``file_too_large``) within ``CV_BODY_TIMEOUT`` (408 ``body_timeout``), then
parsed by a child process of :class:`~..text.parse_pool.ParsePool` (503
``server_busy`` with ``Retry-After`` when none frees up within ``CV_PARSE_WAIT``);
the parse is killed when the client leaves. Parsing rules live in
:mod:`sio_server.text.documents`; each refusal is one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TypeVar

from aiohttp import BodyPartReader, web

from ..aio.token_bucket import KeyedBuckets, TokenBucket
from ..appkeys import CLIENT_ADDRESSES
from ..settings import Settings
from ..text.documents import Document, DocumentError
from ..text.parse_pool import ParseLimits, ParsePool, PoolBusy
from .admin import ApiError
from .cors import OriginPolicy

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MULTIPART_OVERHEAD = 16_384  # boundaries and part headers on top of the file itself
MAX_PARTS = 4
MAX_CLIENTS = 10_000
STATUS = {"file_too_large": 413, "unsupported_file": 415}
PAGE_HEADER = ("X-Requested-With", "interview-page")
CLIENT_CLOSED = 499  # nginx's "client closed request", for the access log only
DISCONNECT_POLL = 0.25  # seconds between two looks at the client's connection during a parse
T = TypeVar("T")


class Refusal(ApiError):
    """An :class:`ApiError` that may carry ``Retry-After`` and close the connection (a body left unread)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None, close: bool = False):
        super().__init__(status, code, message)
        self.retry_after = retry_after
        self.close = close

    def response(self) -> web.Response:
        response = super().response()
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        if self.close:
            response.force_close()
        return response


class UploadLimits:
    """Per-address upload buckets (the oldest forgotten past ``MAX_CLIENTS``), the process's bucket and uploads in flight."""

    def __init__(self, per_minute: float, per_minute_total: float, in_flight: int) -> None:
        self.buckets = KeyedBuckets(per_minute, max_keys=MAX_CLIENTS)
        self.total = TokenBucket(per_minute_total / 60, max(1.0, per_minute_total))
        self.max_in_flight = in_flight
        self.in_flight = 0

    def allow(self, address: str) -> bool:
        """Spend one upload of ``address`` and one of the process; False when either is used up."""
        return self.buckets.take(address) and self.total.take()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """One upload in flight, or :class:`Refusal` ``server_busy`` when the process handles as many as it may."""
        if self.in_flight >= self.max_in_flight:
            raise Refusal(503, "server_busy", "the server is reading as many résumés as it can; retry shortly", retry_after=5)
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


class CVUpload:
    """What the route needs: the settings' limits, the origin policy and the parse pool."""

    def __init__(self, settings: Settings, origins: OriginPolicy) -> None:
        self.settings = settings
        self.origins = origins
        self.limits = UploadLimits(
            settings.cv_uploads_per_minute, settings.cv_uploads_per_minute_total, settings.cv_uploads_in_flight
        )
        self.pool = ParsePool(
            settings.cv_parse_concurrency,
            ParseLimits(
                memory_bytes=settings.cv_parse_memory_bytes,
                cpu_seconds=settings.cv_parse_cpu_seconds,
                wall_seconds=settings.cv_parse_timeout,
                max_bytes=settings.cv_max_bytes,
            ),
            wait=settings.cv_parse_wait,
            log_format=settings.log_format,
        )


UPLOAD = web.AppKey("cv_upload", CVUpload)


def add_cv_upload(app: web.Application, settings: Settings, origins: OriginPolicy) -> None:
    """Register the route, its limits and its parse pool (opened and closed with the app)."""
    app[UPLOAD] = CVUpload(settings, origins)
    app.add_routes(routes)
    app.cleanup_ctx.append(_pool_ctx)


async def _pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """The parse processes (started when files arrive) end with the app: closing kills them, parsing or not."""
    yield
    await app[UPLOAD].pool.close()


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "file_too_large", f"the file is larger than {max_bytes} bytes")


def _not_multipart() -> ApiError:
    return ApiError(400, "invalid_payload", "send the file as multipart/form-data, field 'file'")


async def _file_part(request: web.Request) -> BodyPartReader:
    reader = await request.multipart()
    for _ in range(MAX_PARTS):
        part = await reader.next()
        if part is None:
            break
        if isinstance(part, BodyPartReader) and part.name == "file":
            return part
    raise _not_multipart()


async def _read_file(request: web.Request, max_bytes: int) -> tuple[bytes, str]:
    """The ``file`` part's bytes (at most ``max_bytes``) and its name."""
    if request.content_type != "multipart/form-data":
        raise _not_multipart()
    try:
        part = await _file_part(request)
        data = bytearray()
        while chunk := await part.read_chunk(65_536):
            data += chunk
            if len(data) > max_bytes:
                raise Refusal(413, "file_too_large", f"the file is larger than {max_bytes} bytes", close=True)
    except (KeyError, ValueError):  # aiohttp's multipart reader: no boundary, or a body without it
        raise _not_multipart() from None
    return bytes(data), part.filename or ""


def _client_left(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def until_client_leaves(request: web.Request, work: Awaitable[T]) -> T:
    """``work``'s result; cancelled (and :class:`ConnectionResetError`) as soon as the client's connection closes."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL)
            if done:
                return task.result()
            if _client_left(request):
                raise ConnectionResetError("the client left during the parse")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _check_page_request(request: web.Request, upload: CVUpload) -> None:
    """Refuse a foreign page's request before any of its body is read."""
    if not upload.origins.for_request(request):
        raise ApiError(403, "cors_rejected", "origin not allowed")
    name, value = PAGE_HEADER
    if request.headers.get(name) != value:
        raise ApiError(400, "header_required", f"send the header {name}: {value}")


async def _upload(request: web.Request, upload: CVUpload, address: str) -> Document:
    settings = upload.settings
    max_bytes = settings.cv_max_bytes
    _check_page_request(request, upload)
    if not upload.limits.allow(address):
        raise ApiError(429, "rate_limited", "too many uploads; try again in a minute")
    if request.content_length is not None and request.content_length > max_bytes + MULTIPART_OVERHEAD:
        raise Refusal(413, "file_too_large", f"the file is larger than {max_bytes} bytes", close=True)
    with upload.limits.slot():
        try:
            async with asyncio.timeout(settings.cv_body_timeout):
                data, filename = await _read_file(request, max_bytes)
        except TimeoutError:
            raise Refusal(408, "body_timeout", "the upload took too long", close=True) from None
        try:
            return await until_client_leaves(request, upload.pool.parse(data, filename))
        except PoolBusy:
            raise Refusal(503, "server_busy", "every résumé reader is busy; retry shortly", retry_after=settings.cv_parse_wait) from None
        except DocumentError as exc:
            raise ApiError(STATUS.get(exc.code, 422), exc.code, exc.message) from None


@routes.post("/api/v1/resume")
async def upload_cv(request: web.Request) -> web.Response:
    """The text of an uploaded PDF or DOCX résumé: ``{"text", "kind", "pages", "truncated"}``."""
    upload = request.app[UPLOAD]
    address = request.app[CLIENT_ADDRESSES].key(request)  # what the socket caps count (IPv6 per /64)
    try:
        document = await _upload(request, upload, address)
    except ApiError as exc:
        log.info("résumé upload refused: %d %s (client %s)", exc.status, exc.code, address)
        raise
    except ConnectionError:  # the client left: its parse was killed, nobody reads the answer
        log.info("résumé upload abandoned by its client %s", address)
        return web.Response(status=CLIENT_CLOSED)
    return web.json_response(
        {"text": document.text, "kind": document.kind, "pages": document.pages, "truncated": document.truncated}
    )
