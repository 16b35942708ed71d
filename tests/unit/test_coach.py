"""The offline interviewer's terms, follow-ups, closing turn and set-up options (issue 12, items 4 and 6)."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from sio_server.domain.model import InterviewConfig, Turn
from sio_server.coach import build_feedback, next_question
from sio_server.coach.data import LanguagePack, language_pack
from sio_server.coach.templates import detect_template
from sio_server.text.keywords import extract_keywords, job_phrases, keyword_set

NOW = datetime(2024, 1, 1, tzinfo=UTC)
JD = (
    "We are hiring a backend engineer to design APIs in Python, run services on Kubernetes "
    "and tune PostgreSQL. Experience with Prometheus monitoring is a plus."
)
RESUME = "Backend engineer, 6 years. Built Python APIs serving 2M users on Kubernetes; cut p99 latency by 40%."
BREAD = (
    "At the time my sourdough kept coming out flat. My goal was a loaf with an open crumb for a family dinner, "
    "so I changed the hydration, started a longer cold proof and baked it in a Dutch oven at 250 degrees. "
    "The Dutch oven made all the difference: the loaf rose twice as high and I learned a lot about fermentation."
)
WITH_NUMBERS = (
    "In my last job I owned our Kafka setup end to end. We had 14 outages a month, so I rebuilt the Kafka "
    "configuration and added Prometheus alerts; as a result outages fell by 80% and p99 latency dropped 120 ms."
)


def cfg(**kw) -> InterviewConfig:
    base = {"language": "en", "job_title": "Backend Engineer", "job_description": JD, "resume_text": RESUME}
    return InterviewConfig(**(base | kw))


def turn(index: int, question: str, answer: str | None) -> Turn:
    return Turn(index=index, question=question, asked_at=NOW, answer=answer, answered_at=NOW if answer else None)


def kinds_of(config: InterviewConfig, answer: str) -> list[str | None]:
    """The template kinds of a whole interview where every answer is ``answer``."""
    turns: list[Turn] = []
    for i in range(1, config.max_questions + 1):
        q = next_question(config, tuple(turns), i, i == config.max_questions)
        turns.append(turn(i, q, answer))
    return [detect_template(config.language, t.question).kind for t in turns]


# ----------------------------------------------------------- multi-word terms


def test_multi_word_terms_are_kept_whole() -> None:
    assert "Dutch oven" in extract_keywords(BREAD, salient_only=True)
    assert "Dutch" not in extract_keywords(BREAD, limit=20)
    assert "Spring Boot" in extract_keywords("Spring Boot로 결제 API를 개발했습니다. Spring Boot 운영 5년.")
    assert "머신 러닝" in extract_keywords("머신 러닝 모델을 서빙하는 백엔드를 만들었습니다.")
    assert "machine learning" in extract_keywords("I moved machine learning models to production.", limit=20)
    assert "머신러닝" in keyword_set("머신 러닝을 공부했습니다")  # spacing does not matter in Korean


def test_job_phrases_come_from_the_job_description_and_resume() -> None:
    jd = "결제 시스템 백엔드 개발자를 찾습니다. 결제 시스템 운영 경험 우대."
    phrases = job_phrases(jd, "payment platform team lead; built the payment platform")
    assert {"결제시스템", "payment platform"} <= phrases
    assert "결제 시스템" in extract_keywords(jd, phrases=phrases)


def test_resume_question_names_the_whole_term_in_korean() -> None:
    config = cfg(
        language="ko",
        job_title="백엔드 개발자",
        job_description="",
        resume_text="Spring Boot, JPA, MySQL. 결제 API 개발 5년.",
    )
    intro = "안녕하세요, 백엔드 개발자입니다. 결제 시스템을 5년간 개발하며 장애를 줄이고 성능을 개선했습니다."
    seen = []
    for i in range(12):
        c = config.model_copy(update={"job_title": f"백엔드 개발자 {i}"})
        seen.append(next_question(c, (turn(1, "자기소개 부탁드립니다.", intro),), 2, False))
    assert any("Spring Boot" in q for q in seen), seen
    assert not any(re.search(r"(?<!Spring )Boot|Spring(?! Boot)", q) for q in seen), seen


# ------------------------------------------------------------------ follow-ups


def test_off_topic_answer_gets_a_request_to_connect_it_to_the_role() -> None:
    for i in range(10):
        config = cfg(job_title=f"Backend Engineer {i}", max_questions=6)
        q = next_question(config, (turn(1, next_question(config, (), 1, False), BREAD),), 2, False)
        assert detect_template("en", q).kind == "followup_relevance", q
        assert f"Backend Engineer {i}" in q
        assert "Dutch" not in q


def test_follow_up_never_asks_for_what_the_answer_already_gave() -> None:
    followups = []
    for i in range(40):
        config = cfg(job_title=f"Backend Engineer {i}", persona="challenging", difficulty="hard", max_questions=6)
        q = next_question(config, (turn(1, "Tell me about a recent project.", WITH_NUMBERS),), 2, False)
        template = detect_template("en", q)
        if template.kind == "followup":
            followups.append(q)
            assert "numbers" not in template.asks, q
            assert not re.search(r"numbers|measur", q, re.IGNORECASE), q
    assert followups, "the hard, challenging interviewer should follow up at least once in 40 interviews"
    assert all("Kafka" in q or "Prometheus" in q for q in followups), followups


def test_follow_up_quotes_a_relevant_term_not_an_odd_word() -> None:
    answer = (
        "I rebuilt our Kubernetes deployment for the payments API. On Friday evenings the Dutch team and I "
        "reviewed the rollout, and the Kubernetes change cut deploy time in half."
    )
    quoted = []
    for i in range(30):
        config = cfg(job_title=f"Backend Engineer {i}", max_questions=6)
        q = next_question(config, (turn(1, "Tell me about a recent project.", answer),), 2, False)
        if detect_template("en", q).kind == "followup":
            quoted.append(q)
    assert quoted
    assert all("Kubernetes" in q for q in quoted), quoted


def test_hard_difficulty_follows_up_twice_in_a_row_and_medium_once() -> None:
    def longest_followup_run(difficulty: str) -> int:
        best = 0
        for i in range(8):
            config = cfg(
                job_title=f"Backend Engineer {i}", difficulty=difficulty, persona="challenging", max_questions=10
            )
            run = 0
            for kind in kinds_of(config, WITH_NUMBERS.replace("Kafka", "Kubernetes")):
                run = run + 1 if kind in ("followup", "followup_short", "followup_relevance") else 0
                best = max(best, run)
        return best

    assert longest_followup_run("medium") == 1
    assert longest_followup_run("hard") == 2


# ---------------------------------------------------------------- closing turn

CLOSING_Q = (
    "We're nearing the end of the interview. Is there anything you'd like to ask us, or anything you'd like to add?"
)
KO_CLOSING_Q = "면접을 마무리할 시간이 되었습니다. 마지막으로 저희에게 궁금한 점이나 덧붙이고 싶은 말씀이 있으신가요?"


def closing_score(config: InterviewConfig, question: str, reply: str) -> tuple[int, str, list[str]]:
    answer = (
        WITH_NUMBERS if config.language == "en" else "지난 회사에서 Kafka 설정을 다시 구성해 장애를 80% 줄였습니다."
    )
    fb = build_feedback(config, (turn(1, "Tell me about a recent project.", answer), turn(2, question, reply)))
    return fb.per_question[1].score, fb.per_question[1].comment, fb.improvements


def test_a_polite_no_questions_is_fine_and_a_thoughtful_question_is_better() -> None:
    config = cfg()
    decline, decline_comment, improvements = closing_score(config, CLOSING_Q, "No questions, thank you.")
    asked, asked_comment, _ = closing_score(
        config,
        CLOSING_Q,
        "Yes: how does the team decide when a service is ready for Kubernetes, and how is on-call shared?",
    )
    assert 65 <= decline < asked
    assert asked >= 85
    assert "polite" in decline_comment.lower() and "question" in decline_comment.lower()
    assert "Kubernetes" in asked_comment
    assert not any("short" in i for i in improvements)


def test_korean_closing_and_a_vendor_closing_question_are_recognised() -> None:
    config = cfg(language="ko", job_title="백엔드 개발자")
    decline, comment, _ = closing_score(config, KO_CLOSING_Q, "아니요, 없습니다. 감사합니다.")
    asked, _, _ = closing_score(config, KO_CLOSING_Q, "팀에서 장애 대응 온콜은 어떻게 운영되는지 궁금합니다.")
    assert 65 <= decline < asked
    assert "정중" in comment
    vendor = "Thanks, that was my last question. Do you have any questions for us?"
    score, _, _ = closing_score(cfg(), vendor, "No, I don't have any questions. Thank you!")
    assert score >= 65


# ------------------------------------------------------------ set-up options


def test_company_appears_in_the_opener_and_the_summary() -> None:
    for language in ("en", "ko"):
        config = cfg(language=language, company="Acme Pay")
        assert "Acme Pay" in next_question(config, (), 1, False)
        fb = build_feedback(config, (turn(1, "Q1", WITH_NUMBERS),))
        assert "Acme Pay" in fb.summary


def test_company_motivation_question_when_a_company_is_given() -> None:
    config = cfg(company="Acme Pay", interview_type="behavioural", max_questions=10)
    questions = []
    turns: list[Turn] = []
    for i in range(1, 11):
        q = next_question(config, tuple(turns), i, i == 10)
        questions.append(q)
        turns.append(turn(i, q, WITH_NUMBERS))
    assert sum("Acme Pay" in q for q in questions) >= 2, questions


@pytest.mark.parametrize("language", ["en", "ko"])
def test_interview_type_picks_behavioural_or_technical_questions(language: str) -> None:
    technical_kinds = {"technical", "problem_solving"}
    behavioural_kinds = {"conflict", "failure", "deadline", "leadership"}
    behavioural = kinds_of(cfg(language=language, interview_type="behavioural", max_questions=10), WITH_NUMBERS)
    technical = kinds_of(cfg(language=language, interview_type="technical", max_questions=10), WITH_NUMBERS)
    assert not technical_kinds & set(behavioural), behavioural
    assert sum(k in behavioural_kinds for k in behavioural) >= 3
    assert sum(k in technical_kinds for k in technical) >= 3, technical
    assert sum(k in behavioural_kinds for k in technical) <= 1, technical


def test_difficulty_changes_scoring_strictness_but_not_the_persona() -> None:
    middling = (
        "I was responsible for the API. I talked to the team and we looked at the PostgreSQL queries for a while."
    )
    scores = {
        d: build_feedback(cfg(difficulty=d), (turn(1, "Tell me about a project.", middling),)).per_question[0].score
        for d in ("easy", "medium", "hard")
    }
    assert scores["easy"] > scores["medium"] > scores["hard"], scores
    easy_q = next_question(cfg(difficulty="easy"), (), 1, False)
    hard_q = next_question(cfg(difficulty="hard"), (), 1, False)
    assert detect_template("en", easy_q).persona == detect_template("en", hard_q).persona == "professional"


def test_hard_difficulty_prefers_advanced_templates() -> None:
    def advanced_share(difficulty: str) -> int:
        kinds = 0
        for i in range(4):
            config = cfg(job_title=f"Backend Engineer {i}", difficulty=difficulty, max_questions=10)
            turns: list[Turn] = []
            for n in range(1, 11):
                q = next_question(config, tuple(turns), n, n == 10)
                turns.append(turn(n, q, WITH_NUMBERS))
                kinds += detect_template("en", q).tier == "advanced"
        return kinds

    assert advanced_share("hard") > advanced_share("medium") > advanced_share("easy")


# ---------------------------------------------------------------- data files


@pytest.mark.parametrize("language", ["en", "ko"])
def test_language_packs_load_and_a_broken_one_is_rejected(language: str) -> None:
    pack = language_pack(language)
    assert pack.language == language
    raw = json.loads(pack.model_dump_json())
    del raw["banks"]["closing"]
    with pytest.raises(ValidationError):
        LanguagePack.model_validate(raw)
    raw = json.loads(pack.model_dump_json())
    raw["closing"]["decline"] = ["(unclosed"]
    with pytest.raises(ValidationError):
        LanguagePack.model_validate(raw)


# ------------------------------------------------------------------ robustness

ODD_ANSWERS = [
    None,
    "네",
    "Yes.",
    "🙂 " * 40,
    "a" * 5000,
    "Python, Kafka, AWS, Docker, K8s",
    "저는 Spring Boot와 머신 러닝으로 결제 API를 만들었고 응답 시간을 40% 줄였습니다. " * 20,
    WITH_NUMBERS,
]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_set_up_runs_a_whole_interview_without_repeats(language: str) -> None:
    """Every persona × difficulty × interview type, with and without company/title/JD, and odd answers."""
    jobs = [("", "", ""), ("Acme", "", "Go, gRPC, Kafka"), ("한빛", "백엔드 개발자", "Spring Boot 기반 결제 시스템")]
    for n, (persona, difficulty, kind, (company, title, jd)) in enumerate(
        itertools.product(
            ("professional", "friendly", "challenging"),
            ("easy", "medium", "hard"),
            ("behavioural", "technical", "mixed"),
            jobs,
        )
    ):
        config = InterviewConfig(
            language=language,
            persona=persona,
            difficulty=difficulty,
            interview_type=kind,
            company=company,
            job_title=title,
            job_description=jd,
            max_questions=7,
        )
        turns: list[Turn] = []
        for i in range(1, 8):
            q = next_question(config, tuple(turns), i, i == 7)
            assert q[-1] in ".?!" and detect_template(language, q), q
            assert q not in [t.question for t in turns], q
            turns.append(turn(i, q, ODD_ANSWERS[(n + i) % len(ODD_ANSWERS)]))
        feedback = build_feedback(config, tuple(turns))
        assert 0 <= feedback.overall_score <= 100
        assert all(q.comment for q in feedback.per_question)


def test_noise_is_never_a_keyword() -> None:
    assert extract_keywords("a" * 5000) == []
    assert extract_keywords("가" * 100 + " 결제") == ["결제"]


def test_data_files_are_declared_as_package_data() -> None:
    """``pip install .`` ships every data file the interviewer and the keyword extractor read."""
    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    for package, folder in (
        ("sio_server.coach", "sio_server/coach"),
        ("sio_server.text", "sio_server/text"),
    ):
        base = root / folder
        shipped = {p for pattern in package_data[package] for p in base.glob(pattern)}
        assert set(base.rglob("*.json")) <= shipped, package
        assert shipped, package
