"""Crash-consistency harness: interview workers on the Python adapter and a checker of the session files.

The workers run text interviews back to back through :class:`InterviewClient`
while something else SIGKILLs and restarts the server; :class:`Ledger` keeps
what the clients saw acked, and :func:`check_store` compares it with what is
on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from client_adapter import InterviewClient
from client_adapter.client import InterviewError
from sio_server.domain.model import PendingStep, Session, Status


@dataclass
class Interview:
    """One interview whose ``start_interview`` ack the harness saw."""

    worker: int
    number: int
    session_id: str
    max_questions: int
    acked: dict[int, str] = field(default_factory=dict)  # question index -> answer text, ack seen
    duplicate_acks: int = 0
    asked: list[int] = field(default_factory=list)  # question indexes handed to the app, in order
    client_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    duplicates_dropped: int = 0
    resumes: int = 0
    feedback_seen: bool = False
    failed: str | None = None


@dataclass
class Ledger:
    """Everything the workers saw; read by the checker."""

    seed: int
    interviews: dict[str, Interview] = field(default_factory=dict)
    start_attempts: int = 0
    starts_lost: int = 0
    connect_failures: int = 0
    problems: list[str] = field(default_factory=list)

    def acked_snapshot(self) -> dict[str, dict[int, str]]:
        """Copy of the acked answers per session (taken while the server is dead)."""
        return {sid: dict(i.acked) for sid, i in self.interviews.items()}


def answer_text(seed: int, worker: int, number: int, index: int) -> str:
    """A unique answer, so that finding it twice anywhere is detectable."""
    return f"seed {seed} worker {worker} interview {number} answer {index}: I led the migration and measured p99 before and after."


async def _shutdown(client: InterviewClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), 5)  # stops the adapter's reconnect loop too


async def worker(url: str, n: int, ledger: Ledger, stop: asyncio.Event, rng: random.Random) -> None:
    """Run interviews one after another until ``stop`` is set (the current one is finished first)."""
    number = 0
    while not stop.is_set():
        number += 1
        client = InterviewClient(url, reconnection_delay=0.05, reconnection_delay_max=0.3, request_timeout=30)
        try:
            try:
                await client.connect(timeout=5)
            except (socketio.exceptions.ConnectionError, TimeoutError, OSError):
                ledger.connect_failures += 1
                await asyncio.sleep(0.05)
                continue
            max_questions = rng.randint(2, 4)
            ledger.start_attempts += 1
            try:
                ack = await client.start(language=rng.choice(["en", "ko"]), mode="text", max_questions=max_questions)
            except (ConnectionError, TimeoutError, socketio.exceptions.SocketIOError):
                ledger.starts_lost += 1  # a start whose ack was lost may have left an orphan session
                continue
            interview = Interview(n, number, ack["session_id"], max_questions)
            ledger.interviews[interview.session_id] = interview
            try:
                await _run_interview(client, interview, ledger.seed)
            except (InterviewError, TimeoutError, ConnectionError, KeyError) as exc:
                interview.failed = f"{type(exc).__name__}: {exc}"
                ledger.problems.append(
                    f"interview {interview.session_id} (worker {n} #{number}) failed: {interview.failed}"
                )
            finally:
                interview.client_events = list(client.events)
                interview.duplicates_dropped = client.duplicates_dropped
                interview.resumes = client.resumes
        finally:
            await _shutdown(client)


async def _run_interview(client: InterviewClient, interview: Interview, seed: int) -> None:
    while True:
        question = await client.next_question(timeout=45)
        index = int(question["index"])
        interview.asked.append(index)
        text = answer_text(seed, interview.worker, interview.number, index)
        ack = await client.answer_text(index, text)
        if not (ack.get("ok") is True and ack.get("index") == index):
            raise InterviewError("bad_ack", f"answer {index} acked with {ack!r}")
        interview.acked[index] = text
        interview.duplicate_acks += bool(ack.get("duplicate"))
        if question["is_last"]:
            break
    await client.feedback(timeout=45)
    interview.feedback_seen = True


# -- the store checker ---------------------------------------------------------------


@dataclass
class StoreReport:
    """What :func:`check_store` found."""

    files: int = 0
    pending: int = 0  # sessions the harness drives that had a turn pending (cut short) on disk
    answers_checked: int = 0
    problems: list[str] = field(default_factory=list)


def _session_problems(session: Session) -> list[str]:
    """Structural invariants every stored session must satisfy at any moment."""
    p: list[str] = []
    sid = session.id
    turns = session.turns
    if [t.index for t in turns] != list(range(1, len(turns) + 1)):
        p.append(f"{sid}: turn indexes {[t.index for t in turns]} are not 1..n")
    if len(turns) > session.config.max_questions:
        p.append(f"{sid}: {len(turns)} turns for max_questions {session.config.max_questions}")
    for t in turns[:-1]:
        if t.answer is None:
            p.append(f"{sid}: turn {t.index} has no answer but a later question was asked")
    seqs = [e.seq for e in session.events]
    if seqs != list(range(1, len(seqs) + 1)):
        p.append(f"{sid}: event seqs {seqs} are not 1..m")
    for e in session.events:
        if e.data.get("seq") != e.seq:
            p.append(f"{sid}: event {e.seq} carries seq {e.data.get('seq')}")
    questions = [e for e in session.events if e.name == "question"]
    q_indexes = [e.data.get("index") for e in questions]
    if q_indexes != list(range(1, len(turns) + 1)):
        p.append(f"{sid}: question event indexes {q_indexes} do not match turns 1..{len(turns)}")
    for e in questions:
        i = e.data.get("index")
        if isinstance(i, int) and 1 <= i <= len(turns) and e.data.get("text") != turns[i - 1].question:
            p.append(f"{sid}: question event {i} text differs from the turn")
    feedbacks = [e for e in session.events if e.name == "feedback"]
    if len(feedbacks) > 1 or (feedbacks and session.events[-1].name != "feedback"):
        p.append(f"{sid}: feedback events at {[e.seq for e in feedbacks]} of {len(seqs)}")
    if set(e.name for e in session.events) - {"question", "feedback"}:
        p.append(f"{sid}: unexpected persisted events {[e.name for e in session.events]}")
    last = turns[-1] if turns else None
    if session.status is Status.ENDED:
        if session.feedback is None or len(feedbacks) != 1:
            p.append(f"{sid}: ended ({session.end_reason}) without exactly one feedback")
        if session.pending is not None:
            p.append(f"{sid}: ended but still pending {session.pending}")
    else:
        if feedbacks or session.feedback is not None:
            p.append(f"{sid}: active but has feedback")
        if session.pending is PendingStep.QUESTION:
            if last is not None and last.answer is None:
                p.append(f"{sid}: a question is pending while question {last.index} is open")
            if len(turns) >= session.config.max_questions:
                p.append(f"{sid}: a question is pending after the last one")
        elif session.pending is PendingStep.FEEDBACK:
            if last is None or last.answer is None or len(turns) != session.config.max_questions:
                p.append(f"{sid}: feedback pending before the last answer")
        elif last is None or last.answer is not None:
            p.append(f"{sid}: active, nothing pending and no open question (turns={len(turns)})")
    return p


def check_store(
    sessions_dir: Path,
    acked: dict[str, dict[int, str]],
    *,
    finished: dict[str, int] | None = None,
) -> StoreReport:
    """Check every session file against the invariants and against the acked answers.

    ``finished`` (session id -> max_questions) lists the interviews that must
    have reached their feedback; the other files not in ``acked`` are orphans
    (a start whose ack was lost) and must hold no answer.
    """
    report = StoreReport()
    sessions: dict[str, Session] = {}
    for path in sorted(sessions_dir.glob("*")):
        if path.name.startswith("."):
            continue  # a temp file of a write the kill cut short: removed when the store opens
        report.files += 1
        raw = path.read_bytes()
        try:
            json.loads(raw)
            session = Session.model_validate_json(raw)
        except ValueError as exc:
            report.problems.append(f"{path.name} does not parse: {str(exc)[:200]}")
            continue
        if path.name != f"{session.id}.json":
            report.problems.append(f"{path.name} holds session {session.id}")
        sessions[session.id] = session
        report.pending += session.pending is not None and session.id in acked
        report.problems.extend(_session_problems(session))
    where = Counter(t.answer for s in sessions.values() for t in s.turns if t.answer is not None)
    for sid, answers in acked.items():
        session = sessions.get(sid)
        if session is None:
            report.problems.append(f"{sid}: start was acked but the file is missing")
            continue
        for index, text in answers.items():
            report.answers_checked += 1
            turn = session.turns[index - 1] if 0 < index <= len(session.turns) else None
            if turn is None or turn.answer != text:
                report.problems.append(f"{sid}: acked answer {index} is not stored at that index (found {turn and turn.answer!r})")
            if where[text] != 1:
                report.problems.append(f"{sid}: acked answer {index} is stored {where[text]} times")
    for sid, session in sessions.items():
        if sid in acked:
            continue
        if any(t.answer is not None for t in session.turns):
            report.problems.append(f"{sid}: orphan session (start ack never seen) has answers")
    for sid, max_questions in (finished or {}).items():
        session = sessions.get(sid)
        if session is None:
            continue
        if session.status is not Status.ENDED or session.feedback is None or session.end_reason != "completed":
            report.problems.append(f"{sid}: did not finish (status {session.status.value}, pending {session.pending})")
        if len(session.turns) != max_questions or any(t.answer is None for t in session.turns):
            report.problems.append(f"{sid}: {len(session.turns)} turns for max_questions {max_questions}")
        if len(acked.get(sid, {})) != max_questions:
            report.problems.append(f"{sid}: the client saw {len(acked.get(sid, {}))} of {max_questions} answers acked")
    return report


def check_clients(ledger: Ledger, sessions_dir: Path) -> list[str]:
    """What each client delivered to the app: gap-free seqs, questions 1..n once each, same as stored."""
    problems: list[str] = []
    for sid, interview in ledger.interviews.items():
        seqs = [data.get("seq") for _, data in interview.client_events]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"{sid}: the client got seqs {seqs}")
        delivered = [data.get("index") for name, data in interview.client_events if name == "question"]
        if delivered != list(range(1, len(delivered) + 1)):
            problems.append(f"{sid}: the client got question indexes {delivered}")
        if interview.asked != list(range(1, len(interview.asked) + 1)):
            problems.append(f"{sid}: the app was handed questions {interview.asked}")
        path = sessions_dir / f"{sid}.json"
        if path.exists():
            stored = Session.model_validate_json(path.read_bytes())
            mine = [(name, data) for name, data in interview.client_events]
            theirs = [(e.name, e.data) for e in stored.events[: len(mine)]]
            if mine != theirs:
                problems.append(f"{sid}: events the client got differ from the stored ones")
    return problems


async def kill_loop(
    server: Any,
    ledger: Ledger,
    rng: random.Random,
    kills: int,
    min_up: float,
    max_up: float,
) -> dict[str, Any]:
    """SIGKILL and restart ``server`` ``kills`` times; check the files while it is down. Returns figures."""
    sessions_dir = Path(server.data_dir) / "sessions"
    figures = {"kills": 0, "kills_with_pending_step": 0, "pending_steps_cut": 0, "checks": 0, "answers_checked": 0, "restart_s": 0.0}
    for k in range(kills):
        await asyncio.sleep(rng.uniform(min_up, max_up))
        await asyncio.to_thread(server.kill)
        figures["kills"] += 1
        snapshot = ledger.acked_snapshot()  # after the kill: no ack can be in flight any more
        report = await asyncio.to_thread(check_store, sessions_dir, snapshot)
        figures["checks"] += 1
        figures["answers_checked"] += report.answers_checked
        figures["kills_with_pending_step"] += report.pending > 0
        figures["pending_steps_cut"] += report.pending
        if report.problems:
            ledger.problems.extend(f"after kill {k + 1}: {p}" for p in report.problems)
            break
        started = time.monotonic()
        await asyncio.to_thread(server.start)
        figures["restart_s"] += time.monotonic() - started
    return figures
