"""Server settings: the core's variables of PROTOCOL.md, read from the environment or ``.env``.

A vendor's own variables (keys, base URLs, models) are declared in its module
(:mod:`sio_server.vendors.plugins`); a value given here by such a variable's
name (``Settings(openai_api_key=...)``) is kept as an extra and handed to that
vendor. Test and comparison hooks are in :class:`Hooks`, not here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ADMIN_TOKEN_MIN_LENGTH = 32


def cv_alias(name: str) -> AliasChoices:
    """The variables of a CV (résumé) upload setting: ``name`` (``CV_MAX_BYTES``) and, still read, its name
    before issue 22 (``RESUME_MAX_BYTES``; ``resume_max_bytes`` for ``Settings(...)``). The new name wins."""
    old = "RESUME_" + name.removeprefix("CV_")
    return AliasChoices(name, old, old.lower())


class Settings(BaseSettings):
    """One place for configuration; ``create_app(Settings(...))`` in tests."""

    # extra="allow": vendor variables given by name reach the vendor's settings (VendorSettings.from_core)
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="allow", case_sensitive=False, populate_by_name=True
    )

    # -- where it listens and keeps its data -----------------------------------------------------------------
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: str = "./data"
    database_url: str | None = None
    database_schema: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    redis_url: str | None = None

    # -- http: sockets, requests, origins, admin -------------------------------------------------------------
    ping_interval: float = Field(default=20, gt=0)
    ping_timeout: float = Field(default=20, gt=0)
    ws_compression: bool = Field(
        default=False, description="accept websocket permessage-deflate (about 100 KiB of zlib state per socket)"
    )
    io_threads: int = Field(default=32, ge=1, description="threads for file I/O and DNS (asyncio's default executor)")
    max_message_bytes: int = Field(default=524288, ge=1024, description="one message, and one binary packet assembled")
    max_attachments: int = Field(default=1, ge=1, description="binary attachments one Socket.IO packet may announce")
    http_idle_timeout: float = Field(default=10.0, gt=0, description="seconds an idle or half-sent HTTP request may hold a connection")
    listen_backlog: int = Field(
        default=4096, ge=16, le=65535, description="connections the kernel queues for accept() (capped by net.core.somaxconn)"
    )
    http_body_timeout: float = Field(default=10.0, gt=0, description="seconds to receive a whole long-polling body")
    descriptor_reserve: int = Field(default=64, ge=8, description="file descriptors kept free of sockets")
    malformed_log_interval: float = Field(default=60.0, gt=0, description="seconds between two log lines about one socket's malformed packets")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of your reverse proxies, whose X-Forwarded-For is believed "
        "(none by default: the TCP peer is the client)",
    )
    cors_allowed_origins: str | None = Field(
        default=None, description="comma-separated origins or '*'; unset: '*' offline, else same origin"
    )
    admin_token: str | None = Field(
        default=None, description=f"bearer token of the admin API and /metrics, at least {ADMIN_TOKEN_MIN_LENGTH} characters"
    )
    metrics_public: bool = Field(
        default=False, description="serve /metrics to anyone; false: only with the admin token (Bearer ADMIN_TOKEN)"
    )
    admin_failures_per_minute: float = Field(
        default=5, gt=0, description="wrong admin or session bearer tokens one client address may send a minute (then 429)"
    )

    # -- limits: what one client, one session and the process may use ----------------------------------------
    max_sockets: int = Field(default=10_000, ge=1, description="concurrent Engine.IO sockets in this process")
    max_sockets_per_client: int = Field(default=20, ge=1, description="concurrent sockets from one client address")
    sessions_per_client_per_minute: int = Field(default=10, ge=1, description="interviews one client address may start a minute")
    max_active_sessions: int = Field(default=2000, ge=1, description="sessions held in memory by this process")
    rate_events_per_second: float = Field(default=20, gt=0, description="client events per socket per second")
    rate_audio_bytes_per_second: float = Field(default=256_000, gt=0, description="audio bytes per socket per second")
    audio_queue_chunks: int = Field(default=100, ge=1)
    audio_chunk_max_bytes: int = Field(default=65536, ge=1)
    audio_buffer_bytes: int = Field(default=64 << 20, ge=65536, description="inbound audio buffered by the whole process")
    audio_realtime_factor: float = Field(
        default=1.25, ge=1.0, description="audio accepted per session, in multiples of its declared format's real time"
    )
    audio_burst_seconds: float = Field(default=2.0, gt=0, description="seconds of real-time audio a session may send ahead")
    audio_webm_bitrate: int = Field(default=128_000, ge=8000, description="bits per second assumed for webm/opus audio")
    session_llm_calls: int = Field(default=40, ge=1, description="vendor LLM calls one session may make (questions, feedback, drafts)")
    session_tts_chars: int = Field(default=12_000, ge=0, description="characters one session may send to TTS vendors")
    session_tts_seconds: float = Field(default=900, ge=0, description="seconds of vendor speech one session may receive")
    llm_max_concurrent: int = Field(default=64, ge=1, description="vendor LLM calls running at once in this process")
    llm_calls_per_minute: int = Field(default=600, ge=1, description="vendor LLM calls this process may start a minute")
    stt_streams_per_answer: int = Field(default=8, ge=1, description="STT streams one answer may open")
    stt_empty_cooldown_ms: int = Field(default=2000, ge=0, description="no new STT stream this long after an empty answer_end")

    # -- CV (résumé) uploads, POST /api/v1/resume: CV_* variables; the RESUME_* names they had are still read --
    cv_max_bytes: int = Field(
        default=2_000_000, ge=1024, validation_alias=cv_alias("CV_MAX_BYTES"),
        description="largest CV file /api/v1/resume reads",
    )
    cv_uploads_per_minute: float = Field(
        default=10, gt=0, validation_alias=cv_alias("CV_UPLOADS_PER_MINUTE"), description="CV uploads per client address"
    )
    cv_parse_concurrency: int = Field(
        default=2, ge=1, validation_alias=cv_alias("CV_PARSE_CONCURRENCY"), description="CV files parsed at the same time"
    )
    cv_parse_memory_bytes: int = Field(
        default=256 << 20, ge=64 << 20, validation_alias=cv_alias("CV_PARSE_MEMORY_BYTES"),
        description="address space (RLIMIT_AS) of each CV parse process",
    )
    cv_parse_cpu_seconds: float = Field(
        default=8.0, gt=0, validation_alias=cv_alias("CV_PARSE_CPU_SECONDS"),
        description="CPU seconds one CV parse may use (RLIMIT_CPU)",
    )
    cv_parse_timeout: float = Field(
        default=12.0, gt=0, validation_alias=cv_alias("CV_PARSE_TIMEOUT"),
        description="seconds one CV parse may take before it is killed",
    )
    cv_parse_wait: float = Field(
        default=8.0, ge=0, validation_alias=cv_alias("CV_PARSE_WAIT"),
        description="seconds an upload waits for a free parse process before 503 busy",
    )
    cv_body_timeout: float = Field(
        default=20.0, gt=0, validation_alias=cv_alias("CV_BODY_TIMEOUT"),
        description="seconds to receive a whole CV upload body",
    )
    cv_uploads_in_flight: int = Field(
        default=8, ge=1, validation_alias=cv_alias("CV_UPLOADS_IN_FLIGHT"),
        description="CV uploads the process handles at once (reading or parsing); more get 503 busy",
    )
    cv_uploads_per_minute_total: float = Field(
        default=60, gt=0, validation_alias=cv_alias("CV_UPLOADS_PER_MINUTE_TOTAL"),
        description="CV uploads per minute from all clients together",
    )

    # -- retention: how long sessions and reports are kept ---------------------------------------------------
    max_stored_sessions: int = Field(
        default=5000, ge=1, description="sessions the store keeps; past it the oldest ended ones are purged first"
    )
    max_stored_sessions_per_client: int = Field(
        default=10, ge=1, description="active sessions one client address may have stored; past it starts are refused"
    )
    unanswered_ttl: float = Field(
        default=3600, gt=0, description="seconds a never-answered session nobody is connected to is kept before it is purged"
    )
    report_min_retention: float = Field(
        default=604_800, ge=0, description="seconds an ended report is never purged to make room for a new session"
    )
    tombstone_retention: float = Field(
        default=31_536_000, gt=0, description="seconds a purged session's tombstone answers 'expired'; then its token is unknown"
    )
    session_ttl: float = Field(default=3600, gt=0)
    abandoned_ttl: float = Field(default=86400, gt=0)
    report_retention: float = Field(
        default=2_592_000, gt=0, description="seconds an ended session stays readable before it is purged"
    )
    sweep_interval: float = Field(default=60, gt=0, description="seconds between TTL sweeps")
    memory_trim_interval: float = Field(
        default=5, ge=0, description="seconds between handing freed heap pages back to the OS (glibc malloc_trim; 0: never)"
    )
    store_free_margin_bytes: int = Field(default=512 << 10, ge=0, description="free disk /readyz requires under DATA_DIR")

    # -- vendor chains: which providers, how hard each kind is tried (a vendor's own settings are in its module) ---
    llm_provider: str | None = Field(
        default=None, description="the LLM vendor tried first (a registered name, or 'offline'); unset: keyed vendors in order"
    )
    llm_providers: str | None = Field(
        default=None, description="LLM chain, e.g. 'openai,gemini,offline'; unset: LLM_PROVIDER first, then keyed vendors"
    )
    tts_providers: str | None = Field(default=None, description="TTS chain, e.g. 'elevenlabs,openai'; unset: keyed vendors")
    stt_providers: str | None = Field(default=None, description="STT chain, e.g. 'deepgram,openai'; unset: keyed vendors")
    vendor_breaker_failures: int = Field(default=3, ge=0, description="consecutive failures that open a breaker (0: never)")
    vendor_breaker_cooldown: float = Field(default=30.0, gt=0, description="seconds a failing vendor is skipped")
    llm_timeout: float = Field(default=30, gt=0)
    llm_question_deadline: float = Field(default=25, gt=0)
    llm_max_tries: int = Field(default=3, ge=1)
    llm_feedback_deadline: float = Field(default=30, gt=0, description="seconds for the vendors' feedback, retries included")
    llm_retry_base: float = Field(default=1.0, ge=0, description="first LLM retry wait (s), doubling each try")
    llm_retry_max: float = Field(default=10.0, ge=0, description="longest LLM retry wait (s)")
    tts_max_tries: int = Field(default=3, ge=1)
    tts_timeout: float = Field(default=15.0, gt=0)
    tts_retry_base: float = Field(default=0.5, ge=0, description="first TTS retry wait (s), doubling each try")
    tts_retry_max: float = Field(default=5.0, ge=0, description="longest TTS retry wait (s)")
    tts_question_deadline: float = Field(
        default=10.0,
        gt=0,
        description="seconds a TTS provider has to send a sentence's first byte; past it the provider counts as failed "
        "and is not asked again for that question (no provider left: the question's audio ends, tts_end ok: false)",
    )
    tts_socket_backlog_bytes: int = Field(default=1 << 20, ge=1024, description="TTS audio allowed to wait for one socket")
    stt_max_tries: int = Field(default=3, ge=1)
    stt_timeout: float = Field(default=10.0, gt=0)
    stt_retry_base: float = Field(default=0.5, ge=0, description="first STT retry wait (s), doubling each try")
    stt_retry_max: float = Field(default=5.0, ge=0, description="longest STT retry wait (s)")
    stt_finalize_timeout: float = Field(default=5.0, gt=0)
    stt_keepalive_interval: float = Field(default=3.0, gt=0)
    stt_buffer_bytes: int = Field(default=2_000_000, ge=1024, description="per-answer audio kept for STT reconnects")

    # -- voice: turn-taking of spoken interviews -------------------------------------------------------------
    question_slow_notice: float = Field(
        default=4.0, ge=0, description="seconds a question or the feedback may take before warning llm_slow (0: never)"
    )
    answer_end_silence_ms: int = Field(default=2500, ge=1000, le=30_000, description="silence that ends a spoken answer (auto)")
    answer_end_notice_ms: int = Field(default=1000, ge=100, description="silence before answer_ending is sent (auto)")
    answer_min_words: int = Field(default=3, ge=0, description="words heard before an answer may end by itself")
    vad: Literal["silero", "webrtc", "off"] = Field(
        default="silero",
        description="server-side voice activity detector of linear16 answers (silero falls back to webrtc if it cannot load)",
    )
    vad_threshold: float = Field(default=0.5, gt=0, lt=1, description="silero speech probability that counts as speech")
    answer_min_speech_ms: int = Field(
        default=1000, ge=0, description="speech the VAD hears before an answer may end by itself (or ANSWER_MIN_WORDS words)"
    )
    answer_time_limit_grace_ms: int = Field(default=1000, ge=0, description="the server enforces a time limit this late")
    interruption_min_ms: int = Field(default=500, ge=0, description="speech over a question shorter than this is noise")
    false_interruption_ms: int = Field(default=1500, ge=100, description="no words this long after an interrupt: resume")
    preemptive_stable_ms: int = Field(default=800, ge=0, description="stable transcript before drafting the next question (0: off)")
    preemptive_max_drafts: int = Field(default=2, ge=0, description="drafts of the next question per answer (0: no drafting)")
    preemptive_min_new_words: int = Field(default=4, ge=1, description="words the transcript must grow by before another draft")

    # -- cluster: several processes --------------------------------------------------------------------------
    lease_ttl: float = Field(default=5.0, gt=0.5, description="seconds a session lease lives without renewal")
    lease_liveness_ttl: float = Field(
        default=1.5, gt=0.2, description="seconds a process's liveness key lives without renewal (renewed every third of "
        "it); a lease whose holder's key is gone is taken at once (failover)"
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="server processes accepting from one listening socket, forked by a "
        "supervisor; more than 1 needs REDIS_URL (python -m sio_server --workers N sets it too)"
    )
    shutdown_grace: float = Field(default=2.5, ge=0, description="seconds SIGTERM waits for in-flight turns")

    # -- logs ------------------------------------------------------------------------------------------------
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    # -- process ---------------------------------------------------------------------------------------------
    event_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        default="auto", description="the server's event loop: auto = uvloop when installed (the fast extra), else "
        "asyncio's; uvloop refuses to start without it"
    )

    @field_validator("admin_token")
    @classmethod
    def _strong_admin_token(cls, token: str | None) -> str | None:
        if not token:
            return None  # empty: the admin API is disabled, as when unset
        if len(token) < ADMIN_TOKEN_MIN_LENGTH:
            raise ValueError(
                f"ADMIN_TOKEN must be at least {ADMIN_TOKEN_MIN_LENGTH} characters (it has {len(token)}); make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))', or unset it to disable the admin API"
            )
        return token

    def cors_origins(self, offline: bool) -> str | list[str] | None:
        """The origins for python-socketio and the HTTP middleware.

        ``"*"`` for any origin, a list of origins, or None for same-origin only
        (the server's own host and Replit's public domains): the default as
        soon as any vendor key is set. ``offline`` (no vendor key set) comes
        from the vendor registry: :func:`sio_server.vendors.plugins.offline`.
        """
        raw = self.cors_allowed_origins
        if raw is None:
            return "*" if offline else None
        raw = raw.strip()
        if raw == "*":
            return "*"
        return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]


class Hooks(BaseSettings):
    """Switches for tests and benchmarks, not configuration: read from the environment only, never from ``.env``."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    tts_pipelining: bool = Field(
        default=True, description="comparison hook: speak each sentence as soon as the LLM has written it (false: wait for the whole question)"
    )
