"""Building the interview service: its parts made in dependency order from a few inputs.

Each part is made after the parts it calls, and receives them (or a small
protocol they satisfy) directly: the registry comes first, the voice turns find
sessions through it (:class:`~.voice_turns.SessionLookup`), and the parts built
after it are bound to it once as its :class:`~.session_registry.SessionHandler`
(listener of a session brought into memory, the step of a restored one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..cluster.leases import Leases
from ..domain.model import Session
from ..observability.metrics import Metrics
from ..store.base import SessionStore
from ..vendors.fallback import FallbackLLM, FallbackTTS
from ..vendors.stt_fallback import FallbackSTT
from ..vendors.silent_tts import OfflineTTS
from ..vendors.vad import VADPool
from .answers import Answers
from .audio_budget import AudioBudget
from .audio_queue import AudioQueue
from .committer import Committer
from .feedback_writer import FeedbackWriter
from .listening import AnswerListener
from .live import Emitter, LiveSession
from .pipeline import QuestionPipeline
from .preemptive import Drafts
from .quota import QuotaPolicy, StoreQuota
from .service import InterviewService, ServiceParts
from .session_registry import SessionRegistry
from .spend import SessionSpend, SpendFor, SpendPolicy
from .steps import StepRunner
from .sweeper import Sweeper, SweepPolicy
from .voice_turns import VoicePolicy, VoiceTurns


@dataclass(frozen=True)
class ServicePolicy:
    """The service's settings: the parts' policies and the few numbers of its pipeline and steps.

    ``quota`` None: no stored-session quota. ``audio_queue_chunks``: audio chunks queued per session;
    ``pipelining``/``tts_backlog_bytes``: the question pipeline's (see :class:`~.pipeline.QuestionPipeline`);
    ``store_retry_delay``/``slow_notice``: the step runner's (see :class:`~.steps.StepRunner`).
    """

    voice: VoicePolicy = field(default_factory=VoicePolicy)
    sweep: SweepPolicy = field(default_factory=SweepPolicy)
    spend: SpendPolicy = field(default_factory=SpendPolicy)
    quota: QuotaPolicy | None = None
    audio_queue_chunks: int = 100
    pipelining: bool = True
    tts_backlog_bytes: int = 1 << 20
    store_retry_delay: float = 0.5
    slow_notice: float = 0.0


class _SessionHandler:
    """The registry's :class:`~.session_registry.SessionHandler`: the voice turns listen, the step runner runs."""

    def __init__(self, voice: VoiceTurns, steps: StepRunner) -> None:
        self.voice = voice
        self.steps = steps

    def listener_for(self, session: Session, audio: AudioQueue, spend: SessionSpend) -> AnswerListener | None:
        return self.voice.listener_for(session, audio, spend)

    def restored(self, live: LiveSession) -> None:
        self.steps.ensure(live)


def build_service(
    store: SessionStore,
    llm: FallbackLLM,
    emitter: Emitter,
    policy: ServicePolicy | None = None,
    *,
    tts: FallbackTTS | None = None,
    stt: FallbackSTT | None = None,
    vad: VADPool | None = None,
    metrics: Metrics | None = None,
    leases: Leases | None = None,
    audio_budget: AudioBudget | None = None,
) -> InterviewService:
    """The interview service over ``store``: ``llm``, ``tts`` and ``stt`` are the vendors' fallback chains
    (without ``tts``, the offline one); ``emitter`` gets every outbound event after its session was saved."""
    policy = policy or ServicePolicy()
    metrics = metrics or Metrics()
    tts = tts or FallbackTTS([OfflineTTS()])
    leases = leases or Leases()
    questions = QuestionPipeline(llm, tts, emitter, metrics, policy.pipelining, policy.tts_backlog_bytes)
    drafts = Drafts(questions.draft_question)
    committer = Committer(store, emitter, metrics)
    feedback = FeedbackWriter(llm, emitter, metrics)
    spend_for = SpendFor(policy.spend, emitter, metrics)
    registry = SessionRegistry(store, leases, metrics, policy.audio_queue_chunks, audio_budget, spend_for)
    steps = StepRunner(
        registry, committer, questions, feedback, emitter, metrics, policy.store_retry_delay, drafts, slow_notice=policy.slow_notice
    )
    answers = Answers(committer, steps, metrics)
    voice = VoiceTurns(registry, stt, emitter, metrics, answers.record, drafts, policy.voice, vad)
    registry.handle_with(_SessionHandler(voice, steps))
    return InterviewService(
        ServiceParts(
            store=store,
            metrics=metrics,
            llm=llm,
            tts=tts,
            stt=stt,
            vad=vad,
            leases=leases,
            registry=registry,
            committer=committer,
            steps=steps,
            answers=answers,
            voice=voice,
            drafts=drafts,
            quota=StoreQuota(registry, metrics, policy.quota) if policy.quota is not None else None,
            sweeper=Sweeper(registry, committer, metrics, policy.sweep),
        )
    )
