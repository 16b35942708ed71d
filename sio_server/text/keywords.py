"""Crude keyword extraction for Korean and English text (no dependencies).

Used by the offline LLM to weave resume / job-description / answer keywords into
questions and to measure how well answers cover the job description.

The approach is deliberately simple:

* tokens are runs of Latin letters (keeping ``+ # . - /`` inside tech names such
  as ``C++``, ``Node.js``, ``CI/CD``) or runs of Hangul;
* English stop words and common resume verbs are dropped;
* Korean tokens lose a trailing particle (은/는/이/가/을/를/에서/으로 ...), tokens
  that look like verb or adjective forms (…습니다, …하는, …했고) are dropped, and
  only tokens of two or more Hangul characters are kept;
* the remaining tokens are ranked by frequency plus bonuses for tech-looking
  forms (``PostgreSQL``, ``AWS``, ``C++``, a small known-tech table) and for
  capitalised words in the middle of a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["extract_keywords", "has_hangul", "keyword_set", "normalize"]


def _words(text: str) -> list[str]:
    """Whitespace-separated words of a data table written as one string."""
    return text.split()


_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[.\-/][A-Za-z0-9]+)*[+#]*|[가-힣]+")
_HANGUL_RE = re.compile(r"[가-힣]")
_SENTENCE_BREAKS = set(".!?\n:;•*·|-–—>")

EN_STOP = frozenset(
    _words(
        """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each etc few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours yourself yourselves via per within across among
    get got go goes went make made take took give gave let lot lots thing things really well much
    many one two three four five first second new good great best strong excellent solid able
    ability experience experiences experienced year years month months team teams work works worked
    working job role roles company companies candidate candidates responsibilities responsibility
    requirements required requirement preferred plus including include includes knowledge skill
    skills understanding familiarity familiar proficiency proficient hands-on environment environments
    opportunity opportunities people day days time times various multiple like using use used uses
    build built develop developed development help helped helps manage managed lead led create
    created implement implemented design designed improve improved support supported ensure
    responsible project projects part way ways also yes okay ok think thought know knew want wanted
    need needed try tried see saw say said tell told feel felt kind sort bit always never often
    sometimes usually something anything everything someone everyone nothing each every
    position applicant applicants looking seeking join joining related relevant end ends start
    rest top back side whole lot place point case fact stuff
    """
    )
)

KO_STOP = frozenset(
    _words(
        """
    저는 제가 저희 저의 저도 나는 내가 우리 우리는 그리고 그래서 그러나 하지만 그런데 또한 또는 혹은
    정말 진짜 너무 아주 매우 많이 조금 가장 항상 자주 다시 이번 당시 그때 이때 지금 현재 이후 이전
    동안 이런 그런 저런 어떤 모든 여러 다양 다양한 각각 때문 경우 정도 부분 관련 위해 통해 대해
    대한 것을 것이 것은 것도 생각 경험 업무 회사 직무 프로젝트 지원 담당 역할 능력 역량 수준 분야
    기반 이상 이하 우대 우대사항 자격 요건 자격요건 필수 주요 내용 방법 문제 결과 성과 과정 상황 과제
    행동 사람 사람들 팀원 동료 여기 거기 이것 그것 저것 무엇 누구 언제 어디 어떻게 왜 있습니다
    했습니다 합니다 입니다 됩니다 같습니다 감사합니다 안녕하세요 네 예 아니요 그냥 사실 일단 먼저
    마지막 처음 다음 이제 계속 함께 같이 서로 모두 전체 대부분 약간 거의 특히 주로 보통
    팀원들 동료들 이야기 의견 회의 각자 방식 편입니다 생각합니다 부분들 것들 정도로
    """
    )
)

_KO_PARTICLES = tuple(
    sorted(
        _words(
            """에서는 에게서 으로는 으로서 으로써 에서도 이라고 이라는 에서 으로 에게 까지 부터 처럼 보다
        에는 에도 이나 과는 와는 이고 이며 이랑 랑 은 는 이 가 을 를 에 의 로 와 과 도 만"""
        ),
        key=len,
        reverse=True,
    )
)

_KO_VERB_ENDINGS = tuple(
    _words(
        """습니다 습니까 니다 어요 아요 해요 에요 예요 했고 하고 하며 해서 했던 하는 하던 했다 한다 된다
    되는 되어 되었 됐고 됐다 었고 았고 였고 었다 았다 였다 겠다 는데 지만 면서 으며 니까 도록 려고
    하여 하기 하게 했 인데 있는 없는 같은 위해 통해 대해 대한 라는 있고 있어 없이 으니 해야 하면
    되면 하자 했죠 해요 죠"""
    )
)

# lower-case form -> canonical display form
KNOWN_TECH: dict[str, str] = {
    t.lower(): t
    for t in _words(
        """
    Python Java JavaScript TypeScript Kotlin Swift Go Rust Ruby PHP Scala C++ C# SQL NoSQL MySQL
    PostgreSQL Postgres MongoDB Redis Kafka RabbitMQ Docker Kubernetes K8s AWS GCP Azure Terraform
    Ansible React Vue Angular Svelte Next.js Node.js Django Flask FastAPI Spring Rails GraphQL gRPC
    REST Linux Git GitHub Jenkins Spark Hadoop Airflow PyTorch TensorFlow Pandas NumPy Figma Jira
    Excel Tableau Elasticsearch Nginx CI/CD HTML CSS iOS Android Unity LLM ML AI MLOps DevOps SRE
    Kubeflow Prometheus Grafana Snowflake BigQuery Redshift Flutter SwiftUI Webpack Vite
    """
    )
}
# English words that are only tech names when capitalised.
_AMBIGUOUS_TECH = frozenset({"go", "swift", "rust", "ruby", "spring", "rails", "react", "unity", "excel", "rest"})

KO_TECH = frozenset(
    _words(
        """파이썬 자바 자바스크립트 타입스크립트 코틀린 리액트 쿠버네티스 도커 데이터베이스 머신러닝 딥러닝
    인공지능 클라우드 백엔드 프론트엔드 서버 인프라 마이크로서비스 데이터 파이프라인 알고리즘 보안
    마케팅 디자인 기획 분석 자동화 테스트 배포 모니터링 최적화"""
    )
)


@dataclass
class _Candidate:
    """One distinct keyword seen in a text, with what was learnt about it."""

    display: str
    first: int
    count: int = 0
    tech: bool = False
    capitalised: bool = False
    latin_in_korean: bool = False

    @property
    def salient(self) -> bool:
        """Worth quoting back: a tech/proper name, a repeated word or a Korean noun."""
        return self.tech or self.capitalised or self.count >= 2 or has_hangul(self.display)

    @property
    def score(self) -> float:
        """Rank: frequency plus bonuses for tech-looking or proper-noun forms."""
        return (
            self.count
            + (3.0 if self.tech else 0.0)
            + (1.5 if self.capitalised else 0.0)
            + (1.0 if self.latin_in_korean else 0.0)
            + min(len(self.display), 12) * 0.05
        )


def has_hangul(text: str) -> bool:
    """Whether ``text`` contains any Hangul syllable."""
    return bool(_HANGUL_RE.search(text))


def _strip_particle(token: str) -> str:
    """Remove one trailing Korean particle, keeping at least two characters."""
    for particle in _KO_PARTICLES:
        if token.endswith(particle) and len(token) - len(particle) >= 2:
            return token[: -len(particle)]
    return token


def normalize(token: str) -> str:
    """The comparison key of a token: lower case, Korean particle removed."""
    if has_hangul(token):
        return _strip_particle(token)
    return token.lower()


def _is_sentence_start(text: str, start: int) -> bool:
    """Whether the token at ``start`` begins a sentence, line or bullet."""
    before = text[:start].rstrip(" \t\"'([")
    return not before or before[-1] in _SENTENCE_BREAKS or before[-1].isdigit()


def _is_tech(form: str) -> bool:
    """Whether a Latin token looks like a technology or product name."""
    key = form.lower()
    if key in KNOWN_TECH:
        return key not in _AMBIGUOUS_TECH or form[0].isupper()
    if any(ch in form for ch in "+#./") or any(ch.isdigit() for ch in form):
        return True
    inner_upper = any(ch.isupper() for ch in form[1:])
    return inner_upper and len(form) >= 2  # PostgreSQL, AWS, gRPC


def _latin_candidate(form: str, sentence_start: bool) -> tuple[str, bool, bool] | None:
    """Keep/drop decision for a Latin token: (key, tech, capitalised) or None."""
    key = form.lower()
    tech = _is_tech(form)
    capitalised = form[0].isupper() and not sentence_start and not tech
    if tech:
        return key, True, False
    if len(form) < 3 or key in EN_STOP:
        return None
    looks_inflected = len(key) > 4 and re.search(r"(ed|ing|ly)$", key)
    if form[1:].islower() and looks_inflected:  # built, working, quickly (not "Spring")
        return None
    return key, False, capitalised


def _korean_candidate(form: str) -> str | None:
    """Keep/drop decision for a Hangul token: its key or None."""
    if form in KO_STOP or form.endswith(_KO_VERB_ENDINGS):
        return None
    key = _strip_particle(form)
    if len(key) < 2 or key in KO_STOP or key.endswith(_KO_VERB_ENDINGS):
        return None
    return key


def _candidates(text: str) -> Iterator[tuple[str, str, int, bool, bool, bool]]:
    """Yield (key, display, position, tech, capitalised, latin_in_korean) per kept token."""
    korean_text = has_hangul(text)
    for match in _TOKEN_RE.finditer(text):
        form = match.group().rstrip(".-/")
        if not form:
            continue
        if has_hangul(form):
            key = _korean_candidate(form)
            if key is not None:
                yield key, key, match.start(), key in KO_TECH, False, False
            continue
        decided = _latin_candidate(form, _is_sentence_start(text, match.start()))
        if decided is None:
            continue
        key, tech, capitalised = decided
        display = KNOWN_TECH.get(key, form) if tech else form
        yield key, display, match.start(), tech, capitalised, korean_text


def _ranked(text: str) -> list[_Candidate]:
    """All kept keywords of ``text``, best first (ties: first occurrence)."""
    seen: dict[str, _Candidate] = {}
    for key, display, pos, tech, capitalised, latin_in_korean in _candidates(text):
        cand = seen.get(key)
        if cand is None:
            cand = seen[key] = _Candidate(display=display, first=pos)
        elif capitalised and not cand.capitalised and not cand.tech:
            cand.display = display
        cand.count += 1
        cand.tech |= tech
        cand.capitalised |= capitalised
        cand.latin_in_korean |= latin_in_korean
    return sorted(seen.values(), key=lambda c: (-c.score, c.first))


def extract_keywords(text: str, limit: int = 10, *, salient_only: bool = False) -> list[str]:
    """The ``limit`` best keywords of ``text`` in display form, best first.

    ``salient_only`` drops one-off lower-case English words (worth quoting back
    to a candidate only when they are names, tech terms or repeated).
    """
    if not text or limit <= 0:
        return []
    ranked = [c for c in _ranked(text) if c.salient or not salient_only]
    return [c.display for c in ranked[:limit]]


def keyword_set(text: str) -> set[str]:
    """Every kept keyword of ``text`` as a normalised key (for overlap checks)."""
    return {key for key, *_ in _candidates(text or "")}
