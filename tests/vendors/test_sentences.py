"""SentenceSplitter: sentences come out as soon as they end, in English and Korean."""

from __future__ import annotations

import pytest

from sio_server.text.sentences import SentenceSplitter, split_sentences


def run(tokens: list[str]) -> tuple[list[str], list[str]]:
    splitter = SentenceSplitter()
    out: list[str] = []
    for token in tokens:
        out += splitter.push(token)
    return out, splitter.flush()


def chars(text: str) -> list[str]:
    return list(text)


@pytest.mark.parametrize(
    "text, sentences, rest",
    [
        ("Hello there. How are you? I am fine! Bye", ["Hello there.", "How are you?", "I am fine!"], ["Bye"]),
        ("Pi is 3.14 today. Next", ["Pi is 3.14 today."], ["Next"]),
        ("Use tools, e.g. Python and Go. Then stop", ["Use tools, e.g. Python and Go."], ["Then stop"]),
        ("I met Mr. Kim and Dr. Lee. Done", ["I met Mr. Kim and Dr. Lee."], ["Done"]),
        ("We shipped apps, libs, etc. and more. Ok", ["We shipped apps, libs, etc. and more."], ["Ok"]),
        ('He said "Stop." Then he left. Fin', ['He said "Stop."', "Then he left."], ["Fin"]),
        ("(It worked.) Really?! Yes", ["(It worked.)", "Really?!"], ["Yes"]),
        ("Well... maybe not. Hm", ["Well... maybe not."], ["Hm"]),
        ("J. Smith wrote it. End", ["J. Smith wrote it."], ["End"]),
        ("Version 2.0 is out.", [], ["Version 2.0 is out."]),
    ],
)
def test_english(text: str, sentences: list[str], rest: list[str]) -> None:
    assert run(chars(text)) == (sentences, rest)
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1].rstrip()
    assert run(words) == (sentences, rest)


@pytest.mark.parametrize(
    "text, sentences, rest",
    [
        ("안녕하세요. 저는 개발자입니다. 경력은", ["안녕하세요.", "저는 개발자입니다."], ["경력은"]),
        ("경력은 3.5년입니까? 네! 좋아요", ["경력은 3.5년입니까?", "네!"], ["좋아요"]),
        ("프로젝트를 마쳤습니다.다음 질문입니다", ["프로젝트를 마쳤습니다."], ["다음 질문입니다"]),
        ("「좋습니다。」그럼 시작하죠", ["「좋습니다。」"], ["그럼 시작하죠"]),
        (
            "어떤 역할을 맡으셨나요? 구체적으로 말씀해 주세요.",
            ["어떤 역할을 맡으셨나요?"],
            ["구체적으로 말씀해 주세요."],
        ),
    ],
)
def test_korean(text: str, sentences: list[str], rest: list[str]) -> None:
    assert run(chars(text)) == (sentences, rest)


def test_sentence_is_emitted_as_soon_as_the_next_word_starts() -> None:
    splitter = SentenceSplitter()
    assert splitter.push("Tell me about") == []
    assert splitter.push(" yourself.") == []  # could still be "etc." style
    assert splitter.push(" What") == ["Tell me about yourself."]
    assert splitter.push(" drew you?") == []
    assert splitter.push(" ") == ["What drew you?"]  # "?" ends at once on whitespace
    assert splitter.flush() == []


def test_flush_empty_and_whitespace() -> None:
    splitter = SentenceSplitter()
    assert splitter.flush() == []
    splitter.push("   ")
    assert splitter.flush() == []


async def test_split_sentences_async() -> None:
    async def tokens():
        for t in ["First one. ", "Second", " one? ", "Third"]:
            yield t

    assert [s async for s in split_sentences(tokens())] == ["First one.", "Second one?", "Third"]
