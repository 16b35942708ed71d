"""One judge for every adapter: a runner's report of a scenario against the scenario's ``expect`` and the stored sessions.

A report maps each client name to ``{state, fatal, resumes, has_session,
duplicates_dropped, sessions: [{session_id, events: [[name, seq, index]],
answers: [[index, duplicate]], finished, deleted?}], attempts: [ms],
refusals: [[code, ms]], shutdowns: [[reconnect_after_ms, ms]], errors: [[call,
code, ms taken]]}``: times in ms since the client was made; an attempt is a
``connection`` event with ``attempt >= 1`` (a reconnect attempt starting).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from client_adapter.protocol import PROTOCOL

from .runner import answer_for

EARLY_MS = 50  # an attempt this much before its delay is still on time (timer and clock granularity)
LATE_MS = 3000  # how late a timer may fire on a loaded 2-core machine


def admin_session(url: str, admin_token: str, session_id: str) -> dict[str, Any] | None:
    """The stored session from the admin API, or None when it does not exist."""
    request = urllib.request.Request(
        f"{url}/api/v1/sessions/{session_id}", headers={"Authorization": f"Bearer {admin_token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def check_client(name: str, report: dict[str, Any], expect: dict[str, Any]) -> None:
    """The client's final state and what it saw: seq 1..n per session, questions 1..n, no duplicate ack."""
    for key in ("state", "fatal", "resumes", "has_session"):
        if key in expect:
            assert report[key] == expect[key], (name, key, report[key])
    assert report["resumes"] >= expect.get("min_resumes", 0), (name, report["resumes"])
    sessions = report["sessions"]
    assert len(sessions) == expect["sessions"], (name, sessions)
    assert sum(s["finished"] for s in sessions) == expect["finished"], (name, sessions)
    check_timing(name, report, expect)
    for s in sessions:
        seqs = [seq for _, seq, _ in s["events"]]
        assert seqs == list(range(1, len(seqs) + 1)), (name, "seq not 1..n without duplicates", s)
        asked = [index for event, _, index in s["events"] if event == "question"]
        assert asked == list(range(1, len(asked) + 1)), (name, "questions not 1..n", s)
        assert all(duplicate is False for _, duplicate in s["answers"]), (name, "an answer was delivered twice", s)
        if s["finished"]:
            assert [event for event, _, _ in s["events"]].count("feedback") == 1
            assert s["events"][-1][0] == "feedback"


def _next_attempt(report: dict[str, Any], after: float) -> float | None:
    return next((t for t in report["attempts"] if t > after), None)


def check_timing(name: str, report: dict[str, Any], expect: dict[str, Any]) -> None:
    """The delays of protocol.json as the client kept them: the shutdown pause, the refusal back-off, no retry of an error."""
    if expect.get("waited_for_shutdown"):
        assert report["shutdowns"], (name, "no shutdown notice was seen")
        asked, at = report["shutdowns"][0]
        first = _next_attempt(report, at)
        assert first is not None, (name, "no attempt after the notice", report["attempts"])
        waited, longest = first - at, min(asked, PROTOCOL["shutdown"]["max_delay_ms"]) * (1 + PROTOCOL["shutdown"]["spread"])
        assert asked - EARLY_MS <= waited <= longest + LATE_MS, (name, "reconnect_after_ms not kept", asked, waited)
    if "refused" in expect:
        refusals = [at for code, at in report["refusals"] if code == expect["refused"]]
        assert refusals, (name, "never refused with", expect["refused"], report["refusals"])
        policy = PROTOCOL["refusals"]
        shortest = policy["first_delay_ms"] * (1 - policy["randomization"])
        for at in refusals:
            retry = _next_attempt(report, at)
            assert retry is None or retry - at >= shortest - EARLY_MS, (name, "retried a refusal too soon", at, retry)
    for call, code in expect.get("errors", {}).items():
        raised = [(c, ms) for what, c, ms in report["errors"] if what == call]
        assert len(raised) == 1 and raised[0][0] == code, (name, call, raised)
        # an error that is not retried comes back in one round trip, long before the request timeout
        assert raised[0][1] < PROTOCOL["request_retry"]["max_delay_ms"], (name, call, raised)


def check_stored(scenario: dict[str, Any], reports: dict[str, Any], url: str, admin_token: str) -> None:
    """Every session the clients worked on, as stored: each answer exactly once, as sent; seq and questions 1..n."""
    sent: dict[str, list[tuple[int, str]]] = {}
    finished: set[str] = set()
    deleted: set[str] = set()
    for name, report in reports.items():
        for s in report["sessions"]:
            if s["session_id"] is None:
                continue
            sent.setdefault(s["session_id"], []).extend(
                (index, answer_for(scenario["name"], name, index)) for index, _ in s["answers"]
            )
            if s["finished"]:
                finished.add(s["session_id"])
            if s.get("deleted"):
                deleted.add(s["session_id"])
    assert sent, "no session was started"
    for session_id, answers in sent.items():
        stored = admin_session(url, admin_token, session_id)
        if session_id in deleted:
            assert stored is None, session_id
            continue
        assert stored is not None, session_id
        counts = Counter(index for index, _ in answers)
        assert all(n == 1 for n in counts.values()), ("an answer was sent twice", answers)
        turns = stored["turns"]
        assert [t["index"] for t in turns] == list(range(1, len(turns) + 1))
        assert {t["index"]: t["answer"] for t in turns if t["answer"] is not None} == dict(answers)
        seqs = [e["seq"] for e in stored["events"]]
        assert seqs == list(range(1, len(seqs) + 1))
        asked = [e["data"]["index"] for e in stored["events"] if e["name"] == "question"]
        assert asked == list(range(1, len(asked) + 1))
        if session_id in finished:
            assert stored["status"] == "ended" and len(turns) == stored["config"]["max_questions"]
            assert [e["name"] for e in stored["events"]].count("feedback") == 1


def check_scenario(scenario: dict[str, Any], reports: dict[str, Any], url: str, admin_token: str) -> None:
    """Assert a runner's whole report of ``scenario``."""
    assert set(reports) == set(scenario["expect"]), reports
    for name, report in reports.items():
        check_client(name, report, scenario["expect"][name])
    check_stored(scenario, reports, url, admin_token)
