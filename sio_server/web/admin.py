"""HTTP routes: health, readiness, metrics and the admin/session API.

Bearer tokens are guessed at most ``ADMIN_FAILURES_PER_MINUTE`` times a minute
per client address (:func:`.client_address.client_key`): past that, 429
``rate_limited`` before the token is even compared. ``/metrics`` needs the
admin token unless ``METRICS_PUBLIC`` is set.
"""

from __future__ import annotations

import hmac
import logging
import time

from aiohttp import web

from ..aio.token_bucket import KeyedBuckets
from ..appkeys import CLIENT_ADDRESSES, LISTENER_READY, METRICS, SERVICE, SETTINGS, STORE
from ..domain.errors import InterviewError
from ..domain.ids import parse_session_id
from ..domain.model import Feedback, PendingStep, Session, SessionSummary, Status
from ..domain.tokens import session_id_of, ticket_valid
from ..interview.live import LiveSession
from ..interview.token_lookup import session_for_token
from ..observability.logs import RepeatFilter
from ..settings import Settings
from ..store.base import StoreError

log = logging.getLogger(__name__)
_readiness_log = logging.getLogger(f"{__name__}.readiness")
_readiness_log.addFilter(RepeatFilter(60.0))  # probes come every few seconds: one line a minute
routes = web.RouteTableDef()
FEEDBACK_WAIT = 60.0
AUTH_FAILURES = web.AppKey("auth_failures", KeyedBuckets)


def add_admin_routes(app: web.Application, settings: Settings) -> None:
    """Register the routes and the per-address budget of wrong tokens."""
    app[AUTH_FAILURES] = KeyedBuckets(settings.admin_failures_per_minute)
    app.add_routes(routes)


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
    return bool(
        admin and token and hmac.compare_digest(token.encode("utf-8", "surrogateescape"), admin.encode("utf-8"))
    )


def _check_guesses(request: web.Request) -> None:
    """429 when the request's client sent too many wrong tokens this minute (before any token is compared)."""
    if request.app[AUTH_FAILURES].exhausted(request.app[CLIENT_ADDRESSES].key(request)):
        raise ApiError(429, "rate_limited", "too many wrong tokens from this address; try again in a minute")


def _unauthorized(request: web.Request, message: str) -> ApiError:
    """The 401 answering a wrong or missing token, counted against the client's address."""
    request.app[AUTH_FAILURES].take(request.app[CLIENT_ADDRESSES].key(request))
    return ApiError(401, "unauthorized", message)


def require_admin(request: web.Request) -> None:
    """Raise unless the request carries the admin token."""
    if not request.app[SETTINGS].admin_token:
        raise ApiError(403, "admin_disabled", "the admin API is disabled: ADMIN_TOKEN is not set")
    _check_guesses(request)
    if not _is_admin(request, _bearer(request)):
        raise _unauthorized(request, "missing or wrong bearer token")


def _store_unavailable(exc: StoreError) -> ApiError:
    """The public answer to a store failure: the code only (the detail names paths); the detail is logged."""
    log.warning("store unavailable: %s", exc)
    return ApiError(503, "store_unavailable", "sessions are unavailable; retry")


def _session_id(request: web.Request) -> str:
    session_id = request.match_info["session_id"]
    if parse_session_id(session_id) is None:
        raise ApiError(404, "not_found", "no such session")
    return session_id


async def _live_or_404(request: web.Request, session_id: str) -> LiveSession:
    """The session, taken over by this process (for routes that change it)."""
    try:
        live = await request.app[SERVICE].get(session_id)
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    except InterviewError as exc:
        raise ApiError(503, exc.code, exc.message) from None
    if live is None:
        raise ApiError(404, "not_found", "no such session")
    return live


async def _peek_or_404(request: web.Request, session_id: str) -> Session:
    """The session as held or stored, without taking it over (for reads); 410 when it was purged."""
    try:
        session = await request.app[SERVICE].peek(session_id)
        if session is None and await request.app[SERVICE].tombstone(session_id) is not None:
            raise ApiError(410, "expired", "this session was deleted after its retention period")
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    if session is None:
        raise ApiError(404, "not_found", "no such session")
    return session


async def require_admin_or_session(request: web.Request) -> Session:
    """Authenticate with the admin token or the session's own resume token; return the session (read only)."""
    _check_guesses(request)
    token = _bearer(request)
    if token is None:
        raise _unauthorized(request, "missing bearer token")
    if _is_admin(request, token):
        return await _peek_or_404(request, _session_id(request))
    try:
        session = await session_for_token(request.app[SERVICE].peek, token)  # same work for unknown ids
        if session is None and session_id_of(token) == request.match_info["session_id"]:
            await request.app[SERVICE].check_purged(token)
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    except InterviewError as exc:  # expired: the session was purged after its report retention
        raise ApiError(410, exc.code, exc.message) from None
    if session is None or session.id != request.match_info["session_id"]:
        raise _unauthorized(request, "wrong bearer token")
    return session


async def require_report_ticket(request: web.Request, ticket: str, max_age_s: int) -> Session:
    """The session whose HTML report ``ticket`` (from ``POST …/report-link``) opens; 401 when it is wrong or expired."""
    _check_guesses(request)
    try:
        session: Session | None = await _peek_or_404(request, _session_id(request))
    except ApiError as exc:
        if exc.status != 404:
            raise
        session = None  # an unknown id is answered as a wrong ticket is
    if session is None or not ticket_valid(ticket, session.token_hash, session.id, time.time(), max_age_s):
        raise _unauthorized(request, "wrong or expired report link; open the report again from the page")
    return session


def session_view(session: Session) -> dict:
    """The whole session as JSON, without token material or the client key."""
    return session.model_dump(mode="json", exclude={"token_hash", "client_key"})


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
        checks["store"] = "error: store_unavailable"
        _readiness_log.warning("readiness: store not ready: %s", exc)
    if request.app[SETTINGS].redis_url:
        checks["leases"] = await request.app[SERVICE].leases.check()
        subscribed = request.app[LISTENER_READY]()
        checks["socketio_listener"] = "ok" if subscribed else "error: the Redis manager's listener is not subscribed"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; with the admin token unless ``METRICS_PUBLIC``."""
    if not request.app[SETTINGS].metrics_public:
        require_admin(request)
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
        raise _store_unavailable(exc) from None
    fields = {"session_id", "status", "language", "mode", "questions_asked", "max_questions", "created_at", "updated_at"}
    return web.json_response({"sessions": [s.model_dump(mode="json", include=fields) for s in summaries]})


@routes.get("/api/v1/sessions/{session_id}")
async def get_session(request: web.Request) -> web.Response:
    """Admin: the whole session."""
    require_admin(request)
    return web.json_response(session_view(await _peek_or_404(request, _session_id(request))))


async def _feedback_response(request: web.Request, session_id: str) -> web.Response:
    """Wait (bounded) for the feedback of a session this process has taken over."""
    service = request.app[SERVICE]
    live = await _live_or_404(request, session_id)
    try:
        feedback = await service.wait_feedback(live, FEEDBACK_WAIT)
    except TimeoutError:
        raise ApiError(503, "feedback_pending", "the feedback is still being written; retry") from None
    except InterviewError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    finally:
        service.release(live)
    return _feedback_json(session_id, feedback)


def _feedback_json(session_id: str, feedback: Feedback) -> web.Response:
    """The feedback as the API answers it: the session id and the feedback's fields."""
    return web.json_response({"session_id": session_id, **feedback.model_dump(mode="json")})


@routes.get("/api/v1/sessions/{session_id}/feedback")
async def get_feedback(request: web.Request) -> web.Response:
    """Admin or session: the feedback; 409 while the interview is still active."""
    session = await require_admin_or_session(request)
    if session.feedback is not None:
        return _feedback_json(session.id, session.feedback)
    if session.pending is PendingStep.FEEDBACK:
        return await _feedback_response(request, session.id)
    if session.status is Status.ACTIVE:
        raise ApiError(409, "session_active", "the interview has not ended yet")
    raise ApiError(404, "not_found", "this session ended without feedback")


@routes.post("/api/v1/sessions/{session_id}/end")
async def end_session(request: web.Request) -> web.Response:
    """Admin or session: end the interview as ``end_interview`` does; answers the feedback."""
    session = await require_admin_or_session(request)
    if session.feedback is not None:
        return _feedback_json(session.id, session.feedback)
    if session.status is Status.ENDED:
        raise ApiError(409, "no_feedback", "this session ended without feedback")
    service = request.app[SERVICE]
    live = await _live_or_404(request, session.id)
    try:
        await service.end(live, reason="ended_by_api")
    except InterviewError as exc:
        raise ApiError(503 if exc.code == "store_unavailable" else 409, exc.code, exc.message) from None
    finally:
        service.release(live)
    return await _feedback_response(request, session.id)


@routes.delete("/api/v1/sessions/{session_id}")
async def delete_session(request: web.Request) -> web.Response:
    """Admin: delete the session everywhere."""
    require_admin(request)
    session_id = _session_id(request)
    try:
        existed = await request.app[SERVICE].delete(session_id)
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    if not existed:
        raise ApiError(404, "not_found", "no such session")
    return web.Response(status=204)


@routes.get("/api/v1/maintenance/store")
async def store_counts(request: web.Request) -> web.Response:
    """Admin: how many sessions and tombstones the store keeps now."""
    require_admin(request)
    store = request.app[STORE]
    try:
        counts = {"sessions": await store.count(), "tombstones": await store.count_tombstones()}
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    return web.json_response(counts)


@routes.post("/api/v1/maintenance/cleanup")
async def cleanup(request: web.Request) -> web.Response:
    """Admin: run the TTL sweep now."""
    require_admin(request)
    try:
        result = await request.app[SERVICE].sweep()
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    return web.json_response(result)


def error_response(exc: Exception) -> web.Response | None:
    """The JSON error body answering ``exc`` (see :mod:`.middleware`); None for an HTTP redirect or success.

    Anything but an :class:`ApiError` or an aiohttp HTTP error is an unexpected
    failure: ``internal_error`` (the caller logs the traceback).
    """
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            return None
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status, "http_error")
        return ApiError(exc.status, code, exc.reason).response()
    return ApiError(500, "internal_error", "the server failed to handle this request").response()
