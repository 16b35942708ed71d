"""Prometheus metrics of one server process (own registry, so tests can build many apps)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest


class Metrics:
    """Every metric the server exports, registered in a private registry."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.sockets_connected = Gauge("interview_sockets_connected", "Connected Socket.IO clients", registry=r)
        self.sessions_live = Gauge("interview_sessions_live", "Sessions held in memory", registry=r)
        self.sessions_started = Counter("interview_sessions_started", "Sessions started", registry=r)
        self.sessions_resumed = Counter("interview_sessions_resumed", "Sockets re-bound to a session", registry=r)
        self.sessions_ended = Counter("interview_sessions_ended", "Sessions ended", ["reason"], registry=r)
        self.turns = Counter("interview_turns", "Answers recorded", registry=r)
        self.questions = Counter("interview_questions", "Questions asked", ["fallback"], registry=r)
        self.resume_latency = Histogram(
            "interview_resume_seconds",
            "Time to bind a resuming socket and replay its events",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.store_write = Histogram(
            "interview_store_write_seconds",
            "Session save latency",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=r,
        )
        self.heap_trim = Histogram(
            "interview_heap_trim_seconds",
            "Time one malloc_trim took on its worker thread (it holds the allocator's arena locks meanwhile)",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
            registry=r,
        )
        self.store_errors = Counter("interview_store_errors", "Failed store operations", ["op"], registry=r)
        self.rejected = Counter("interview_rejected_inputs", "Client inputs refused, by error code", ["code"], registry=r)
        self.malformed = Counter(
            "interview_malformed_packets", "Connections closed for a malformed or oversized packet", ["kind"], registry=r
        )
        self.rate_limited = Counter("interview_rate_limited", "Inputs refused by a rate limit", ["kind"], registry=r)
        self.audio_dropped = Counter("interview_audio_dropped_chunks", "Inbound audio chunks dropped", registry=r)
        self.tts_dropped = Counter(
            "interview_tts_dropped_sentences", "TTS sentences cut short because the client read too slowly", registry=r
        )
        self.pipeline_stage = Histogram(
            "interview_pipeline_stage_seconds",
            "Time each stage of a question's pipeline ran (llm, sentences, tts), by outcome",
            ["stage", "outcome"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=r,
        )
        self.vendor_seconds = Histogram(
            "interview_vendor_seconds",
            "Vendor stage latency: LLM first token and total, TTS first byte, STT final",
            ["vendor", "stage", "outcome"],
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
            registry=r,
        )
        self.vendor_retries = Counter("interview_vendor_retries", "Vendor calls retried", ["vendor"], registry=r)
        self.budget_refusals = Counter(
            "interview_budget_refusals",
            "Work refused, dropped or sent to the offline provider by a spend budget, by budget name",
            ["budget"],
            registry=r,
        )
        self.llm_fallbacks = Counter("interview_llm_fallbacks", "Offline fallbacks after an LLM failure", ["kind"], registry=r)
        self.lease_takeovers = Counter(
            "interview_lease_takeovers", "Sessions taken over from another process", registry=r
        )
        self.lease_handovers = Counter("interview_lease_handovers", "Sessions handed to another process", registry=r)
        self.process = Info("interview_process", "This process (under --workers: which worker answered)", registry=r)
        self.process.info({"pid": str(os.getpid())})
        self.listener_restarts = Counter(
            "interview_redis_listener_restarts", "Times the Redis manager's listener was restarted", registry=r
        )
        self.swept = Counter("interview_swept_sessions", "Sessions handled by the TTL sweeper", ["action"], registry=r)
        self.stored = Gauge("interview_stored_sessions", "Sessions in the store, as of the last sweep", registry=r)
        self.tombstones = Gauge("interview_tombstones", "Tombstones in the store, as of the last sweep", registry=r)

    @contextlib.contextmanager
    def stage(self, name: str, started: float | None = None) -> Iterator[StageRun]:
        """Time a stage of a question's pipeline into ``interview_pipeline_stage_seconds{stage, outcome}``.

        ``started``: a ``time.perf_counter()`` reading when the stage began before the block (a speech
        starts with its question and ends in another task). The outcome is ``ok`` unless the block sets
        ``run.outcome`` or raises (``cancelled`` for a cancellation, else ``failed``).
        """
        run = StageRun(started if started is not None else time.perf_counter())
        try:
            yield run
        except asyncio.CancelledError:
            run.outcome = "cancelled"
            raise
        except BaseException:
            run.outcome = "failed"
            raise
        finally:
            self.pipeline_stage.labels(name, run.outcome).observe(time.perf_counter() - run.started)

    def count_retry(self, vendor: str) -> None:
        """Count a retry of a call to the provider named ``vendor`` (its own ``name``)."""
        self.vendor_retries.labels(vendor).inc()

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


class StageRun:
    """One timed run of a pipeline stage (see :meth:`Metrics.stage`)."""

    __slots__ = ("started", "outcome")

    def __init__(self, started: float) -> None:
        self.started = started
        self.outcome = "ok"
