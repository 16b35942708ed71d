"""Runs the shared conformance scenarios (``scenarios.json``) with the Python adapter, ``client_adapter/client.py``.

The twin of ``runner.mjs`` (the JS adapter in Node): the same ops, the same
report (see ``checks.py``), so one set of checks judges both adapters.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from client_adapter import InterviewClient, InterviewError

SCENARIOS_FILE = Path(__file__).with_name("scenarios.json")
TIMEOUT = 30.0


SCENARIOS: dict[str, Any] = json.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))


def load_scenarios() -> list[dict[str, Any]]:
    """The shared scenario list."""
    return SCENARIOS["scenarios"]


def answer_for(scenario: str, name: str, index: int) -> str:
    """The text a runner sends as client ``name``'s answer to question ``index`` (the same in every runner)."""
    return SCENARIOS["answer_template"].format(scenario=scenario, client=name, index=index)


class Recorder:
    """One client and what it saw, per session (a new session starts at ``start`` and at a resume by token)."""

    def __init__(self, client: InterviewClient, session_id: str | None = None) -> None:
        self.client = client
        self.sessions: list[dict[str, Any]] = []
        self.pending: asyncio.Task[dict[str, Any]] | None = None
        self.t0 = time.monotonic()
        self.attempts: list[float] = []
        self.refusals: list[list[Any]] = []
        self.shutdowns: list[list[Any]] = []
        self.errors: list[list[Any]] = []
        if session_id is not None:
            self.new_session(session_id)
        for name in ("question", "feedback"):
            client.on(name, self._recorder(name))
        client.on("connection", lambda c: self.attempts.append(self.ms()) if c["attempt"] >= 1 else None)
        client.on("connect_error", lambda e: self.refusals.append([e["code"], self.ms()]))
        client.on("server_shutdown", lambda d: self.shutdowns.append([d.get("reconnect_after_ms"), self.ms()]))

    def ms(self) -> float:
        """Milliseconds since this client was made."""
        return (time.monotonic() - self.t0) * 1000

    def new_session(self, session_id: str | None) -> None:
        self.sessions.append({"session_id": session_id, "events": [], "answers": [], "finished": False})

    def _recorder(self, name: str) -> Callable[[dict[str, Any]], None]:
        def record(data: dict[str, Any]) -> None:
            self.sessions[-1]["events"].append([name, data["seq"], data.get("index")])

        return record

    def report(self) -> dict[str, Any]:
        c = self.client
        return {
            "state": c.state,
            "fatal": c.fatal.code if c.fatal else None,
            "resumes": c.resumes,
            "has_session": c.has_session,
            "duplicates_dropped": c.duplicates_dropped,
            "sessions": self.sessions,
            "attempts": self.attempts,
            "refusals": self.refusals,
            "shutdowns": self.shutdowns,
            "errors": self.errors,
        }


class PythonRunner:
    """Executes one scenario's steps; ``control`` runs a server action (kill, start, restart)."""

    def __init__(
        self, scenario: dict[str, Any], url: str, admin_token: str, control: Callable[[str], Awaitable[None]]
    ) -> None:
        self.scenario = scenario
        self.url = url
        self.admin_token = admin_token
        self.control = control
        self.clients: dict[str, Recorder] = {}

    async def run(self) -> dict[str, Any]:
        """Run every step; the report of each client."""
        try:
            for step in self.scenario["steps"]:
                await asyncio.wait_for(self.step(step), TIMEOUT)
        finally:
            for rec in self.clients.values():
                await rec.client.close()
        return {name: rec.report() for name, rec in self.clients.items()}

    async def step(self, step: dict[str, Any]) -> None:
        op = step["op"]
        if op == "server":
            await self.control(step["action"])
            return
        if op == "client":
            other = self.clients.get(step.get("token_of", ""))
            client = InterviewClient(self.url, resume_token=other.client.resume_token if other else None, last_seq=0)
            self.clients[step["as"]] = Recorder(client, other.client.session_id if other else None)
            return
        rec = self.clients[step["client"]]
        await getattr(self, f"op_{op}")(rec, rec.client, step)

    async def op_connect(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        if "error" not in step:
            await client.connect()
            return
        try:
            await client.connect()
        except InterviewError as e:
            assert e.code == step["error"], e
        else:
            raise AssertionError(f"connect did not fail with {step['error']}")

    async def op_start(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        rec.new_session(None)
        ack = await client.start(step["config"])
        rec.sessions[-1]["session_id"] = ack["session_id"]

    async def _answer_next(self, rec: Recorder, client: InterviewClient) -> dict[str, Any]:
        question = await client.next_question()
        index = question["index"]
        ack = await client.answer_text(index, answer_for(self.scenario["name"], self._name(rec), index))
        rec.sessions[-1]["answers"].append([index, ack.get("duplicate")])
        return question

    def _name(self, rec: Recorder) -> str:
        return next(name for name, r in self.clients.items() if r is rec)

    async def op_answer(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        await self._answer_next(rec, client)

    async def op_wait_question(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        await client.wait_for(lambda: client.questions.get(step["index"]))

    async def op_wait_state(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        await client.wait_for(lambda: client.state == step["state"] or None)

    async def op_wait_resumed(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        await client.wait_for(lambda: client.resumes >= 1 and client.ready)

    async def op_wait_refused(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        count = step.get("count", 1)
        await client.wait_for(lambda: sum(code == step["code"] for code, _ in rec.refusals) >= count)

    async def op_answer_later(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        rec.pending = asyncio.ensure_future(self._answer_next(rec, client))

    async def op_expect_pending(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        assert rec.pending is not None and not rec.pending.done(), "the answer completed while the server was down"

    async def op_await_answer(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        assert rec.pending is not None
        await rec.pending

    async def op_expect_error(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        calls = {"answer_text": lambda: client.answer_text(1, "after the end"), "start": lambda: client.start(step["config"])}
        began = rec.ms()
        try:
            await calls[step["call"]]()
        except InterviewError as e:
            assert e.code == step["code"], e
            rec.errors.append([step["call"], e.code, rec.ms() - began])
        else:
            raise AssertionError(f"{step['call']} did not fail with {step['code']}")

    async def op_finish(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        while not (await self._answer_next(rec, client))["is_last"]:
            pass
        await client.feedback()
        rec.sessions[-1]["finished"] = True

    async def op_fetch_feedback(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        fetched = await client.fetch_feedback()
        event = await client.feedback()
        assert fetched["session_id"] == event["session_id"] and fetched["overall_score"] == event["overall_score"], (
            fetched
        )

    async def op_delete_session(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        url = f"{self.url}/api/v1/sessions/{rec.sessions[-1]['session_id']}"
        request = urllib.request.Request(url, method="DELETE", headers={"Authorization": f"Bearer {self.admin_token}"})
        status = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=10).status)
        assert status == 204, status
        rec.sessions[-1]["deleted"] = True

    async def op_close(self, rec: Recorder, client: InterviewClient, step: dict[str, Any]) -> None:
        await client.close()
