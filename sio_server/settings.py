"""Server settings: every variable of PROTOCOL.md, read from the environment or ``.env``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ADMIN_TOKEN_MIN_LENGTH = 32


class Settings(BaseSettings):
    """One place for configuration; ``create_app(Settings(...))`` in tests."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: str = "./data"
    database_url: str | None = None
    database_schema: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    redis_url: str | None = None

    ping_interval: float = Field(default=20, gt=0)
    ping_timeout: float = Field(default=20, gt=0)
    max_stored_sessions: int = Field(
        default=5000, ge=1, description="sessions the store keeps; past it the oldest ended ones are purged first"
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
    audio_queue_chunks: int = Field(default=100, ge=1)
    audio_chunk_max_bytes: int = Field(default=65536, ge=1)
    max_message_bytes: int = Field(default=524288, ge=1024, description="one message, and one binary packet assembled")
    max_attachments: int = Field(default=1, ge=1, description="binary attachments one Socket.IO packet may announce")
    ws_compression: bool = Field(
        default=False, description="accept websocket permessage-deflate (about 100 KiB of zlib state per socket)"
    )
    io_threads: int = Field(default=32, ge=1, description="threads for file I/O and DNS (asyncio's default executor)")
    max_sockets: int = Field(default=10_000, ge=1, description="concurrent Engine.IO sockets in this process")
    max_sockets_per_client: int = Field(default=20, ge=1, description="concurrent sockets from one client address")
    sessions_per_client_per_minute: int = Field(default=10, ge=1, description="interviews one client address may start a minute")
    max_active_sessions: int = Field(default=2000, ge=1, description="sessions held in memory by this process")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of your reverse proxies, whose X-Forwarded-For is believed "
        "(none by default: the TCP peer is the client)",
    )
    admin_failures_per_minute: float = Field(
        default=5, gt=0, description="wrong admin or session bearer tokens one client address may send a minute (then 429)"
    )
    metrics_public: bool = Field(
        default=False, description="serve /metrics to anyone; false: only with the admin token (Bearer ADMIN_TOKEN)"
    )
    descriptor_reserve: int = Field(default=64, ge=8, description="file descriptors kept free of sockets")
    http_idle_timeout: float = Field(default=10.0, gt=0, description="seconds an idle or half-sent HTTP request may hold a connection")
    listen_backlog: int = Field(
        default=4096, ge=16, le=65535, description="connections the kernel queues for accept() (capped by net.core.somaxconn)"
    )
    http_body_timeout: float = Field(default=10.0, gt=0, description="seconds to receive a whole long-polling body")
    audio_buffer_bytes: int = Field(default=64 << 20, ge=65536, description="inbound audio buffered by the whole process")
    store_free_margin_bytes: int = Field(default=512 << 10, ge=0, description="free disk /readyz requires under DATA_DIR")
    malformed_log_interval: float = Field(default=60.0, gt=0, description="seconds between two log lines about one socket's malformed packets")

    llm_provider: Literal["openai", "gemini", "offline"] | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    google_api_key: str | None = None
    gemini_base_url: str = "https://generativelanguage.googleapis.com/v1beta/openai/"
    gemini_model: str = "gemini-2.0-flash"
    llm_timeout: float = Field(default=30, gt=0)
    llm_question_deadline: float = Field(default=25, gt=0)
    llm_max_tries: int = Field(default=3, ge=1)
    llm_feedback_deadline: float = Field(default=30, gt=0, description="seconds for the vendors' feedback, retries included")
    llm_retry_base: float = Field(default=1.0, ge=0, description="first LLM retry wait (s), doubling each try")
    llm_retry_max: float = Field(default=10.0, ge=0, description="longest LLM retry wait (s)")
    llm_providers: str | None = Field(
        default=None, description="LLM chain, e.g. 'openai,gemini,offline'; unset: LLM_PROVIDER first, then keyed vendors"
    )
    tts_providers: str | None = Field(default=None, description="TTS chain, e.g. 'elevenlabs,openai'; unset: keyed vendors")
    stt_providers: str | None = Field(default=None, description="STT chain, e.g. 'deepgram,openai'; unset: keyed vendors")
    vendor_breaker_failures: int = Field(default=3, ge=0, description="consecutive failures that open a breaker (0: never)")
    vendor_breaker_cooldown: float = Field(default=30.0, gt=0, description="seconds a failing vendor is skipped")

    elevenlabs_api_key: str | None = None
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_model: str = "eleven_multilingual_v2"
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_tts_voice: str | None = Field(default=None, description="one OpenAI voice for every persona; unset: one per persona")
    openai_stt_model: str = "gpt-4o-mini-transcribe"
    deepgram_api_key: str | None = None
    deepgram_base_url: str = "wss://api.deepgram.com"
    deepgram_model: str = "nova-2"
    deepgram_query: str = Field(
        default="", description="extra /v1/listen query parameters, e.g. 'endpointing=500&filler_words=true'"
    )

    admin_token: str | None = Field(
        default=None, description=f"bearer token of the admin API and /metrics, at least {ADMIN_TOKEN_MIN_LENGTH} characters"
    )
    cors_allowed_origins: str | None = Field(
        default=None, description="comma-separated origins or '*'; unset: '*' offline, else same origin"
    )

    elevenlabs_voice_professional: str | None = Field(default=None, description="unset: the built-in voice")
    elevenlabs_voice_friendly: str | None = None
    elevenlabs_voice_challenging: str | None = None
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
    question_slow_notice: float = Field(
        default=4.0, ge=0, description="seconds a question or the feedback may take before warning llm_slow (0: never)"
    )
    stt_max_tries: int = Field(default=3, ge=1)
    stt_timeout: float = Field(default=10.0, gt=0)
    stt_retry_base: float = Field(default=0.5, ge=0, description="first STT retry wait (s), doubling each try")
    stt_retry_max: float = Field(default=5.0, ge=0, description="longest STT retry wait (s)")
    tts_pipelining: bool = Field(default=True, description="speak each sentence as soon as the LLM has written it")
    tts_socket_backlog_bytes: int = Field(default=1 << 20, ge=1024, description="TTS audio allowed to wait for one socket")
    stt_finalize_timeout: float = Field(default=5.0, gt=0)
    stt_keepalive_interval: float = Field(default=3.0, gt=0)
    stt_buffer_bytes: int = Field(default=2_000_000, ge=1024, description="per-answer audio kept for STT reconnects")
    offline_stt: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="transcribe English answers with pocketsphinx (the [offline-stt] extra) as the STT chain's last link:"
        " auto = when it is installed, true = required, false = off",
    )
    offline_stt_streams: int = Field(
        default=2, ge=1, le=64, description="answers transcribed offline at once (a ~100 MB decoder process each)"
    )
    offline_tts: bool = Field(
        default=True, description="speak questions with espeak-ng (GPL-3.0) as the TTS chain's last link; false: silence"
    )

    answer_end_silence_ms: int = Field(default=2500, ge=1000, le=30_000, description="silence that ends a spoken answer (auto)")
    answer_end_notice_ms: int = Field(default=1000, ge=100, description="silence before answer_ending is sent (auto)")
    answer_min_words: int = Field(default=3, ge=0, description="words heard before an answer may end by itself")
    answer_time_limit_grace_ms: int = Field(default=1000, ge=0, description="the server enforces a time limit this late")
    interruption_min_ms: int = Field(default=500, ge=0, description="speech over a question shorter than this is noise")
    false_interruption_ms: int = Field(default=1500, ge=100, description="no words this long after an interrupt: resume")
    preemptive_stable_ms: int = Field(default=800, ge=0, description="stable transcript before drafting the next question (0: off)")
    preemptive_max_drafts: int = Field(default=2, ge=0, description="drafts of the next question per answer (0: no drafting)")
    preemptive_min_new_words: int = Field(default=4, ge=1, description="words the transcript must grow by before another draft")
    session_llm_calls: int = Field(default=40, ge=1, description="vendor LLM calls one session may make (questions, feedback, drafts)")
    session_tts_chars: int = Field(default=12_000, ge=0, description="characters one session may send to TTS vendors")
    session_tts_seconds: float = Field(default=900, ge=0, description="seconds of vendor speech one session may receive")
    llm_max_concurrent: int = Field(default=64, ge=1, description="vendor LLM calls running at once in this process")
    llm_calls_per_minute: int = Field(default=600, ge=1, description="vendor LLM calls this process may start a minute")
    audio_realtime_factor: float = Field(
        default=1.25, ge=1.0, description="audio accepted per session, in multiples of its declared format's real time"
    )
    audio_burst_seconds: float = Field(default=2.0, gt=0, description="seconds of real-time audio a session may send ahead")
    audio_webm_bitrate: int = Field(default=128_000, ge=8000, description="bits per second assumed for webm/opus audio")
    stt_streams_per_answer: int = Field(default=8, ge=1, description="STT streams one answer may open")
    stt_empty_cooldown_ms: int = Field(default=2000, ge=0, description="no new STT stream this long after an empty answer_end")

    rate_events_per_second: float = Field(default=20, gt=0, description="client events per socket per second")
    rate_audio_bytes_per_second: float = Field(default=256_000, gt=0, description="audio bytes per socket per second")
    lease_ttl: float = Field(default=5.0, gt=0.5, description="seconds a session lease lives without renewal")
    shutdown_grace: float = Field(default=2.5, ge=0, description="seconds SIGTERM waits for in-flight turns")

    resume_max_bytes: int = Field(default=2_000_000, ge=1024, description="largest résumé file /api/v1/resume reads")
    resume_uploads_per_minute: float = Field(default=10, gt=0, description="résumé uploads per client address")
    resume_parse_concurrency: int = Field(default=2, ge=1, description="résumé files parsed at the same time")
    resume_parse_memory_bytes: int = Field(
        default=256 << 20, ge=64 << 20, description="address space (RLIMIT_AS) of each résumé parse process"
    )
    resume_parse_cpu_seconds: float = Field(default=8.0, gt=0, description="CPU seconds one résumé parse may use (RLIMIT_CPU)")
    resume_parse_timeout: float = Field(default=12.0, gt=0, description="seconds one résumé parse may take before it is killed")
    resume_parse_wait: float = Field(
        default=8.0, ge=0, description="seconds an upload waits for a free parse process before 503 busy"
    )
    resume_body_timeout: float = Field(default=20.0, gt=0, description="seconds to receive a whole résumé upload body")
    resume_uploads_in_flight: int = Field(
        default=8, ge=1, description="résumé uploads the process handles at once (reading or parsing); more get 503 busy"
    )
    resume_uploads_per_minute_total: float = Field(
        default=60, gt=0, description="résumé uploads per minute from all clients together"
    )

    offline_llm_delay: float = Field(default=0.0, ge=0, description="test hook: seconds the offline LLM waits")
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("offline_stt", mode="before")
    @classmethod
    def _offline_stt_word(cls, value: object) -> object:
        if isinstance(value, bool):
            return str(value).lower()
        return value.strip().lower() if isinstance(value, str) else value

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

    @model_validator(mode="after")
    def _pick_llm(self) -> "Settings":
        if self.llm_provider is None:
            if self.openai_api_key:
                self.llm_provider = "openai"
            elif self.google_api_key:
                self.llm_provider = "gemini"
            else:
                self.llm_provider = "offline"
        return self

    @property
    def offline(self) -> bool:
        """True when no vendor key at all is set (nothing a foreign page could spend)."""
        keys = (self.openai_api_key, self.google_api_key, self.elevenlabs_api_key, self.deepgram_api_key)
        return not any(keys)

    @property
    def cors_origins(self) -> str | list[str] | None:
        """The origins for python-socketio and the HTTP middleware.

        ``"*"`` for any origin, a list of origins, or None for same-origin only
        (the server's own host and Replit's public domains): the default as
        soon as any vendor key is set.
        """
        raw = self.cors_allowed_origins
        if raw is None:
            return "*" if self.offline else None
        raw = raw.strip()
        if raw == "*":
            return "*"
        return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
