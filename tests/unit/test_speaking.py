"""How a spoken answer was said (coach/speaking.py): pace, fillers, the longest pause, talk time, hints.

Pure: a transcript, the STT's timed words (or none) and the audio's length in; measures and hints out.
"""

from __future__ import annotations

from sio_server.domain.model import Feedback, InterviewConfig, QuestionScore, Speaking, Turn, utcnow
from sio_server.interview import rules
from sio_server.interview.feedback_writer import with_speaking
from sio_server.interview.spoken import AnswerAudio
from sio_server.coach.data import language_pack
from sio_server.coach.speaking import combine, measure, units_of


def timed(text: str, words_per_s: float = 2.5, pauses: dict[int, float] | None = None) -> list[tuple[str, float, float]]:
    """``text``'s words spoken evenly at ``words_per_s``, with a silence of ``pauses[i]`` s before word ``i``."""
    out, clock = [], 0.0
    step = 1.0 / words_per_s
    for i, word in enumerate(text.split()):
        clock += (pauses or {}).get(i, 0.0)
        out.append((word, clock, clock + step * 0.8))
        clock += step
    return out


def test_english_pace_fillers_and_the_longest_pause_from_word_timings():
    text = "Um, I led the migration of our billing service, like, to Kubernetes and uh we cut costs by thirty percent in two months."
    words = timed(text, words_per_s=2.5, pauses={10: 3.2})
    s = measure(text, words, audio_s=0.0, language="en", time_limit_s=120)
    assert s.unit == "words" and s.units == 23 and s.timed
    assert s.talk_s == round(words[-1][2] - words[0][1], 1)
    assert s.rate_per_min == round(23 * 60 / (words[-1][2] - words[0][1]), 1)
    assert s.fillers_heard == {"um": 1, "like": 1, "uh": 1} and s.fillers == 3
    assert s.longest_pause_s == 3.3  # 3.2 s of silence plus the 0.08 s between two evenly spoken words
    assert s.time_limit_s == 120


def test_a_word_that_is_a_filler_only_before_a_pause():
    # "like" is a verb here and "so" joins a sentence: no pause follows them.
    text = "I like Python so much that I rewrote the service in it over a long weekend with the team."
    assert measure(text, timed(text), 0.0, "en").fillers == 0
    # The same words before a comma, or before a silence the word timings show, fill a pause.
    assert measure("It was, like, slow. So, we profiled it.", [], 8.0, "en").fillers_heard == {"like": 1, "so": 1}
    paused = "It was like slow and we profiled it for a whole day before we found it"
    words = timed(paused, pauses={3: 0.8})
    assert measure(paused, words, 0.0, "en").fillers_heard == {"like": 1}
    # "you know" and "i mean" are phrases.
    assert measure("We shipped it, you know, on time. I mean, mostly.", [], 8.0, "en").fillers_heard == {"you know": 1, "i mean": 1}


def test_korean_pace_is_syllables_a_minute_and_its_fillers():
    text = "음, 저는 그 프로젝트에서 어 API 설계를 맡았습니다. 그, 약간 어려웠지만 응답 시간을 40% 줄였습니다."
    assert units_of("API를 설계했습니다", "syllables") == 1 + 1 + 6  # "API" counts once, then 를 and 설계했습니다
    s = measure(text, [], audio_s=12.0, language="ko", time_limit_s=60)
    assert s.unit == "syllables" and s.units == units_of(text, "syllables")
    assert s.rate_per_min == round(s.units * 60 / 12.0, 1) and s.talk_s == 12.0
    # "음" and "어" always; "그" only before a pause ("그," yes, "그 프로젝트" is "that project"); "저는" is not "저".
    assert s.fillers_heard == {"음": 1, "어": 1, "그": 1}
    assert s.longest_pause_s is None and not s.timed  # no word timings: the longest pause is unknown


def test_hints_only_outside_the_usual_range_in_the_interview_language():
    usual = language_pack("en").speaking.usual
    calm = " ".join(["word"] * 60)  # 60 words in 27 s: about 133 a minute
    ok = measure(calm, timed(calm, words_per_s=60 / 27), 0.0, "en", 120)
    assert usual.rate[0] <= ok.rate_per_min <= usual.rate[1] and ok.hints == []
    fast = measure(calm, timed(calm, words_per_s=4.0), 0.0, "en", 120)
    assert fast.rate_per_min > usual.rate[1] and fast.hints[0].startswith("You spoke fast (")
    um = " ".join(["um I think"] * 20)
    assert any("filler words a minute (um ×20)" in h for h in measure(um, timed(um), 0.0, "en").hints)
    gap = measure(calm, timed(calm, words_per_s=60 / 27, pauses={30: 6.0}), 0.0, "en")
    assert any(h.startswith("The longest pause was 6.") for h in gap.hints)
    limit = measure(calm, [], 29.0, "en", 30)
    assert any(h.startswith("You talked for 29 s of the 30 s limit") for h in limit.hints)
    slow_ko = measure("네 " * 40, [], 30.0, "ko")
    assert slow_ko.hints and slow_ko.hints[0].startswith("말이 느린 편이었습니다(분당 80음절)")
    # Too little said to judge: figures, no rate, no hints.
    short = measure("Yes.", [], 1.5, "en", 60)
    assert short.rate_per_min is None and short.fillers_per_min is None and short.hints == []


def test_all_spoken_answers_together():
    a = measure("Um I led it " * 10, [], 20.0, "en", 30)
    b = measure("We cut costs " * 10, [], 29.5, "en", 30)
    both = combine([a, b], "en")
    assert both is not None and both.answers == 2 and both.talk_s == 49.5 and both.units == a.units + b.units
    assert both.rate_per_min == round(both.units * 60 / 49.5, 1) and both.fillers_heard == {"um": 10}
    assert "1 of your answers ran up to the time limit" in " ".join(both.hints)
    assert combine([], "en") is None and combine([a], "en") == a


def test_webm_audio_length_from_the_chunks_timing():
    audio = AnswerAudio()
    for i in range(5):
        audio.chunk(2000, now=10.0 + 0.25 * i)
    assert audio.seconds("webm") == 1.25  # 5 chunks 250 ms apart
    pcm = AnswerAudio()
    pcm.chunk(64000, now=0.0)
    assert pcm.seconds("linear16") == 2.0 and AnswerAudio().seconds("webm") == 0.0


def test_feedback_gets_the_turns_measures_and_never_a_writers_own():
    spoken = measure("I led the migration and we cut costs by a third in two months.", [], 6.0, "en")
    now = utcnow()
    session = rules.new_session(InterviewConfig(language="en", mode="voice"), "h" * 64, "voice")
    session.turns = [
        Turn(index=1, question="q1", asked_at=now, answer="spoken", speaking=spoken),
        Turn(index=2, question="q2", asked_at=now, answer="typed"),
    ]
    forged = Speaking(talk_s=1, units=1, unit="words", hints=["forged"])
    written = Feedback(
        overall_score=70, summary="s", strengths=[], improvements=[],
        per_question=[QuestionScore(index=1, score=70, comment="c", speaking=forged), QuestionScore(index=2, score=60, comment="c")],
    )  # fmt: skip
    out = with_speaking(written, session)
    assert out.per_question[0].speaking == spoken and out.per_question[1].speaking is None
    assert out.speaking == spoken and out.overall_score == 70 and [q.score for q in out.per_question] == [70, 60]
