"""Hands-free voice turns through the real server against the fake vendors.

The fake Deepgram hears the audio bytes as words, so silence is simply no
audio; the pauses below are the candidate's input (what is being tested),
every wait for the server's reaction is a wait on a condition.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from client_adapter import InterviewClient
from sio_server.appkeys import SERVICE
from tests.integration.test_voice import serve, speak, vendor_settings, voice_client  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def events(client: InterviewClient, name: str) -> list[dict]:
    return [d for n, d in client.live_events if n == name]


async def stored_turns(server, client: InterviewClient):
    session = await server.app[SERVICE].store.load(client.session_id)
    return session.turns, [e.name for e in session.events]


async def test_a_pause_inside_an_answer_does_not_cut_it(aiohttp_server, vendor_settings):  # noqa: F811
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    await speak(client, "I started with the logs. ")
    await asyncio.sleep(1.5)  # the candidate thinks
    await speak(client, "Then I fixed the slow query. ")
    ended = await client.wait_for(lambda: events(client, "answer_ended"), timeout=15)
    assert ended[0]["index"] == 1 and ended[0]["reason"] in ("silence", "utterance_end")
    assert ended[0]["transcript"] == "I started with the logs. Then I fixed the slow query."
    ending = events(client, "answer_ending")
    assert ending and all(e["silence_ms"] >= 1000 for e in ending)
    assert events(client, "answer_resumed"), "the pause was noticed and then cancelled by speech"
    await client.next_question()
    turns, _ = await stored_turns(server, client)
    assert turns[0].answer == "I started with the logs. Then I fixed the slow query."
    await client.close()


async def test_three_seconds_of_silence_end_the_answer(aiohttp_server, vendor_settings, fake_deepgram):  # noqa: F811
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    await speak(client, "I would shard the table by tenant. ")
    spoke = time.monotonic()
    ended = await client.wait_for(lambda: events(client, "answer_ended"), timeout=10)
    assert 2.4 <= time.monotonic() - spoke < 6.0
    assert ended[0]["transcript"] == "I would shard the table by tenant."
    names = [n for n, _ in client.live_events]
    assert names.index("answer_ending") < names.index("answer_ended")
    question = await client.next_question()
    assert question["index"] == 2
    turns, _ = await stored_turns(server, client)
    assert [t.answer for t in turns] == ["I would shard the table by tenant.", None]
    query = fake_deepgram.connections[0].query  # auto: Deepgram's own end-of-speech events are asked for
    assert query["utterance_end_ms"] == "2500" and query["vad_events"] == "true"
    await client.close()


async def test_speech_after_answer_ending_cancels_the_end(aiohttp_server, vendor_settings):  # noqa: F811
    _, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    await speak(client, "We measured the latency first. ")
    await client.wait_for(lambda: events(client, "answer_ending"), timeout=10)
    assert not events(client, "answer_ended")
    await speak(client, "And then we cached the hot keys. ")
    resumed = await client.wait_for(lambda: events(client, "answer_resumed"), timeout=5)
    assert resumed[0] == {"index": 1}
    ended = await client.wait_for(lambda: events(client, "answer_ended"), timeout=10)
    assert ended[0]["transcript"] == "We measured the latency first. And then we cached the hot keys."
    await client.close()


async def test_too_few_words_never_end_by_themselves(aiohttp_server, vendor_settings):  # noqa: F811
    _, url = await serve(aiohttp_server, vendor_settings, answer_min_words=5)
    client = await voice_client(url)
    await speak(client, "Well, um. ")
    await asyncio.sleep(3.5)  # longer than ANSWER_END_SILENCE_MS
    assert not events(client, "answer_ending") and not events(client, "answer_ended")
    done = await client.answer_end(1)  # the button still works
    assert done["transcript"] == "Well, um." and done["duplicate"] is False
    await client.close()


async def test_manual_mode_waits_for_the_button(aiohttp_server, vendor_settings, fake_deepgram):  # noqa: F811
    _, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url, turn_detection="manual")
    await speak(client, "I would start with the logs. ")
    await asyncio.sleep(3.0)
    assert not events(client, "answer_ending") and not events(client, "answer_ended")
    assert "utterance_end_ms" not in fake_deepgram.connections[0].query
    assert (await client.answer_end(1))["transcript"] == "I would start with the logs."
    await client.close()


async def test_auto_end_and_the_button_together_store_one_answer(aiohttp_server, vendor_settings):  # noqa: F811
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    service = server.app[SERVICE]
    live = service.live[client.session_id]
    await speak(client, "I mentored two junior engineers. ")
    await client.wait_for(lambda: any(n == "transcript" for n, _ in client.live_events))
    # The watcher's end and the candidate's "Done" at the same moment.
    ack, _ = await asyncio.gather(client.answer_end(1), service.voice.end_answer(live, 1, "silence"))
    assert ack["transcript"] == "I mentored two junior engineers."
    await client.next_question()
    ended = events(client, "answer_ended")
    assert len(ended) + (0 if ack["duplicate"] else 1) == 1, "exactly one of the two closed the answer"
    turns, names = await stored_turns(server, client)
    assert [t.answer for t in turns] == ["I mentored two junior engineers.", None]
    assert names.count("question") == 2
    await asyncio.sleep(3.0)  # the watcher's own end must not add anything later
    turns, names = await stored_turns(server, client)
    assert len(turns) == 2 and names.count("question") == 2 and len(events(client, "answer_ended")) == len(ended)
    await client.close()


async def test_the_server_enforces_the_answer_time_limit_once(aiohttp_server, vendor_settings):  # noqa: F811
    server, url = await serve(aiohttp_server, vendor_settings, answer_time_limit_grace_ms=0)
    client = await voice_client(url, turn_detection="manual", answer_time_limit_s=30)
    live = server.app[SERVICE].live[client.session_id]
    await speak(client, "My answer runs long. ")
    await client.wait_for(lambda: any(n == "transcript" for n, _ in client.live_events))
    turn = live.session.turns[0]
    turn.asked_at -= timedelta(seconds=29.5)  # the clock of this question: half a second left
    live.listener.watcher.wake()
    ended = await client.wait_for(lambda: events(client, "answer_ended"), timeout=5)
    assert ended == [{"index": 1, "transcript": "My answer runs long.", "reason": "time_limit"}]
    late = await client.answer_end(1)  # the page's own answer_end at zero
    assert late["duplicate"] is True and late["transcript"] == "My answer runs long."
    await client.next_question()
    turns, names = await stored_turns(server, client)
    assert turns[0].answer == "My answer runs long." and names.count("question") == 2
    assert len(events(client, "answer_ended")) == 1
    await client.close()


async def test_a_preemptive_draft_is_used_when_the_answer_ends_unchanged(
    aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs  # noqa: F811
):
    fake_openai.replies.extend(["Tell me about a hard bug.", "What did you learn from it?"])
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    await speak(client, "It was a race in the cache. ")
    await client.wait_for(lambda: fake_openai.count == 2, timeout=5)  # drafted before the end was confirmed
    assert not events(client, "answer_ended") and 2 not in client.questions
    question = await client.next_question(timeout=15)
    assert question["text"] == "What did you learn from it?"
    assert fake_openai.count == 2, "the draft was used, not written again"
    turns, _ = await stored_turns(server, client)
    assert turns[1].timings.get("preemptive") == 1.0
    assert fake_elevenlabs.requests[-1].text == "What did you learn from it?"
    await client.close()


async def test_a_draft_still_being_written_is_spoken_as_it_streams(
    aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs  # noqa: F811
):
    """The answer ends before its draft is written: the draft's first sentence is spoken at once, not rewritten."""
    follow_up = "Thanks for that. What did you learn from it, and what would you change in the design next time?"
    fake_openai.replies.extend(["Tell me about a hard bug.", follow_up])
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    fake_openai.tokens_per_second = 8  # the draft is still being written when the silence window ends (under the 3 s LLM limit)
    order: list[tuple[str, int]] = []
    client.on("tts_chunk", lambda d: order.append(("tts_chunk", d["index"])))
    client.on("question", lambda d: order.append(("question", d["index"])))
    await speak(client, "It was a race in the cache. ")
    await client.wait_for(lambda: fake_openai.count == 2, timeout=5)  # drafting before the end was confirmed
    question = await client.next_question(timeout=30)
    assert question["text"] == follow_up and fake_openai.count == 2, "the draft was used, not written again"
    assert order.index(("tts_chunk", 2)) < order.index(("question", 2)), "its first sentence was spoken while the LLM wrote"
    assert [r.text for r in fake_elevenlabs.requests][-2:] == [
        "Thanks for that.",
        "What did you learn from it, and what would you change in the design next time?",
    ]
    turns, _ = await stored_turns(server, client)
    assert turns[1].question == follow_up and turns[1].timings.get("preemptive") == 1.0
    await client.close()


async def test_a_discarded_preemptive_draft_leaves_no_trace(
    aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs  # noqa: F811
):
    discarded = "This draft must never be seen?"
    fake_openai.replies.extend(["Tell me about a hard bug.", discarded, "How did you find the race?"])
    server, url = await serve(aiohttp_server, vendor_settings)
    client = await voice_client(url)
    await speak(client, "It was a race in the cache. ")
    await client.wait_for(lambda: fake_openai.count == 2, timeout=5)  # the draft is being written
    await speak(client, "We found it with a stress test. ")  # the candidate goes on: the draft is discarded
    question = await client.next_question(timeout=15)
    assert question["text"] == "How did you find the race?" and fake_openai.count == 3
    ended = events(client, "answer_ended")
    assert ended[0]["transcript"] == "It was a race in the cache. We found it with a stress test."
    session = await server.app[SERVICE].store.load(client.session_id)
    assert discarded not in session.model_dump_json()
    assert all(discarded not in str(d) for _, d in client.live_events)
    assert all(discarded not in str(q) for q in client.questions.values())
    assert all(r.text != discarded and "draft" not in r.text for r in fake_elevenlabs.requests)
    assert not server.app[SERVICE].drafts.drafts
    await client.close()
