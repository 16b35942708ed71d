"""The start form knows what the server can do before Start (GET /api/v1/capabilities), in Chromium."""

from __future__ import annotations

import pytest

from sio_server.devtools.browser.helpers import (
    ANSWERS,
    answer_current,
    hook,
    open_page,
    start,
    wait_feedback,
    wait_hook,
)
from sio_server.vendors.pocketsphinx_stt import installed

AUDIO = """() => {
    const a = document.getElementById('tts-audio');
    return { time: a.currentTime, error: a.error ? a.error.code : null };
}"""


def open_form(page, url: str) -> None:
    open_page(page, url)
    wait_hook(page, "s.capabilities !== null")


def form_state(page) -> dict:
    return page.evaluate(
        """() => ({
        voiceDisabled: document.getElementById('mode-voice').disabled,
        mode: document.querySelector('input[name=mode]:checked').value,
        reason: document.getElementById('mode-voice-reason').hidden ? null : document.getElementById('mode-voice-reason').textContent,
        notice: document.getElementById('capability-notice').hidden ? null : document.getElementById('capability-notice').textContent,
    })"""
    )


def test_with_no_key_the_form_offers_typed_answers_and_says_questions_are_read_aloud(server, page):
    open_form(page, server.url)
    page.locator("label[for='lang-en']").click()
    assert form_state(page) == {
        "voiceDisabled": True,
        "mode": "text",
        "reason": "Voice answers need speech recognition, which this server does not have.",
        "notice": "Questions are read aloud; answers are typed.",
    }
    assert page.is_disabled("#mode-voice"), "voice cannot be chosen"
    assert page.is_checked("#speak_questions"), "with no key the questions are still read aloud"
    page.locator("label[for='lang-ko']").click()
    korean = form_state(page)
    assert korean["notice"] == "질문은 음성으로 읽어 드리고, 답변은 글로 입력합니다." and korean["voiceDisabled"]

    start(page, language="en", mode="voice", questions=1)  # voice is not offered: the form's text stays
    assert hook(page, "s.mode") == "text" and page.is_hidden("#mode-notice"), "no surprise after Start"
    # The question is spoken by espeak-ng: its MP3 streams in and really plays through MediaSource.
    wait_hook(page, "s.ttsEnded >= 1 && s.ttsChunksReceived > 0 && s.ttsChunksPlayed === s.ttsChunksReceived")
    page.wait_for_function(
        "() => document.getElementById('tts-audio').currentTime > 0.2 || document.getElementById('tts-audio').error"
    )
    audio = page.evaluate(AUDIO)
    assert audio["error"] is None and audio["time"] > 0.2, audio
    answer_current(page, ANSWERS["en"][0])
    wait_feedback(page)


def test_with_no_speech_at_all_the_form_says_everything_is_text(server_factory, page):
    server = server_factory({"OFFLINE_TTS": "false"}).start()
    open_form(page, server.url)
    page.locator("label[for='lang-en']").click()
    state = form_state(page)
    assert state["voiceDisabled"] and state["mode"] == "text"
    assert state["notice"] == "This server has no speech: questions are shown as text and answers are typed."


def test_with_one_openai_key_voice_and_hands_free_are_the_default(server_factory, page):
    # No end-of-speech events from OpenAI, but the server's VAD judges linear16 answers (nothing is called before Start).
    server = server_factory({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}).start()
    open_form(page, server.url)
    page.locator("label[for='lang-en']").click()
    assert form_state(page) == {"voiceDisabled": False, "mode": "voice", "reason": None, "notice": None}
    assert page.evaluate("import('/static/form.js').then((m) => m.formConfig().audio_format)") == "linear16"


def test_with_speech_recognition_but_no_vad_a_manual_end_is_announced(server_factory, page):
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "VAD": "off"}
    server = server_factory(env).start()
    open_form(page, server.url)
    page.locator("label[for='lang-en']").click()
    assert form_state(page) == {
        "voiceDisabled": False,
        "mode": "voice",
        "reason": None,
        "notice": "Press “Done answering” to end each spoken answer; it does not end by itself.",
    }
    page.locator("label[for='mode-text']").click()
    assert form_state(page)["notice"] is None, "typed answers: everything asked for works"


def test_without_the_capabilities_answer_the_start_ack_still_says_text_mode(server, page):
    page.route("**/api/v1/capabilities", lambda route: route.abort())
    open_page(page, server.url)
    assert form_state(page)["mode"] == "voice" and form_state(page)["notice"] is None
    start(page, language="en", mode="voice", questions=1)
    assert hook(page, "s.mode") == "text" and page.is_visible("#mode-notice")


@pytest.mark.skipif(not installed(), reason="pocketsphinx (the [offline-stt] extra) is not installed")
def test_with_offline_speech_recognition_english_voice_answers_are_offered_with_a_rough_transcript(server_factory, page):
    server = server_factory({"OFFLINE_STT": "true"}).start()  # pocketsphinx, the [offline-stt] extra
    open_form(page, server.url)
    page.locator("label[for='lang-en']").click()
    english = form_state(page)
    assert english["voiceDisabled"] is False and english["mode"] == "voice" and english["reason"] is None
    assert english["notice"] in (
        "Spoken answers are transcribed offline, in English only: expect a rough transcript.",
        "Spoken answers get a rough offline transcript (English only); press “Done answering” to end each one.",
    )
    page.locator("label[for='lang-ko']").click()
    korean = form_state(page)
    assert korean["voiceDisabled"] and korean["mode"] == "text", "no licensed Korean model offline"
    assert korean["reason"] == "이 서버에서는 이 언어로 음성 답변을 할 수 없습니다."
    assert korean["notice"] == "질문은 음성으로 읽어 드리고, 답변은 글로 입력합니다."
