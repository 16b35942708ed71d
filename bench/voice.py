"""6. Voice turns: the response gap (manual, auto, auto + preemptive) and barge-in in Chromium.

**Response gap** (`bench/voice_gap.py`): from the end of the candidate's speech
(the last speech chunk sent) to the arrival of the first `tts_chunk` of the
next question, one session at a time answering N questions, against the fake
vendors at fixed latencies (OpenAI's first token after 700 ms then 40 tokens/s,
ElevenLabs' first byte after 200 ms, Deepgram at once). After the speech the
client streams silence in real time (100 ms frames) until the answer is
closed, as the page's open microphone does. *manual*: `answer_end` at once
(a candidate who presses "Done" instantly: manual's best case); *auto*:
`turn_detection: auto`, the server ends the answer after
`ANSWER_END_SILENCE_MS` of silence, drafting off (`PREEMPTIVE_STABLE_MS=0`);
*auto + preemptive*: the same with `PREEMPTIVE_STABLE_MS=800`. Measured at the
interview default `ANSWER_END_SILENCE_MS=2500` and at 1000 (a voice
assistant's setting). In auto mode the gap is the silence window plus what
the server does after it, so drafting can only shorten the second part: the
"after the silence window" columns (gap − `ANSWER_END_SILENCE_MS`) are the part
the server controls. Server pinned to CPU 0, fakes and client to CPU 1.

**Barge-in** (`bench/voice_barge_in.py`): the real page in headless Chromium,
the fake microphone looping espeak-ng speech then silence, hands-free after the
first answer; every later question (8 s of audio, streamed by the fake TTS at
about real time in 128 ms chunks) is still playing when the next speech
starts. Page clock (`performance.now()`, recorded by a script the benchmark
adds): start of speech = the first 4 ms poll of a second analyser on the
page's microphone stream whose last 512 samples peak at 0.02 or more after 1 s
below it (the speech reaching the page's audio graph; a real microphone's
capture latency is not in it); playback stopped = the question `<audio>`'s
`pause` event after it; server = arrival of the question's last `tts_chunk` minus the
moment the page called `interrupt` (one localhost hop each way: an upper
bound of the server's own time; negative = every chunk had arrived before).
`INTERRUPTION_MIN_MS=500` (the default): the page pauses a question at the
first loud frame and tells the server only once the sound has lasted 500 ms; a
shorter sound (a cough) lets it play on from where it paused. Server pinned to
CPU 0, Chromium not pinned.
"""

from __future__ import annotations

import asyncio

from . import voice_barge_in, voice_gap
from .common import LOAD_CPUS, Result, Table, check, pinned_to

SILENCES = (2500, 1000)
AIM_RATIO = 1.5
AIM_STOP_MS = 300


def gap_tables(result: Result, turns: int, gaps: dict[int, dict[str, list[float]]]) -> None:
    t = Table(
        f"Response gap: end of speech → first tts_chunk of the next question ({turns} turn(s) per mode)",
        ["ANSWER_END_SILENCE_MS", "mode", "p50 ms", "p99 ms", "after the silence window, p50 ms"],
    )
    r = Table(
        "Response gap ratios, auto / auto + preemptive (p50)",
        ["ANSWER_END_SILENCE_MS", "whole gap", "after the silence window (gap − silence)", "manual p50 ms"],
    )
    sums = {silence: voice_gap.summary(gaps[silence], silence) for silence in SILENCES}
    for silence, s in sums.items():
        for mode in voice_gap.MODES:
            after = f"{s['after'][mode]:.0f}" if mode in s["after"] else "–"
            t.rows.append([silence, mode, f"{s['p50'][mode]:.0f}", f"{s['p99'][mode]:.0f}", after])
        r.rows.append([silence, f"{s['ratio']:.2f}x", f"{s['after_ratio']:.2f}x", f"{s['p50']['manual']:.0f}"])
    t.notes.append(
        "p99 of a handful of turns is close to their maximum. Manual is measured on the auto server "
        "(turn_detection is per session); the silence window does not apply to it."
    )
    r.notes.append(
        f"PREEMPTIVE_STABLE_MS={voice_gap.PREEMPTIVE_STABLE_MS}: a draft starts once the transcript has been stable that "
        "long (the default); a draft still being written when the answer ends is spoken sentence by sentence as it "
        "streams, so at 1000 ms, where it starts only 200 ms before the end, it saves less."
    )
    result.tables += [t, r]
    for silence, s in sums.items():
        auto, pre = s["p50"]["auto"], s["p50"]["auto+preemptive"]
        setting = "interview default 2500 ms" if silence == 2500 else f"ANSWER_END_SILENCE_MS={silence}"
        check(
            result,
            f"auto+preemptive >= {AIM_RATIO}x faster than auto (p50), {setting}",
            s["ratio"] >= AIM_RATIO,
            f"{s['ratio']:.2f}x ({auto:.0f} → {pre:.0f} ms)",
        )
    s = sums[2500]
    after_auto, after_pre = s["after"]["auto"], s["after"]["auto+preemptive"]
    check(
        result,
        f"after the silence window (gap − 2500 ms, the server's part): auto+preemptive >= {AIM_RATIO}x faster than auto",
        s["after_ratio"] >= AIM_RATIO,
        f"{s['after_ratio']:.2f}x ({after_auto:.0f} → {after_pre:.0f} ms)",
    )


def barge_in_table(result: Result, measured: dict) -> None:
    rows = measured["rows"]
    s = voice_barge_in.summary(rows)
    t = Table(
        f"Barge-in in Chromium ({len(rows)} barge-in(s); INTERRUPTION_MIN_MS={voice_barge_in.INTERRUPTION_MIN_MS})",
        ["measure (page clock)", "p50 ms", "max ms"],
    )
    for label, key in (
        ("start of speech → <audio> paused", "stopped_ms"),
        ("start of speech → interrupt sent", "interrupt_ms"),
        ("interrupt sent → last tts_chunk of the question arrived", "last_chunk_ms"),
        ("start of speech, after the question began playing", "into_question_ms"),
    ):
        p50, worst = s[key]
        t.rows.append([label, f"{p50:.0f}", f"{worst:.0f}"])
    chunk_ms = voice_barge_in.CHUNK_S * 1000
    after = s["chunks_after"][1]
    t.notes.append(
        f"one tts_chunk = {voice_barge_in.CHUNK_BYTES} B of 128 kbit/s MP3 = {chunk_ms:.0f} ms of audio; chunks arriving "
        f"after interrupt was sent: at most {after:.0f} per barge-in; barge-ins skipped (speech began before the "
        f"question played): {measured['skipped']}."
    )
    result.tables.append(t)
    stop50, stop_max = s["stopped_ms"]
    check(
        result,
        f"barge-in: playback stopped within {AIM_STOP_MS} ms of the start of speech (p50, Chromium)",
        stop50 <= AIM_STOP_MS,
        f"{stop50:.0f} ms (max {stop_max:.0f})",
    )
    last = s["last_chunk_ms"][1]
    check(
        result,
        f"barge-in: no tts_chunk more than one chunk's duration ({chunk_ms:.0f} ms) after the server is told (max)",
        last <= chunk_ms,
        f"last chunk {last:+.0f} ms from interrupt sent; {after:.0f} chunk(s) after it",
    )


def run(quick: bool) -> Result:
    result = Result("6. Voice turns")
    turns, barge_ins = (1, 1) if quick else (15, 5)
    with pinned_to(LOAD_CPUS):
        gaps = asyncio.run(voice_gap.measure_all(SILENCES, turns, together=quick))
    gap_tables(result, turns, gaps)
    absent = voice_barge_in.missing()
    if absent:  # say so instead of failing the smoke run on a machine without a browser
        result.tables.append(Table("Barge-in in Chromium", ["skipped"], [[f"not available here: {absent}"]]))
    else:
        barge_in_table(result, voice_barge_in.measure(barge_ins))
    result.method = __doc__ or ""
    return result
