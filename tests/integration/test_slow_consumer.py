"""A client that stops reading while TTS streams: the server holds a bounded amount of audio for it."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from sio_server.app import create_app
from sio_server.appkeys import METRICS, SERVICE, SIO
from sio_server.transport.namespace import SocketEmitter

BOUND = 256 * 1024


async def test_tts_audio_waiting_for_a_stalled_socket_is_bounded(aiohttp_server, settings, fake_openai, fake_elevenlabs):
    fake_openai.replies.append(" ".join(f"Sentence number {i} of a long spoken question." for i in range(12)))
    fake_elevenlabs.chunk_size = 16 * 1024
    fake_elevenlabs.audio_repeat = 400  # about 190 KB of audio per sentence, 2 MB in all
    app = create_app(
        settings.model_copy(
            update={
                "llm_provider": "openai", "openai_api_key": "sk-test", "openai_base_url": fake_openai.url,
                "elevenlabs_api_key": fake_elevenlabs.api_key, "elevenlabs_base_url": fake_elevenlabs.url,
                "tts_socket_backlog_bytes": BOUND,
            }
        )
    )
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        # A raw Engine.IO/Socket.IO client that connects, starts an interview and then never reads again.
        ws = await http.ws_connect(f"{server.make_url('/socket.io/')}?EIO=4&transport=websocket", max_msg_size=0)
        assert (await ws.receive_str()).startswith("0")
        await ws.send_str("40/interview,")
        assert (await ws.receive_str()).startswith("40/interview,")
        await ws.send_str('42/interview,0["start_interview",' + json.dumps({"language": "en", "mode": "text", "max_questions": 2, "speak_questions": True}) + "]")
        ack = await ws.receive_str()
        session_id = json.loads(ack[ack.index("[") :])[0]["session_id"]

        emitter = SocketEmitter(app[SIO])
        peak = 0
        for _ in range(200):
            peak = max(peak, emitter.backlog(session_id))
            live = app[SERVICE].live.get(session_id)
            if live is not None and live.session.turns and live.speaking is not None and live.speaking.done():
                break  # the question is spoken out (its speech ends apart from the step)
            await asyncio.sleep(0.05)
        metrics = app[METRICS].render().decode()
        dropped = float(next(line.split()[1] for line in metrics.splitlines() if line.startswith("interview_tts_dropped_sentences_total ")))
        assert dropped >= 1, "the stalled socket's audio must be dropped, not queued"
        assert peak <= BOUND + 16 * 1024, peak
        assert fake_elevenlabs.count >= 1
        await ws.close()
