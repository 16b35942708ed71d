"""What we send an LLM and how we read its reply: the question and feedback prompts, the feedback JSON.

Provider-neutral (any Chat Completions-style API takes these messages); the
interview's set-up (job, company, interview type, difficulty, persona,
résumé) shapes the prompts here.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..domain.model import CategoryScores, Feedback, InterviewConfig, QuestionScore, Turn
from .llm import FeedbackRequest, QuestionRequest

CV_CHARS = 4000
JOB_DESCRIPTION_CHARS = 3000
ANSWER_CHARS = 1500


class InvalidFeedback(ValueError):
    """The LLM's feedback reply is not the JSON object we asked for."""


# ---------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------

PERSONAS = {
    "en": {
        "professional": "a professional, courteous interviewer who asks clear, well-structured questions",
        "friendly": "a warm, encouraging interviewer who puts the candidate at ease",
        "challenging": "a demanding interviewer who probes for specifics, evidence and trade-offs",
    },
    "ko": {
        "professional": "명확하고 체계적인 질문을 하는 정중하고 전문적인 면접관",
        "friendly": "지원자가 편안하게 답할 수 있도록 돕는 따뜻하고 친근한 면접관",
        "challenging": "구체적인 근거와 수치, 의사결정의 이유를 집요하게 묻는 까다로운 면접관",
    },
}


def _trim(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


INTERVIEW_TYPES = {
    "en": {
        "behavioural": "Behavioural interview: ask about past situations, teamwork, conflict, ownership and motivation.",
        "technical": "Technical interview: ask about the role's technical knowledge, problem solving, design and trade-offs.",
        "mixed": "Mixed interview: balance behavioural questions with technical ones for the role.",
    },
    "ko": {
        "behavioural": "인성·경험 면접: 과거 경험, 협업, 갈등 해결, 주도성, 지원 동기를 물으세요.",
        "technical": "기술 면접: 직무의 기술 지식, 문제 해결, 설계와 트레이드오프를 물으세요.",
        "mixed": "혼합 면접: 인성·경험 질문과 직무 기술 질문을 균형 있게 섞으세요.",
    },
}
DIFFICULTIES = {
    "en": {
        "easy": "Difficulty: easy. Keep questions approachable, for a junior candidate.",
        "medium": "Difficulty: medium. Expect solid, specific answers from an experienced candidate.",
        "hard": "Difficulty: hard. Ask senior-level questions with depth, edge cases and trade-offs.",
    },
    "ko": {
        "easy": "난이도: 쉬움. 신입 지원자도 답할 수 있는 평이한 질문을 하세요.",
        "medium": "난이도: 보통. 경력자에게 기대하는 구체적인 답을 이끌어 내세요.",
        "hard": "난이도: 어려움. 깊이, 예외 상황, 트레이드오프를 묻는 시니어 수준의 질문을 하세요.",
    },
}


def _context_block(config: InterviewConfig, ko: bool) -> str:
    lang = "ko" if ko else "en"
    parts = [INTERVIEW_TYPES[lang][config.interview_type] + " " + DIFFICULTIES[lang][config.difficulty]]
    if config.job_title.strip():
        parts.append(("직무: " if ko else "Job title: ") + config.job_title.strip())
    if config.company.strip():
        parts.append(("회사: " if ko else "Company: ") + config.company.strip())
    if config.job_description.strip():
        parts.append(
            ("직무 기술서:\n" if ko else "Job description:\n") + _trim(config.job_description, JOB_DESCRIPTION_CHARS)
        )
    if config.resume_text.strip():
        parts.append(("지원자 이력서:\n" if ko else "Candidate's resume:\n") + _trim(config.resume_text, CV_CHARS))
    return "\n\n".join(parts)


def _transcript(turns: tuple[Turn, ...], ko: bool) -> str:
    lines: list[str] = []
    for turn in turns:
        answer = _trim(turn.answer, ANSWER_CHARS) if turn.answer and turn.answer.strip() else None
        if ko:
            lines.append(f"질문 {turn.index}: {turn.question}")
            lines.append(f"답변 {turn.index}: {answer or '(답변 없음)'}")
        else:
            lines.append(f"Question {turn.index}: {turn.question}")
            lines.append(f"Answer {turn.index}: {answer or '(no answer)'}")
    return "\n".join(lines)


def question_messages(request: QuestionRequest) -> list[dict[str, str]]:
    """The chat messages asking for question ``request.index``: a system prompt and one user message."""
    cfg = request.config
    ko = cfg.language == "ko"
    persona = PERSONAS["ko" if ko else "en"][cfg.persona]
    role = cfg.job_title.strip()
    if ko:
        system = (
            f"당신은 {persona}입니다. "
            + (f"'{role}' 직무의 " if role else "")
            + "모의 면접을 한국어로 진행합니다. 존댓말을 사용하세요.\n"
            "규칙: 질문은 정확히 하나만, 1~3문장으로 쓰세요. 목록, 제목, 따옴표, '질문 3:' 같은 머리말 없이 "
            "면접관이 소리 내어 말할 문장만 쓰세요. 이전 질문을 반복하지 말고, 도움이 되면 지원자의 직전 답변을 이어받으세요."
        )
    else:
        system = (
            f"You are {persona}, running a mock job interview in English"
            + (f" for the role of {role}" if role else "")
            + ".\nRules: ask exactly ONE question in 1-3 sentences. Write only what the interviewer says aloud: "
            "no lists, headings, quotes or labels such as 'Question 3:'. Never repeat an earlier question; "
            "build on the candidate's previous answer when it helps."
        )
    context = _context_block(cfg, ko)
    if context:
        system += "\n\n" + context
    transcript = _transcript(request.turns, ko)
    n, total = request.index, cfg.max_questions
    if ko:
        user = (f"지금까지의 면접:\n{transcript}\n\n" if transcript else "아직 질문하지 않았습니다.\n\n") + (
            f"전체 {total}개 중 {n}번째 질문을 하세요."
        )
        if n == 1:
            user += " 첫 질문이므로 간단한 자기소개와 지원 동기를 묻는 질문으로 시작하세요."
        if request.is_last:
            user += " 마지막 질문이므로 면접을 마무리하는 질문(예: 지원자가 궁금한 점)을 하세요."
    else:
        user = (
            f"The interview so far:\n{transcript}\n\n" if transcript else "No questions have been asked yet.\n\n"
        ) + (f"Ask question {n} of {total}.")
        if n == 1:
            user += " It is the first question: open with a short introduction and motivation question."
        if request.is_last:
            user += " It is the last question: ask a closing question (for example, what the candidate would like to ask us)."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _answered(turns: tuple[Turn, ...]) -> list[Turn]:
    return [t for t in turns if t.answer and t.answer.strip()]


def feedback_messages(request: FeedbackRequest) -> list[dict[str, str]]:
    """The chat messages asking for the interview's feedback as one JSON object."""
    cfg = request.config
    ko = cfg.language == "ko"
    indexes = [t.index for t in _answered(request.turns)]
    language = "Korean (polite form)" if ko else "English"
    system = (
        "You are an experienced interview coach scoring a mock job interview. "
        "Reply with ONE JSON object and nothing else, with exactly these keys:\n"
        '{"overall_score": int 0-100, "summary": string (2-4 sentences), '
        '"strengths": [1-3 strings], "improvements": [1-3 strings], "categories": CATEGORIES, '
        '"per_question": [{"index": int, "score": int 0-100, "comment": string (1-2 sentences), '
        '"categories": CATEGORIES}]}\n'
        'where CATEGORIES is {"relevance": int 0-100, "structure": int 0-100, "evidence": int 0-100, '
        '"clarity": int 0-100}: relevance to the question and the role, structure (situation, action, result), '
        "evidence (specifics and numbers) and clarity.\n"
        f"Write every string in {language}. per_question must have exactly one entry for each answered "
        f"question, with the indexes {indexes}; unanswered questions get no entry but count as 0 in overall_score "
        "and in the overall categories. Score on relevance to the role, concrete examples (situation, action, "
        f"result), measurable impact and clarity, at the bar of a {cfg.difficulty} {cfg.interview_type} interview."
    )
    context = _context_block(cfg, ko=False)
    user = (
        (context + "\n\n" if context else "")
        + "Interview transcript:\n"
        + (_transcript(request.turns, ko=False) or "(empty)")
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


class FeedbackReply(BaseModel):
    """The JSON object we ask the LLM for (extra keys ignored)."""

    model_config = ConfigDict(extra="ignore")

    overall_score: int = Field(ge=0, le=100)
    summary: str = Field(min_length=1)
    strengths: list[str]
    improvements: list[str]
    per_question: list[QuestionScore]
    categories: CategoryScores | None = None


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_feedback(content: str | None, request: FeedbackRequest) -> Feedback:
    """Validate the LLM's reply into :class:`Feedback`; raise :class:`InvalidFeedback` saying what is wrong.

    Scores must be integers 0-100 and ``per_question`` must cover exactly the
    answered turns, each once (returned in index order). Categories, when given,
    must be the four names with integers 0-100; missing overall categories are the
    mean of the answers' (unanswered turns counting 0); a reply without any is
    still accepted (``categories`` None), as before issue 21.
    """
    if not content or not content.strip():
        raise InvalidFeedback("the reply was empty")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidFeedback(f"the reply is not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(data, dict):
        raise InvalidFeedback("the reply must be a JSON object")
    try:
        reply = FeedbackReply.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise InvalidFeedback(f"the JSON does not match the requested shape ({problems})") from exc
    expected = sorted(t.index for t in _answered(request.turns))
    got = [q.index for q in reply.per_question]
    if sorted(got) != expected:
        raise InvalidFeedback(f"per_question indexes must be exactly {expected}, got {got}")
    return Feedback(
        overall_score=reply.overall_score,
        summary=reply.summary.strip(),
        strengths=[s.strip() for s in reply.strengths if s.strip()],
        improvements=[s.strip() for s in reply.improvements if s.strip()],
        per_question=sorted(reply.per_question, key=lambda q: q.index),
        fallback=False,
        categories=reply.categories
        or CategoryScores.overall([q.categories for q in reply.per_question], len(request.turns)),
    )
