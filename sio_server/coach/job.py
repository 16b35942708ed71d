"""What the interviewer knows about the job: its name, its company and its terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..domain.model import InterviewConfig
from ..text.keywords import extract_keywords, has_hangul, job_phrases, match_forms, mentions, normalize
from .data import language_pack, tuning
from .relevance import content_stems

__all__ = ["JobProfile", "clean_line", "job_profile"]


@dataclass(frozen=True)
class JobProfile:
    """The job as the interviewer sees it.

    ``role`` is how questions name it ("the Backend Engineer role at Acme");
    ``phrases`` are multi-word terms of the job description and résumé;
    ``jd_terms``/``cv_terms`` are their best terms usable in this language;
    ``reference`` maps each job term's key to its display form (answers are
    checked against it); ``stems`` are the content stems of everything above.
    The job title is one term ("데이터 엔지니어", not two) and, like the company,
    is never among the terms: it names the job, it is not a skill to ask about.
    """

    language: str
    role: str
    company: str
    phrases: frozenset[str]
    jd_terms: tuple[str, ...]
    cv_terms: tuple[str, ...]
    reference: dict[str, str]
    stems: frozenset[str]
    # Answers already measured in this interview (analysis.analyse_answer): the planner measures every
    # answer so far before each question, so without it an interview costs O(answers²) analyses.
    measured: dict[tuple, object] = field(default_factory=dict, compare=False, repr=False)

    def usable(self, term: str) -> bool:
        """Whether ``term`` can be quoted in this interview's language."""
        return self.language == "ko" or not has_hangul(term)


def clean_line(text: str, limit: int) -> str:
    """``text`` trimmed to one short line without trailing punctuation."""
    text = " ".join(text.split()).strip(" .,!?;:")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return text


def _role_phrase(config: InterviewConfig) -> str:
    """How templates refer to the job: "the X role at Y" / "Y의 X 직무", or generically."""
    phrases = language_pack(config.language).role
    title = clean_line(config.job_title, tuning().max_job_title)
    company = clean_line(config.company, tuning().max_company)
    if title and company:
        return phrases.titled_at_company.format(title=title, company=company)
    if title:
        return phrases.titled.format(title=title)
    if company:
        return phrases.generic_at_company.format(company=company)
    return phrases.generic


@lru_cache(maxsize=128)
def job_profile(config: InterviewConfig) -> JobProfile:
    """The job profile of an interview's settings (cached: settings are immutable)."""
    language = config.language
    title = clean_line(config.job_title, tuning().max_job_title)
    company = clean_line(config.company, tuning().max_company)
    phrases = job_phrases(config.job_description, config.resume_text)
    if len(title.split()) > 1:
        phrases |= {normalize(title)}
    names = match_forms(f"{title} . {company}")

    def skill(term: str) -> bool:
        """Not the title, the company or a piece of them ("Backend Engineer" in "Senior Backend Engineer")."""
        return not set(match_forms(term)) <= set(names) and not mentions(names, term)

    def terms(text: str, limit: int) -> tuple[str, ...]:
        words = extract_keywords(text, limit=limit, phrases=phrases)
        return tuple(w for w in words if (language == "ko" or not has_hangul(w)) and skill(w))

    jd_terms, cv_terms = terms(config.job_description, 12), terms(config.resume_text, 12)
    source = config.job_description.strip() or config.job_title
    reference = {normalize(k): k for k in terms(source, 25)}
    everything = " ".join([config.job_title, company, *reference.values(), *cv_terms])
    return JobProfile(
        language=language,
        role=_role_phrase(config),
        company=company,
        phrases=phrases,
        jd_terms=jd_terms,
        cv_terms=cv_terms,
        reference=reference,
        stems=content_stems(everything, language),
    )
