"""Tests for the offline interviewer (questions and heuristic feedback)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest

from sio_server.domain.model import Feedback, InterviewConfig, Turn
from sio_server.coach import next_question
from sio_server.coach.templates import CLOSING, detect_template, templates
from sio_server.text.keywords import extract_keywords, keyword_set
from sio_server.vendors.llm import FeedbackRequest, QuestionRequest
from sio_server.vendors.offline_llm import OfflineLLM


def fallback_question(request: QuestionRequest) -> str:
    """The offline interviewer's question for ``request`` (what the provider streams)."""
    return next_question(request.config, request.turns, request.index, request.is_last)


HANGUL = re.compile(r"[가-힣]")
NOW = datetime(2024, 1, 1, tzinfo=UTC)

EN_JD = (
    "We are hiring a backend engineer to design APIs in Python, run services on Kubernetes "
    "and tune PostgreSQL. Experience with Prometheus monitoring is a plus."
)
EN_RESUME = (
    "Backend engineer, 6 years. Migrated the billing platform to Terraform and Kafka on AWS. "
    "Built Python APIs serving 2M users; cut p99 latency by 40%."
)
KO_JD = "Python, PostgreSQL, 쿠버네티스 경험이 있는 백엔드 개발자를 찾습니다. API 설계와 모니터링을 담당합니다."
KO_RESUME = "6년차 백엔드 개발자입니다. 결제 시스템을 Kafka 기반으로 전환했고, PostgreSQL 쿼리 성능을 40% 개선했습니다."

EN_STAR = (
    "At my previous company the situation was that our checkout API kept timing out during sales. "
    "My task was to stabilise it before Black Friday, so I profiled the PostgreSQL queries, added caching "
    "and moved the workers to Kubernetes with autoscaling. I also set up Prometheus alerts and walked the "
    "team through the runbook. As a result we reduced p99 latency by 45% and cut incidents from 12 to 2 "
    "per month within 3 months, and the Python service handled twice the peak traffic."
)
KO_STAR = (
    "당시 결제 API가 대규모 할인 행사 때마다 지연되는 상황이었습니다. 제 역할은 행사 전에 시스템을 안정화하는 것이었고, "
    "그래서 PostgreSQL 쿼리를 직접 분석해 인덱스를 추가하고 쿠버네티스 오토스케일링을 도입했습니다. "
    "모니터링 대시보드도 새로 설계해서 팀과 공유했습니다. 결과적으로 응답 시간을 45% 줄였고, 월 장애 건수를 12건에서 2건으로 낮췄습니다."
)


def cfg(**kw) -> InterviewConfig:
    """An English backend interview unless overridden."""
    base = {
        "language": "en",
        "persona": "professional",
        "job_title": "Backend Engineer",
        "job_description": EN_JD,
        "resume_text": EN_RESUME,
        "max_questions": 5,
    }
    base.update(kw)
    return InterviewConfig(**base)


def turn(index: int, question: str, answer: str | None) -> Turn:
    return Turn(index=index, question=question, asked_at=NOW, answer=answer, answered_at=NOW if answer else None)


async def ask(llm: OfflineLLM, request: QuestionRequest) -> str:
    return "".join([piece async for piece in llm.stream_question(request)])


async def run_interview(config: InterviewConfig, answers: list[str | None]) -> list[Turn]:
    """Ask every question of ``config``, answering with ``answers`` in turn (cycled)."""
    llm = OfflineLLM()
    turns: list[Turn] = []
    n = config.max_questions
    for i in range(1, n + 1):
        question = await ask(llm, QuestionRequest(config, tuple(turns), i, i == n))
        turns.append(turn(i, question, answers[(i - 1) % len(answers)]))
    return turns


ANSWERS_EN = [
    "I'm a backend engineer who has spent six years on payment systems, mostly Python and Kafka.",
    EN_STAR,
    "Honestly I just try to talk to people early and agree on the plan before writing code.",
    "Yes.",
]
ANSWERS_KO = [
    "안녕하세요, 6년 동안 결제 시스템을 개발해 온 백엔드 개발자입니다. 주로 Kafka와 Python을 사용했습니다.",
    KO_STAR,
    "먼저 관련된 사람들과 일찍 이야기해서 계획을 맞추고 나서 개발을 시작하는 편입니다.",
    "네.",
]


# --------------------------------------------------------------------- basics


def test_provider_attributes() -> None:
    llm = OfflineLLM(delay=0.25)
    assert llm.name == "offline"
    assert llm.offline is True
    assert llm.delay == 0.25


@pytest.mark.asyncio
async def test_stream_yields_several_pieces_that_join_to_a_question() -> None:
    llm = OfflineLLM()
    pieces = [p async for p in llm.stream_question(QuestionRequest(cfg(), (), 1, False))]
    text = "".join(pieces)
    assert len(pieces) > 3
    assert text == text.strip()
    assert text[-1] in "?."
    assert "Backend Engineer" in text
    assert 1 <= len(re.findall(r"[.?!](?:\s|$)", text)) <= 3


@pytest.mark.asyncio
async def test_delay_slows_the_stream_and_feedback() -> None:
    llm = OfflineLLM(delay=0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await ask(llm, QuestionRequest(cfg(), (), 1, False))
    assert loop.time() - start >= 0.18
    start = loop.time()
    await llm.feedback(FeedbackRequest(cfg(), ()))
    assert loop.time() - start >= 0.18


# ---------------------------------------------------------------- determinism


@pytest.mark.asyncio
async def test_same_request_gives_same_question() -> None:
    turns = (turn(1, "Tell me about yourself.", ANSWERS_EN[1]),)
    request = QuestionRequest(cfg(), turns, 2, False)
    first = await ask(OfflineLLM(), request)
    second = await ask(OfflineLLM(), request)
    assert first == second
    assert fallback_question(request) == fallback_question(request)


@pytest.mark.asyncio
async def test_whole_interview_is_reproducible() -> None:
    a = await run_interview(cfg(max_questions=8), ANSWERS_EN)
    b = await run_interview(cfg(max_questions=8), ANSWERS_EN)
    assert [t.question for t in a] == [t.question for t in b]


@pytest.mark.asyncio
async def test_different_inputs_give_different_interviews() -> None:
    base = [t.question for t in await run_interview(cfg(max_questions=6), ANSWERS_EN)]
    other_job = [
        t.question
        for t in await run_interview(
            cfg(
                max_questions=6,
                job_title="Product Designer",
                job_description="Own the design system in Figma and run usability research.",
                resume_text="Designer at a fintech startup. Led the Figma design system and ran interviews with 40 users.",
            ),
            ANSWERS_EN,
        )
    ]
    assert base != other_job
    assert any("Product Designer" in q for q in other_job)


# ------------------------------------------------------------------ languages


@pytest.mark.asyncio
@pytest.mark.parametrize("persona", ["professional", "friendly", "challenging"])
async def test_korean_interview_is_in_korean(persona: str) -> None:
    config = cfg(
        language="ko",
        persona=persona,
        job_title="백엔드 개발자",
        job_description=KO_JD,
        resume_text=KO_RESUME,
        max_questions=6,
    )
    for t in await run_interview(config, ANSWERS_KO):
        assert HANGUL.search(t.question), t.question
        assert t.question[-1] in "?.", t.question


@pytest.mark.asyncio
@pytest.mark.parametrize("persona", ["professional", "friendly", "challenging"])
async def test_english_interview_has_no_hangul(persona: str) -> None:
    for t in await run_interview(cfg(persona=persona, max_questions=6), ANSWERS_EN):
        assert not HANGUL.search(t.question), t.question
        assert t.question[-1] in "?.", t.question


@pytest.mark.asyncio
async def test_english_interview_skips_korean_keywords() -> None:
    config = cfg(resume_text=KO_RESUME, job_description=KO_JD, max_questions=6)
    for t in await run_interview(config, ANSWERS_EN):
        assert not HANGUL.search(t.question), t.question


# -------------------------------------------------------------- personalising


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["en", "ko"])
async def test_job_title_and_resume_keyword_appear(language: str) -> None:
    if language == "en":
        config, answers, title = cfg(), ANSWERS_EN, "Backend Engineer"
    else:
        title = "백엔드 개발자"
        config = cfg(language="ko", job_title=title, job_description=KO_JD, resume_text=KO_RESUME)
        answers = ANSWERS_KO
    questions = [t.question for t in await run_interview(config, answers)]
    assert title in questions[0]
    resume_words = extract_keywords(config.resume_text, limit=12)
    assert any(word in q for q in questions[1:-1] for word in resume_words), questions


def test_no_job_title_uses_a_generic_opener() -> None:
    en = fallback_question(QuestionRequest(cfg(job_title=""), (), 1, False))
    ko = fallback_question(QuestionRequest(cfg(language="ko", job_title=""), (), 1, False))
    assert "this role" in en
    assert "이 직무" in ko


@pytest.mark.parametrize("language", ["en", "ko"])
def test_persona_changes_the_wording(language: str) -> None:
    def questions(persona: str) -> list[str]:
        config = cfg(language=language, persona=persona)
        turns = (turn(1, "Q1", ANSWERS_EN[1] if language == "en" else KO_STAR),)
        return [
            fallback_question(QuestionRequest(config, (), 1, False)),
            fallback_question(QuestionRequest(config, turns, 2, False)),
            fallback_question(QuestionRequest(config, turns, 2, True)),
        ]

    pro, friendly, hard = questions("professional"), questions("friendly"), questions("challenging")
    for a, b, c in zip(pro, friendly, hard):
        assert len({a, b, c}) == 3


def test_challenging_persona_probes() -> None:
    """Across a long interview the challenging interviewer asks about failure, trade-offs or numbers."""
    config = cfg(persona="challenging", max_questions=10)
    turns = asyncio.run(run_interview(config, ANSWERS_EN))
    probing = re.compile(r"differently|trade-off|trade off|numbers|measur|fail|wrong", re.IGNORECASE)
    assert sum(bool(probing.search(t.question)) for t in turns) >= 3


# ----------------------------------------------------------------- structure


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("persona", ["professional", "friendly", "challenging"])
async def test_no_repeats_in_a_long_interview(language: str, persona: str) -> None:
    answers = ANSWERS_EN if language == "en" else ANSWERS_KO
    for n in (10, 20):
        config = cfg(language=language, persona=persona, max_questions=n)
        turns = await run_interview(config, answers)
        questions = [t.question for t in turns]
        assert len(set(questions)) == n
        used = [detect_template(language, q) for q in questions]
        assert all(used)
        assert len(set(used)) == n  # not just different keywords: different templates


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["en", "ko"])
async def test_first_is_opener_and_last_is_closing(language: str) -> None:
    answers = ANSWERS_EN if language == "en" else ANSWERS_KO
    turns = await run_interview(cfg(language=language, max_questions=5), answers)
    assert detect_template(language, turns[0].question).kind == "opener"
    last = turns[-1].question
    assert detect_template(language, last).kind == CLOSING
    if language == "en":
        assert re.search(r"ask|question", last, re.IGNORECASE)
    else:
        assert re.search(r"궁금|질문|마지막", last)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_single_question_interview_is_an_opener_that_stands_alone(language: str) -> None:
    question = fallback_question(QuestionRequest(cfg(language=language, max_questions=1), (), 1, True))
    assert detect_template(language, question).kind == "single"
    assert "Backend Engineer" in question


def test_templates_are_recognisable() -> None:
    """Every template's signature is long and found in no other template (so reuse can be detected)."""
    for language in ("en", "ko"):
        bank = templates(language)
        for t in bank:
            assert len(t.signature) >= 12, t
            assert [o for o in bank if t.signature in o.text] == [t]
            if language == "ko":
                assert HANGUL.search(t.text)
            else:
                assert not HANGUL.search(t.text)


def test_template_used_by_a_vendor_question_is_not_reused() -> None:
    config = cfg(max_questions=5)
    first = fallback_question(QuestionRequest(config, (), 1, False))
    turns = (turn(1, first, ANSWERS_EN[1]),)
    second = fallback_question(QuestionRequest(config, turns, 2, False))
    assert detect_template("en", second) != detect_template("en", first)


# ---------------------------------------------------------------- follow-ups


def _follow_up_after(language: str, answer: str, persona: str = "professional", resume: str = EN_RESUME) -> str:
    config = cfg(language=language, persona=persona, resume_text=resume, max_questions=6)
    opener = fallback_question(QuestionRequest(config, (), 1, False))
    return fallback_question(QuestionRequest(config, (turn(1, opener, answer),), 2, False))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_follow_up_quotes_a_word_from_the_previous_answer(language: str) -> None:
    tools = ["Kafka", "Terraform", "Elasticsearch", "GraphQL", "Airflow", "Redis", "Snowflake", "Grafana"]
    quoted = 0
    for tool in tools:
        if language == "en":
            answer = (
                f"In my last job I owned our {tool} setup end to end. We had recurring outages, so I rebuilt "
                f"the {tool} configuration and documented it for the rest of the team."
            )
        else:
            answer = f"지난 회사에서 {tool} 운영을 전담했습니다. 장애가 반복되어서 {tool} 설정을 처음부터 다시 구성하고 문서로 정리했습니다."
        question = _follow_up_after(language, answer)
        if detect_template(language, question).kind == "followup":
            assert tool in question
            quoted += 1
    assert quoted >= 1


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("persona", ["professional", "friendly", "challenging"])
def test_short_answer_gets_a_request_for_a_concrete_example(language: str, persona: str) -> None:
    question = _follow_up_after(language, "Yes." if language == "en" else "네, 있습니다.", persona)
    assert detect_template(language, question).kind == "followup_short"
    if language == "en":
        assert re.search(r"example|specific|concrete", question, re.IGNORECASE)
    else:
        assert re.search(r"사례|예시|예로|구체적|실제 경험", question)


def test_after_a_short_follow_up_the_interview_moves_on() -> None:
    config = cfg(max_questions=6)
    q1 = fallback_question(QuestionRequest(config, (), 1, False))
    t1 = turn(1, q1, "Yes.")
    q2 = fallback_question(QuestionRequest(config, (t1,), 2, False))
    q3 = fallback_question(QuestionRequest(config, (t1, turn(2, q2, "No.")), 3, False))
    assert detect_template("en", q3).kind not in {"followup", "followup_short"}


# ---------------------------------------------------------------- keywords


def test_keyword_extraction_prefers_tech_terms() -> None:
    words = extract_keywords(EN_RESUME, limit=5)
    assert {"Terraform", "Kafka", "AWS", "Python"} & set(words)
    assert not {"the", "and", "years"} & {w.lower() for w in words}


def test_korean_keywords_strip_particles() -> None:
    keys = keyword_set("쿠버네티스를 도입했고 결제시스템의 장애를 줄였습니다")
    assert "쿠버네티스" in keys
    assert "결제시스템" in keys
    assert "장애" in keys
    assert not any(k.endswith("습니다") for k in keys)


# ------------------------------------------------------------------ feedback


def _feedback(config: InterviewConfig, turns: list[Turn]) -> Feedback:
    return asyncio.run(OfflineLLM().feedback(FeedbackRequest(config, tuple(turns))))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_star_answer_with_numbers_beats_one_word(language: str) -> None:
    config = cfg(language=language, job_description=EN_JD if language == "en" else KO_JD)
    good, bad = (EN_STAR, "Yes.") if language == "en" else (KO_STAR, "네.")
    fb = _feedback(config, [turn(1, "Q1", good), turn(2, "Q2", bad)])
    scores = {q.index: q.score for q in fb.per_question}
    assert scores[1] >= 75
    assert scores[2] <= 30
    assert scores[1] > scores[2] + 40
    for q in fb.per_question:
        assert 0 <= q.score <= 100
        assert q.comment
    assert fb.fallback is False


def test_comments_are_specific() -> None:
    config = cfg()
    no_result = "I was responsible for the API. I talked to the team and we looked at the PostgreSQL queries and some other things for a while."
    fb = _feedback(config, [turn(1, "Q1", EN_STAR), turn(2, "Q2", "Yes."), turn(3, "Q3", no_result)])
    comments = {q.index: q.comment for q in fb.per_question}
    assert "45%" in comments[1] or "numbers" in comments[1]
    assert "brief" in comments[2].lower()
    assert "result" in comments[3].lower()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_empty_interview_scores_zero(language: str) -> None:
    config = cfg(language=language)
    for turns in ([], [turn(1, "Q1", None)], [turn(1, "Q1", "   ")]):
        fb = _feedback(config, turns)
        assert fb.overall_score == 0
        assert fb.per_question == []
        assert fb.strengths and fb.improvements
        assert bool(HANGUL.search(fb.summary)) == (language == "ko")


def test_unanswered_turns_are_left_out_but_lower_the_overall() -> None:
    config = cfg()
    answered = _feedback(config, [turn(1, "Q1", EN_STAR), turn(2, "Q2", EN_STAR)])
    partial = _feedback(config, [turn(1, "Q1", EN_STAR), turn(2, "Q2", None)])
    assert [q.index for q in partial.per_question] == [1]
    assert partial.overall_score < answered.overall_score
    assert any("unanswered" in item for item in partial.improvements)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_feedback_text_is_in_the_interview_language(language: str) -> None:
    if language == "en":
        config, answers = cfg(), ANSWERS_EN
    else:
        config, answers = cfg(language="ko", job_description=KO_JD, resume_text=KO_RESUME), ANSWERS_KO
    turns = [turn(i + 1, f"Q{i + 1}", a) for i, a in enumerate(answers)]
    fb = _feedback(config, turns)
    assert 0 < fb.overall_score <= 100
    assert 1 <= len(fb.strengths) <= 3
    assert 1 <= len(fb.improvements) <= 3
    texts = [fb.summary, *fb.strengths, *fb.improvements, *(q.comment for q in fb.per_question)]
    for text in texts:
        assert bool(HANGUL.search(text)) == (language == "ko"), text
    assert 1 <= len(re.findall(r"[.!?](?:\s|$)", fb.summary)) <= 2


def test_strengths_and_improvements_reflect_the_evidence() -> None:
    config = cfg()
    strong = _feedback(config, [turn(i, f"Q{i}", EN_STAR) for i in range(1, 4)])
    weak = _feedback(config, [turn(i, f"Q{i}", "Not sure, I think so.") for i in range(1, 4)])
    assert strong.overall_score > weak.overall_score
    assert any("numbers" in s for s in strong.strengths)
    assert not any("numbers" in s for s in weak.strengths)
    assert any("Quantify" in s or "numbers" in s for s in weak.improvements)
    assert any("short" in s for s in weak.improvements)


def test_feedback_is_deterministic() -> None:
    turns = [turn(i + 1, f"Q{i + 1}", a) for i, a in enumerate(ANSWERS_EN)]
    assert _feedback(cfg(), turns) == _feedback(cfg(), turns)


# ---------------------------------------------------------- fallback_question


@pytest.mark.parametrize("language", ["en", "ko"])
def test_fallback_question_in_both_languages(language: str) -> None:
    config = cfg(language=language, max_questions=4)
    turns: list[Turn] = []
    for i in range(1, 5):
        q = fallback_question(QuestionRequest(config, tuple(turns), i, i == 4))
        assert q and q[-1] in "?."
        assert bool(HANGUL.search(q)) == (language == "ko")
        assert q not in [t.question for t in turns]
        turns.append(turn(i, q, "Some answer about my work with Python and Kafka at scale for many years."))
