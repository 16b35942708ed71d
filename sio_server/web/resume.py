"""``POST /api/v1/resume``: a résumé file (PDF or DOCX) in, its text out; the file is never stored.

The multipart body is read chunk by chunk up to ``RESUME_MAX_BYTES`` (past it
the answer is 413 ``file_too_large`` and nothing more is read), parsed in
memory on a worker thread, at most ``RESUME_PARSE_CONCURRENCY`` at a time, and
each client address may upload ``RESUME_UPLOADS_PER_MINUTE`` files a minute
(429 ``rate_limited``). Parsing rules live in :mod:`sio_server.text.documents`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from aiohttp import BodyPartReader, web

from ..aio.token_bucket import TokenBucket
from ..appkeys import SETTINGS
from ..settings import Settings
from ..text.documents import DocumentError, parse_document
from .admin import ApiError

routes = web.RouteTableDef()
MULTIPART_OVERHEAD = 16_384  # boundaries and part headers on top of the file itself
MAX_PARTS = 4
MAX_CLIENTS = 10_000
STATUS = {"file_too_large": 413, "unsupported_file": 415}


class UploadLimits:
    """Per-address upload buckets (the oldest forgotten past ``MAX_CLIENTS``) and the parsing slots."""

    def __init__(self, per_minute: float, concurrency: int) -> None:
        self.per_minute = per_minute
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self.parsing = asyncio.Semaphore(concurrency)

    def allow(self, address: str) -> bool:
        """Spend one upload of ``address``; False when its minute's share is used up."""
        bucket = self.buckets.pop(address, None) or TokenBucket(self.per_minute / 60, max(1.0, self.per_minute))
        self.buckets[address] = bucket
        while len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        return bucket.take()


LIMITS = web.AppKey("resume_upload_limits", UploadLimits)


def add_resume_upload(app: web.Application, settings: Settings) -> None:
    """Register the route and its limits."""
    app[LIMITS] = UploadLimits(settings.resume_uploads_per_minute, settings.resume_parse_concurrency)
    app.add_routes(routes)


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
                raise _too_large(max_bytes)
    except (KeyError, ValueError):  # aiohttp's multipart reader: no boundary, or a body without it
        raise _not_multipart() from None
    return bytes(data), part.filename or ""


@routes.post("/api/v1/resume")
async def upload_resume(request: web.Request) -> web.Response:
    """The text of an uploaded PDF or DOCX résumé: ``{"text", "pages", "truncated"}``."""
    settings = request.app[SETTINGS]
    max_bytes = settings.resume_max_bytes
    if not request.app[LIMITS].allow(request.remote or "unknown"):
        raise ApiError(429, "rate_limited", "too many uploads from this address; try again in a minute")
    if request.content_length is not None and request.content_length > max_bytes + MULTIPART_OVERHEAD:
        raise _too_large(max_bytes)
    data, filename = await _read_file(request, max_bytes)
    async with request.app[LIMITS].parsing:
        try:
            document = await asyncio.get_running_loop().run_in_executor(
                None, lambda: parse_document(data, filename, max_bytes=max_bytes)
            )
        except DocumentError as exc:
            raise ApiError(STATUS.get(exc.code, 422), exc.code, exc.message) from None
    return web.json_response(
        {"text": document.text, "kind": document.kind, "pages": document.pages, "truncated": document.truncated}
    )
