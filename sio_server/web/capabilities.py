"""``GET /api/v1/capabilities``: which interview modes work on this server, for the page before Start."""

from __future__ import annotations

from typing import get_args

from aiohttp import web

from ..appkeys import SERVICE
from ..domain.model import Language
from ..vendors.voice_modes import capabilities

routes = web.RouteTableDef()
LANGUAGES = get_args(Language)


@routes.get("/api/v1/capabilities")
async def get_capabilities(request: web.Request) -> web.Response:
    """Spoken questions, voice answers and hands-free answers (available, languages, providers) and the audio to send (no auth)."""
    service = request.app[SERVICE]
    answer = capabilities(service.tts, service.stt, LANGUAGES, service.vad)
    return web.json_response(answer.model_dump(), headers={"Cache-Control": "no-cache"})
