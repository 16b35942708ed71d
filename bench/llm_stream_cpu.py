"""``python -m bench.llm_stream_cpu``: CPU to read streamed questions, SDK models vs raw server-sent events.

A one-off comparison behind a note in docs/benchmarks.md (turn latency): 100
question streams at once, three rounds, through the fake OpenAI server in the
same process. "sdk models" iterates ``chat.completions.create(stream=True)``
(a pydantic model per chunk); "raw sse" is the adopted
``OpenAICompatLLM.stream_question`` (the SDK sends the request, the stream is
read with ``json.loads`` per line). The fake's own CPU is in both figures.
"""

from __future__ import annotations

import asyncio
import time

from openai import AsyncOpenAI

from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from sio_server.domain.model import InterviewConfig
from sio_server.vendors.llm import QuestionRequest
from sio_server.vendors.llm_prompts import question_messages
from sio_server.vendors.openai_llm import OpenAICompatLLM
from sio_server.vendors.options import ConnectOptions

REQUEST = QuestionRequest(config=InterviewConfig(language="en"), turns=(), index=1, is_last=False)


async def sdk_models(client: AsyncOpenAI) -> str:
    stream = await client.chat.completions.create(model="m", messages=question_messages(REQUEST), stream=True)
    parts = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts)


async def raw_sse(llm: OpenAICompatLLM) -> str:
    return "".join([piece async for piece in llm.stream_question(REQUEST)])


async def measure(one, streams: int, rounds: int) -> float:
    await one()
    started = time.process_time()
    for _ in range(rounds):
        await asyncio.gather(*(one() for _ in range(streams)))
    return time.process_time() - started


async def main(streams: int = 100, rounds: int = 3) -> None:
    async with FakeOpenAI() as fake:
        client = AsyncOpenAI(api_key="k", base_url=fake.url, max_retries=0)
        llm = OpenAICompatLLM("openai", "k", fake.url, "m", ConnectOptions(timeout=30), 60)
        for _ in range(2):
            print(f"sdk models: {await measure(lambda: sdk_models(client), streams, rounds):.2f} s CPU")
            print(f"raw sse:    {await measure(lambda: raw_sse(llm), streams, rounds):.2f} s CPU")
        await client.close()
        await llm.aclose()


if __name__ == "__main__":
    asyncio.run(main())
