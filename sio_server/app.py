"""The application factory: aiohttp + python-socketio, with resources in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from .appkeys import CLIENT_ADDRESSES, LISTENER_READY, METRICS, SERVICE, SETTINGS, SIO, STORE
from .cluster.factory import make_leases
from .cluster_watch import watch_cluster
from .heap import HeapTrimmer, libc_malloc_trim
from .interview.audio_budget import AudioBudget
from .interview.build import ServicePolicy, build_service
from .interview.quota import QuotaPolicy
from .interview.service import InterviewService
from .interview.spend import SpendPolicy
from .interview.sweeper import SweepPolicy
from .interview.voice_turns import VoicePolicy
from .net.client_address import ClientAddress
from .observability.metrics import Metrics
from .settings import Hooks, Settings
from .store import make_store
from .store.base import SessionStore
from .transport.admission import socket_guards
from .transport.namespace import InterviewNamespace, SocketEmitter
from .transport.protocol import NAMESPACE
from .transport.redis_manager import listener_subscribed, make_client_manager
from .transport.upstream import InterviewSocketServer, start_manager
from .vendors import make_llm, make_stt, make_tts
from .vendors.llm import LLMProvider
from .vendors.options import RETRY_LISTENERS
from .vendors.plugins import offline
from .vendors.vad import make_vad_pool
from .web import admin, capabilities, cv_upload, pages, report, security_headers
from .web.cors import OriginPolicy, replit_origins
from .web.middleware import app_middleware

log = logging.getLogger(__name__)

NAMESPACE_HANDLERS = web.AppKey("namespace", InterviewNamespace)


def create_app(
    settings: Settings,
    *,
    store: SessionStore | None = None,
    llm: LLMProvider | None = None,
) -> web.Application:
    """Build the aiohttp application with the Socket.IO server attached.

    ``store`` and ``llm`` default to what ``settings`` selects; tests may pass
    their own (``llm`` then replaces the LLM vendors, before the offline link).
    """
    metrics = Metrics()
    addresses = ClientAddress.from_settings(settings)
    origins = OriginPolicy(settings.cors_origins(offline(settings)), extra=replit_origins())
    app = web.Application(
        middlewares=[app_middleware(origins)],
        client_max_size=settings.max_message_bytes,
    )
    sio = InterviewSocketServer(
        async_mode="aiohttp",
        client_manager=make_client_manager(settings),
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        max_http_buffer_size=settings.max_message_bytes,
        max_attachments=settings.max_attachments,
        max_packet_bytes=settings.max_message_bytes,
        on_violation=lambda kind: metrics.malformed.labels(kind).inc(),
        ws_compression=settings.ws_compression,
        cors_allowed_origins=origins.for_engineio,
        # Under --workers a long-polling session would meet a different worker on most requests (the workers share
        # one accept queue: connections, not Engine.IO sessions): every worker refuses polling alike, so clients
        # use websocket.
        transports=["websocket"] if settings.workers > 1 else None,
        logger=False,
        engineio_logger=False,
        **socket_guards(settings, addresses),
    )
    store = store or make_store(settings)
    service = _make_service(settings, store, llm, SocketEmitter(sio), metrics)
    sio.admission.active_sessions = lambda: len(service.live)
    namespace = InterviewNamespace(service, settings, metrics)
    sio.register_namespace(namespace)
    sio.attach(app, socketio_path="socket.io")

    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[CLIENT_ADDRESSES] = addresses
    app[STORE] = store
    app[SERVICE] = service
    app[SIO] = sio
    app[NAMESPACE_HANDLERS] = namespace
    app[LISTENER_READY] = lambda: listener_subscribed(sio)
    admin.add_admin_routes(app, settings)
    app.add_routes(report.routes)
    app.add_routes(capabilities.routes)
    cv_upload.add_cv_upload(app, settings, origins)
    pages.add_static(app)
    security_headers.install(app)
    app.cleanup_ctx.append(_executor_ctx)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_background_ctx)
    app.on_shutdown.append(_announce_shutdown)
    return app


def _make_service(
    settings: Settings, store: SessionStore, llm: LLMProvider | None, emitter: SocketEmitter, metrics: Metrics
) -> InterviewService:
    """The interview service with the vendors, leases and sweep policy ``settings`` select."""
    policy = ServicePolicy(
        audio_queue_chunks=settings.audio_queue_chunks,
        pipelining=Hooks().tts_pipelining,
        tts_backlog_bytes=settings.tts_socket_backlog_bytes,
        slow_notice=settings.question_slow_notice,
        voice=VoicePolicy(
            end_silence_s=settings.answer_end_silence_ms / 1000,
            notice_s=settings.answer_end_notice_ms / 1000,
            min_words=settings.answer_min_words,
            min_speech_s=settings.answer_min_speech_ms / 1000,
            time_limit_grace_s=settings.answer_time_limit_grace_ms / 1000,
            preemptive_stable_s=settings.preemptive_stable_ms / 1000,
            finalize_timeout=settings.stt_finalize_timeout,
            false_interruption_s=settings.false_interruption_ms / 1000,
            stt_buffer_bytes=settings.stt_buffer_bytes,
        ),
        sweep=SweepPolicy(
            session_ttl=settings.session_ttl,
            abandoned_ttl=settings.abandoned_ttl,
            report_retention=settings.report_retention,
            unanswered_ttl=settings.unanswered_ttl,
            tombstone_retention=settings.tombstone_retention,
            interval=settings.sweep_interval,
        ),
        quota=QuotaPolicy(
            max_sessions=settings.max_stored_sessions,
            max_per_client=settings.max_stored_sessions_per_client,
            unanswered_ttl=settings.unanswered_ttl,
            min_retention=settings.report_min_retention,
        ),
        spend=SpendPolicy(
            max_drafts=settings.preemptive_max_drafts,
            draft_min_new_words=settings.preemptive_min_new_words,
            llm_calls=settings.session_llm_calls,
            tts_chars=settings.session_tts_chars,
            tts_seconds=settings.session_tts_seconds,
            audio_factor=settings.audio_realtime_factor,
            audio_burst_s=settings.audio_burst_seconds,
            webm_bitrate=settings.audio_webm_bitrate,
            stt_streams_per_answer=settings.stt_streams_per_answer,
            stt_cooldown_s=settings.stt_empty_cooldown_ms / 1000,
        ),
    )
    return build_service(
        store,
        make_llm(settings, llm),
        emitter,
        policy,
        tts=make_tts(settings),
        stt=make_stt(settings),
        vad=make_vad_pool(settings.vad, settings.vad_threshold),
        metrics=metrics,
        leases=make_leases(settings),
        audio_budget=AudioBudget(settings.audio_buffer_bytes),
    )


async def _announce_shutdown(app: web.Application) -> None:
    """On SIGTERM (after the listener stopped accepting): warn every socket, let running turns finish.

    Turns that do not finish within ``SHUTDOWN_GRACE`` stay pending in the store
    and are finished by the next process; clients reconnect by themselves when
    the connections close.
    """
    settings = app[SETTINGS]
    await app[SIO].emit(
        "server_shutdown", {"reconnect_after_ms": int(settings.shutdown_grace * 1000) + 500}, namespace=NAMESPACE
    )
    await app[SERVICE].drain(settings.shutdown_grace)


async def _executor_ctx(app: web.Application) -> AsyncIterator[None]:
    """A default executor big enough that file I/O does not queue behind DNS look-ups."""
    executor = ThreadPoolExecutor(max_workers=app[SETTINGS].io_threads, thread_name_prefix="io")
    asyncio.get_running_loop().set_default_executor(executor)
    yield
    executor.shutdown(wait=False, cancel_futures=True)


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    RETRY_LISTENERS.add(app[METRICS].count_retry)
    await app[STORE].open()
    await service.leases.open(service.hand_over)
    start_manager(app[SIO])
    watcher = asyncio.create_task(watch_cluster(app[SIO], service, app[METRICS], app[SETTINGS]), name="cluster-watch")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    RETRY_LISTENERS.discard(app[METRICS].count_retry)
    await service.close()
    await service.leases.close()
    await app[STORE].close()


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    """The TTL sweeper and the heap trimmer run while the app does; at cleanup, the namespace's replays and
    disconnects end too."""
    interval = app[SETTINGS].memory_trim_interval
    trimmer = HeapTrimmer(interval, libc_malloc_trim() if interval > 0 else None, app[METRICS].heap_trim.observe)
    app[SERVICE].sweeper.start()
    trimmer.start()
    yield
    await trimmer.stop()
    await app[SERVICE].sweeper.stop()
    await app[NAMESPACE_HANDLERS].close()


__all__ = ["create_app", "NAMESPACE"]
