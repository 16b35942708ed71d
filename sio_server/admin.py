"""HTTP routes: health, readiness, metrics and the admin/session API."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from .appkeys import METRICS, SERVICE, SETTINGS, STORE
from .interview.errors import InterviewError
from .interview.ids import parse_session_id
from .interview.model import PendingStep, Session, SessionSummary, Status
from .interview.service import LiveSession
from .interview.tokens import session_id_of, token_matches
from .store.base import StoreError

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
FEEDBACK_WAIT = 60.0


class ApiError(Exception):
    """An HTTP error answered with the ``{"error": {"code", "message"}}`` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        """The JSON error response."""
        return web.json_response({"error": {"code": self.code, "message": self.message}}, status=self.status)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _is_admin(request: web.Request, token: str | None) -> bool:
    admin = request.app[SETTINGS].admin_token
    return bool(admin and token and hmac.compare_digest(token.encode(), admin.encode()))


def require_admin(request: web.Request) -> None:
    """Raise unless the request carries the admin token."""
    if not request.app[SETTINGS].admin_token:
        raise ApiError(403, "admin_disabled", "the admin API is disabled: ADMIN_TOKEN is not set")
    if not _is_admin(request, _bearer(request)):
        raise ApiError(401, "unauthorized", "missing or wrong bearer token")


def _session_id(request: web.Request) -> str:
    session_id = request.match_info["session_id"]
    if parse_session_id(session_id) is None:
        raise ApiError(404, "not_found", "no such session")
    return session_id


async def _live_or_404(request: web.Request, session_id: str) -> LiveSession:
    try:
        live = await request.app[SERVICE].get(session_id)
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", str(exc)) from None
    if live is None:
        raise ApiError(404, "not_found", "no such session")
    return live


async def require_admin_or_session(request: web.Request) -> LiveSession:
    """Authenticate with the admin token or the session's own resume token; return the session."""
    token = _bearer(request)
    if token is None:
        raise ApiError(401, "unauthorized", "missing bearer token")
    if _is_admin(request, token):
        return await _live_or_404(request, _session_id(request))
    route_id = request.match_info["session_id"]
    if session_id_of(token) != route_id or parse_session_id(route_id) is None:
        raise ApiError(401, "unauthorized", "wrong bearer token")
    live = await request.app[SERVICE].get(route_id)
    if live is None or not token_matches(token, live.session.token_hash):
        raise ApiError(401, "unauthorized", "wrong bearer token")
    return live


def session_view(session: Session) -> dict:
    """The whole session as JSON, without token material."""
    return session.model_dump(mode="json", exclude={"token_hash"})


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Readiness: 200 when the store answers, else 503."""
    checks: dict[str, str] = {}
    try:
        await request.app[STORE].ping()
        checks["store"] = "ok"
    except StoreError as exc:
        checks["store"] = f"error: {exc}"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


@routes.get("/api/v1/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    """Admin: summaries of stored sessions, newest first."""
    require_admin(request)
    status_text = request.query.get("status")
    status = None
    if status_text is not None:
        try:
            status = Status(status_text)
        except ValueError:
            raise ApiError(400, "invalid_query", "status must be 'active' or 'ended'") from None
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ApiError(400, "invalid_query", "limit must be an integer") from None
    if not 1 <= limit <= 1000:
        raise ApiError(400, "invalid_query", "limit must be between 1 and 1000")
    try:
        summaries: list[SessionSummary] = await request.app[STORE].list_summaries(status, limit)
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", str(exc)) from None
    fields = {"session_id", "status", "language", "mode", "questions_asked", "max_questions", "created_at", "updated_at"}
    return web.json_response({"sessions": [s.model_dump(mode="json", include=fields) for s in summaries]})


@routes.get("/api/v1/sessions/{session_id}")
async def get_session(request: web.Request) -> web.Response:
    """Admin: the whole session."""
    require_admin(request)
    live = await _live_or_404(request, _session_id(request))
    try:
        return web.json_response(session_view(live.session))
    finally:
        request.app[SERVICE].release(live)


async def _feedback_response(request: web.Request, live: LiveSession) -> web.Response:
    service = request.app[SERVICE]
    try:
        feedback = await service.wait_feedback(live, FEEDBACK_WAIT)
    except TimeoutError:
        raise ApiError(503, "feedback_pending", "the feedback is still being written; retry") from None
    except InterviewError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    return web.json_response({"session_id": live.id, **feedback.model_dump(mode="json")})


@routes.get("/api/v1/sessions/{session_id}/feedback")
async def get_feedback(request: web.Request) -> web.Response:
    """Admin or session: the feedback; 409 while the interview is still active."""
    live = await require_admin_or_session(request)
    try:
        if live.session.feedback is None and live.session.pending is not PendingStep.FEEDBACK:
            if live.session.status is Status.ACTIVE:
                raise ApiError(409, "session_active", "the interview has not ended yet")
            raise ApiError(404, "not_found", "this session ended without feedback")
        return await _feedback_response(request, live)
    finally:
        request.app[SERVICE].release(live)


@routes.post("/api/v1/sessions/{session_id}/end")
async def end_session(request: web.Request) -> web.Response:
    """Admin or session: end the interview as ``end_interview`` does; answers the feedback."""
    live = await require_admin_or_session(request)
    service = request.app[SERVICE]
    try:
        if live.session.status is Status.ENDED and live.session.feedback is None:
            raise ApiError(409, "no_feedback", "this session ended without feedback")
        try:
            await service.end(live, reason="ended_by_api")
        except InterviewError as exc:
            status = 503 if exc.code == "store_unavailable" else 409
            raise ApiError(status, exc.code, exc.message) from None
        return await _feedback_response(request, live)
    finally:
        service.release(live)


@routes.delete("/api/v1/sessions/{session_id}")
async def delete_session(request: web.Request) -> web.Response:
    """Admin: delete the session everywhere."""
    require_admin(request)
    session_id = _session_id(request)
    try:
        existed = await request.app[SERVICE].delete(session_id)
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", str(exc)) from None
    if not existed:
        raise ApiError(404, "not_found", "no such session")
    return web.Response(status=204)


@routes.post("/api/v1/maintenance/cleanup")
async def cleanup(request: web.Request) -> web.Response:
    """Admin: run the TTL sweep now."""
    require_admin(request)
    settings = request.app[SETTINGS]
    try:
        result = await request.app[SERVICE].sweep(settings.session_ttl, settings.abandoned_ttl)
    except StoreError as exc:
        raise ApiError(503, "store_unavailable", str(exc)) from None
    return web.json_response(result)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every HTTP error with the JSON error body (unknown routes included)."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status, "http_error")
        return ApiError(exc.status, code, exc.reason).response()
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return ApiError(500, "internal_error", "the server failed to handle this request").response()
