"""SIGKILL during each new voice state (answer ending, question interrupted, preemptive draft), then resume.

A real server process against the fake vendors; after the restart the client
resumes by itself, answers again and the store must hold every answer once
and every question once, with no audio of the old question after the resume.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from client_adapter import InterviewClient
from sio_server.devtools.fakes.env import vendor_env
from tests.integration.test_voice import chunks_of, speak

pytestmark = pytest.mark.integration
QUESTIONS = ["Tell me about a hard bug. How did you find it? What did it teach you?", "How do you review code?"]


@pytest.fixture
def voice_server(server_factory, fake_openai, fake_elevenlabs, fake_deepgram):
    env = {**vendor_env(fake_openai, fake_elevenlabs, fake_deepgram), "FALSE_INTERRUPTION_MS": "5000", "PREEMPTIVE_STABLE_MS": "300"}
    return server_factory(env=env).start()


class Heard:
    """Every voice event the client got, in order (the adapter keeps only bounded windows of them)."""

    NAMES = ("tts_chunk", "tts_end", "answer_ending", "answer_ended")

    def __init__(self, client: InterviewClient) -> None:
        self.events: list[tuple[str, dict]] = []
        for name in self.NAMES:
            client.on(name, lambda data, name=name: self.events.append((name, data)))

    def named(self, name: str) -> list[dict]:
        return [d for n, d in self.events if n == name]


def stored(server, client: InterviewClient) -> dict:
    return json.loads((server.data_dir / "sessions" / f"{client.session_id}.json").read_text())


async def finish_after_resume(server, client: InterviewClient, heard: Heard, resumed_at: int) -> None:
    """Answer question 1 again after the resume and check the store and the events."""
    await client.wait_for(lambda: client.resumes >= 1 and client.connected, timeout=30)
    await speak(client, "After the restart I answer again. ")
    ended = await client.wait_for(lambda: heard.named("answer_ended"), timeout=20)
    assert [e["index"] for e in ended] == [1]
    question = await client.wait_for(lambda: client.questions.get(2), timeout=30)
    assert question["index"] == 2
    session = stored(server, client)
    assert [t["index"] for t in session["turns"]] == [1, 2]
    assert session["turns"][0]["answer"] == "After the restart I answer again."
    assert [e["name"] for e in session["events"]].count("question") == 2
    seqs = [d["seq"] for _, d in client.events]
    assert seqs == sorted(set(seqs)), "no event twice"
    stale = [d for n, d in heard.events[resumed_at:] if n in ("tts_chunk", "tts_end") and d["index"] == 1]
    assert not stale, "no audio of the old question after the resume"


async def start(server) -> tuple[InterviewClient, Heard]:
    client = InterviewClient(server.url)
    heard = Heard(client)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    await client.wait_for(lambda: client.questions.get(1), timeout=20)
    return client, heard


async def test_kill_while_the_answer_is_ending(voice_server, fake_openai):
    fake_openai.replies.extend(QUESTIONS)
    client, heard = await start(voice_server)
    await client.wait_for(lambda: heard.named("tts_end"), timeout=20)
    await speak(client, "I was about to finish. ")
    await client.wait_for(lambda: heard.named("answer_ending"), timeout=10)
    mark = len(heard.events)
    await asyncio.to_thread(voice_server.restart)
    assert stored(voice_server, client)["turns"][0]["answer"] is None, "the end was not confirmed"
    fake_openai.replies.append(QUESTIONS[1])
    await finish_after_resume(voice_server, client, heard, mark)
    await client.close()


async def test_kill_while_the_question_is_interrupted(voice_server, fake_openai, fake_elevenlabs):
    fake_openai.replies.extend(QUESTIONS)
    fake_elevenlabs.chunk_size = 64
    fake_elevenlabs.chunk_delay = 0.05
    client, heard = await start(voice_server)
    await client.wait_for(lambda: len(chunks_of(client, 1)) >= 2, timeout=20)
    assert (await client.interrupt(1))["interrupted"] is True  # held for FALSE_INTERRUPTION_MS
    mark = len(heard.events)
    await asyncio.to_thread(voice_server.restart)
    fake_elevenlabs.chunk_delay = 0.0
    fake_openai.replies.append(QUESTIONS[1])
    await finish_after_resume(voice_server, client, heard, mark)
    await client.close()


async def test_kill_while_a_preemptive_draft_runs(voice_server, fake_openai):
    fake_openai.replies.extend([QUESTIONS[0], "A draft that dies with the process?"])
    client, heard = await start(voice_server)
    await client.wait_for(lambda: heard.named("tts_end"), timeout=20)
    fake_openai.first_token_delay = 30  # the draft hangs
    await speak(client, "It was a race in the cache. ")
    await client.wait_for(lambda: fake_openai.count == 2, timeout=10)
    mark = len(heard.events)
    await asyncio.to_thread(voice_server.restart)
    fake_openai.first_token_delay = 0
    fake_openai.replies.clear()
    fake_openai.replies.append(QUESTIONS[1])
    await finish_after_resume(voice_server, client, heard, mark)
    assert "A draft that dies" not in json.dumps(stored(voice_server, client))
    assert client.questions[2]["text"] == QUESTIONS[1]
    await client.close()
