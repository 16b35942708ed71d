"""OpenAI's error answers, shared by the fake's chat and audio endpoints."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Fault:
    """An error answer for one request."""

    status: int
    retry_after: float | str | None = None
    retry_after_ms: float | None = None
    body: Any = None
    gemini_shape: bool = False


def error_response(fault: Fault) -> web.Response:
    """The JSON error envelope OpenAI (or, with ``gemini_shape``, Gemini's compat layer) sends for ``fault``."""
    headers: dict[str, str] = {"x-request-id": "req_fake"}
    if fault.retry_after is not None:
        headers["retry-after"] = str(fault.retry_after)
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
    if fault.body is not None:
        body = fault.body
    elif fault.gemini_shape:
        status_name = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(fault.status, "INTERNAL")
        body = [{"error": {"code": fault.status, "message": "fake gemini error", "status": status_name}}]
    else:
        kind = {
            400: ("invalid_request_error", None),
            401: ("invalid_request_error", "invalid_api_key"),
            404: ("invalid_request_error", "model_not_found"),
            429: ("requests", "rate_limit_exceeded"),
        }.get(fault.status, ("server_error", None))
        body = {"error": {"message": f"fake error {fault.status}", "type": kind[0], "param": None, "code": kind[1]}}
    return web.json_response(body, status=fault.status, headers=headers)


async def refusal(
    request: web.Request, api_key: str | None, faults: deque[Fault], header_delay: float = 0.0
) -> web.Response | None:
    """What a fake endpoint answers before any work: after ``header_delay`` (a hang), 401 for a wrong
    bearer key, else the next queued fault; None when the request may proceed."""
    if header_delay:
        await asyncio.sleep(header_delay)
    if api_key is not None and request.headers.get("Authorization") != f"Bearer {api_key}":
        return error_response(Fault(401))
    if faults:
        return error_response(faults.popleft())
    return None
