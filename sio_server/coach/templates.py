"""Question templates: the kinds of question, and recognising which template a question came from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from string import Formatter

from .data import language_pack

__all__ = [
    "BEHAVIOURAL",
    "CLOSING",
    "FOLLOWUP",
    "FOLLOWUPS",
    "FOLLOWUP_RELEVANCE",
    "FOLLOWUP_SHORT",
    "NOT_AGENDA",
    "OPENER",
    "SINGLE",
    "Template",
    "detect_template",
    "templates",
]

OPENER, SINGLE, CLOSING = "opener", "single", "closing"
RESUME, TECHNICAL, PROBLEM_SOLVING = "resume", "technical", "problem_solving"
MOTIVATION, GENERAL, FAILURE = "motivation", "general", "failure"
FOLLOWUP, FOLLOWUP_SHORT, FOLLOWUP_RELEVANCE = "followup", "followup_short", "followup_relevance"

BEHAVIOURAL = ("conflict", FAILURE, "deadline", "leadership")
FOLLOWUPS = frozenset({FOLLOWUP, FOLLOWUP_SHORT, FOLLOWUP_RELEVANCE})
NOT_AGENDA = frozenset({OPENER, SINGLE, CLOSING}) | FOLLOWUPS
KEYWORD_SLOTS = frozenset({"kw", "phrase"})


@dataclass(frozen=True)
class Template:
    """One question template of one bank."""

    kind: str
    persona: str
    text: str
    tier: str = "core"
    asks: tuple[str, ...] = ()
    praise: bool = False

    @property
    def slots(self) -> frozenset[str]:
        """The placeholder names the template needs."""
        return frozenset(name for _, name, _, _ in Formatter().parse(self.text) if name)

    @property
    def signature(self) -> str:
        """The longest fixed piece of text; finding it in a question means this template was used."""
        pieces = [literal.strip() for literal, *_ in Formatter().parse(self.text)]
        return max(pieces, key=len)


@cache
def _all(language: str) -> tuple[Template, ...]:
    return tuple(
        Template(kind, persona, item.text, item.tier, item.asks, item.praise)
        for kind, by_persona in language_pack(language).banks.items()
        for persona, items in by_persona.items()
        for item in items
    )


def templates(language: str, kind: str | None = None, persona: str | None = None) -> list[Template]:
    """The language's templates, optionally only one kind and/or persona."""
    return [t for t in _all(language) if (kind is None or t.kind == kind) and (persona is None or t.persona == persona)]


@cache
def _by_signature(language: str) -> tuple[Template, ...]:
    return tuple(sorted(_all(language), key=lambda t: -len(t.signature)))


def detect_template(language: str, question: str) -> Template | None:
    """The template ``question`` was built from, if it was one of ours."""
    return next((t for t in _by_signature(language) if t.signature in question), None)
