"""The hands-free end-of-answer rules, driven by a timeline of STT results."""

from __future__ import annotations

import pytest

from sio_server.interview.turn_detection import TurnDetectionConfig, TurnDetector, TurnSignal

CONFIG = TurnDetectionConfig(end_silence_s=2.5, notice_s=1.0, min_answer_words=3)


def run(timeline: list[tuple[float, str, str]], until: float, step: float = 0.05) -> list[tuple[float, TurnSignal]]:
    """Feed ``(time, kind, text)`` events and poll every ``step``; return the signals with their times."""
    detector = TurnDetector(CONFIG)
    events = sorted(timeline)
    signals = []
    for i in range(round(until / step) + 1):
        now = round(i * step, 6)
        while events and events[0][0] <= now:
            at, kind, text = events.pop(0)
            if kind == "utterance_end":
                signal = detector.utterance_end(at)
                if signal is not TurnSignal.NONE:
                    signals.append((round(at, 2), signal))
            elif kind == "speech_started":
                detector.speech_started(at)
            elif kind == "voiced":  # the server's VAD: text is the seconds of speech
                detector.voiced(at, float(text))
            else:
                detector.heard(at, text, kind == "final")
        signal = detector.poll(now)
        if signal is not TurnSignal.NONE:
            signals.append((round(now, 2), signal))
    return signals


def test_a_pause_inside_an_answer_does_not_end_it():
    timeline = [(0.5, "interim", "I led"), (1.0, "final", "I led the migration"), (2.5, "final", "to Postgres"),
                (4.0, "interim", "and then"), (4.5, "final", "and then we cut costs by half")]
    signals = run(timeline, until=6.0)
    # 1.5 s pause between 1.0 and 2.5, and between 2.5 and 4.0: a notice at most, never an end
    assert TurnSignal.END not in [s for _, s in signals]
    assert [s for _, s in signals] == [TurnSignal.ENDING, TurnSignal.RESUMED, TurnSignal.ENDING, TurnSignal.RESUMED, TurnSignal.ENDING]


def test_three_seconds_of_silence_end_it_once():
    signals = run([(0.5, "final", "I have five years of Python")], until=6.0)
    assert signals == [(1.5, TurnSignal.ENDING), (3.0, TurnSignal.END)]


def test_speech_after_the_notice_cancels_the_end():
    signals = run([(0.5, "final", "I have five years"), (2.0, "speech_started", ""), (2.4, "interim", "of Go")], until=5.5)
    assert signals[:2] == [(1.5, TurnSignal.ENDING), (2.0, TurnSignal.RESUMED)]
    assert signals[-1] == (4.9, TurnSignal.END)


def test_nothing_ends_before_the_minimum_answer():
    assert run([(0.5, "final", "Well")], until=10.0) == []
    assert run([(0.5, "final", "Well"), (1.0, "utterance_end", "")], until=1.2) == []


def test_the_vendor_utterance_end_ends_a_long_enough_answer_at_once():
    signals = run([(0.5, "final", "I built the billing system"), (1.6, "utterance_end", "")], until=1.7)
    assert signals == [(1.5, TurnSignal.ENDING), (1.6, TurnSignal.END)]


def test_next_check_is_the_next_threshold():
    detector = TurnDetector(CONFIG)
    assert detector.next_check(0.0) is None
    detector.heard(1.0, "one two three", True)
    assert detector.next_check(1.2) == pytest.approx(2.0)
    assert detector.poll(2.0) is TurnSignal.ENDING
    assert detector.next_check(2.0) == pytest.approx(3.5)
    assert detector.poll(3.5) is TurnSignal.END and detector.next_check(3.6) is None


def test_config_is_checked():
    with pytest.raises(ValueError):
        TurnDetectionConfig(end_silence_s=1.0, notice_s=1.0)


def voiced(start: float, end: float, step: float = 0.1) -> list[tuple[float, str, str]]:
    """The VAD hearing speech from ``start`` to ``end`` (one report per 100 ms chunk)."""
    return [(round(start + i * step, 6), "voiced", str(step)) for i in range(1, round((end - start) / step) + 1)]


def test_without_words_the_vads_speech_ends_the_answer_after_the_silence():
    """A file transcription gives no words before the end: the VAD's speech and silence decide."""
    signals = run(voiced(0.0, 2.0) + voiced(3.5, 5.0), until=9.0)  # a 1.5 s pause, then more speech
    assert signals == [(3.0, TurnSignal.ENDING), (3.6, TurnSignal.RESUMED), (6.0, TurnSignal.ENDING), (7.5, TurnSignal.END)]


def test_too_little_speech_never_ends_by_itself():
    assert run(voiced(0.0, 0.5), until=6.0) == [], "half a second of sound (a cough) is not an answer"


def test_min_speech_zero_leaves_it_to_the_words():
    detector = TurnDetector(TurnDetectionConfig(end_silence_s=2.5, notice_s=1.0, min_answer_words=3, min_speech_s=0))
    detector.voiced(1.0, 5.0)
    assert not detector.enough_said() and detector.poll(10.0) is TurnSignal.NONE


def test_with_the_vad_late_words_do_not_push_the_end_back():
    """A realtime segment's text arrives about a second after it was said: the VAD's timing stands."""
    signals = run(voiced(0.0, 2.0) + [(2.9, "final", "I fixed the slow query.")], until=6.0)
    assert signals == [(3.0, TurnSignal.ENDING), (4.5, TurnSignal.END)]
