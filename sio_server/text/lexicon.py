"""The word tables of keyword extraction, loaded from ``lexicon.json`` (package data) at first use."""

from __future__ import annotations

from functools import cache, cached_property
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Lexicon", "lexicon"]


class Lexicon(BaseModel):
    """Stop words, Korean particles and verb endings, and known technology names and phrases."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    en_stop: frozenset[str] = Field(min_length=1)
    ko_stop: frozenset[str] = Field(min_length=1)
    ko_particles: tuple[str, ...] = Field(min_length=1)
    ko_verb_endings: tuple[str, ...] = Field(min_length=1)
    known_tech: tuple[str, ...] = Field(min_length=1)
    ambiguous_tech: frozenset[str]
    ko_tech: frozenset[str]
    phrases: tuple[str, ...]

    @field_validator("ko_particles")
    @classmethod
    def _longest_first(cls, particles: tuple[str, ...]) -> tuple[str, ...]:
        """Longest particle first, so 에서는 is removed before 는."""
        return tuple(sorted(particles, key=len, reverse=True))

    @cached_property
    def known_tech_keys(self) -> dict[str, str]:
        """Lower-case form -> canonical display form of every known technology name."""
        return {t.lower(): t for t in self.known_tech}


@cache
def lexicon() -> Lexicon:
    """The validated lexicon (read once)."""
    text = resources.files(__package__).joinpath("lexicon.json").read_text(encoding="utf-8")
    return Lexicon.model_validate_json(text)
