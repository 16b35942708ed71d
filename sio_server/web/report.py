"""``GET /api/v1/sessions/{id}/report``: an interview's questions, answers and feedback to keep.

``?format=html`` (default) is a printable page (every text escaped, no script,
print style sheet), ``?format=md`` a Markdown file to download and
``?format=json`` the same content as data (the page's read-only history view).
Authentication is the session routes' own: the session's resume token or the
admin token (:func:`.admin.require_admin_or_session`). Labels are in
``report_labels.json``, in the interview's language.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web

from ..domain.model import CategoryScores, Feedback, Session, Status
from .admin import ApiError, require_admin_or_session

routes = web.RouteTableDef()
FORMATS = ("html", "md", "json")
HTML_POLICY = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
# What GitHub-flavoured renderers turn into a link by themselves (URLs with a scheme, www. hosts, e-mail
# addresses): shown as code, which no renderer links. Trailing punctuation stays outside, as the renderers do.
_LINKABLE = re.compile(
    r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b(?:mailto|xmpp):)[^\s`]*[^\s`.,;:!?'\")\]]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)


@cache
def _labels() -> dict[str, dict[str, str]]:
    return json.loads(resources.files(__package__).joinpath("report_labels.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Labels:
    """The report's labels in one language."""

    table: dict[str, str]

    def __call__(self, key: str, **values: Any) -> str:
        return self.table[key].format(**values)


def labels_for(language: str) -> Labels:
    """The labels of ``language`` (English for an unknown one)."""
    all_labels = _labels()
    return Labels(all_labels.get(language, all_labels["en"]))


def report_data(session: Session) -> dict[str, Any]:
    """The report's content as JSON-ready data (no token material, no résumé or job description).

    ``category_labels`` names the feedback's score categories in the interview's language.
    """
    cfg = session.config
    t = labels_for(cfg.language)
    return {
        "session_id": session.id,
        "status": session.status.value,
        "created_at": session.created_at.isoformat(),
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "config": cfg.model_dump(mode="json", exclude={"resume_text", "job_description", "audio_format"}),
        "turns": [{"index": t.index, "question": t.question, "answer": t.answer} for t in session.turns],
        "feedback": session.feedback.model_dump(mode="json") if session.feedback else None,
        "category_labels": {name: t(f"category.{name}") for name in CategoryScores.model_fields},
    }


def _title(session: Session, t: Labels) -> str:
    role, company = session.config.job_title.strip(), session.config.company.strip()
    if role and company:
        return f"{t('title')}: {t('role_at', role=role, company=company)}"
    return f"{t('title')}: {role or company}" if role or company else t("title")


def _meta(session: Session, t: Labels) -> list[tuple[str, str]]:
    cfg = session.config
    answered = sum(1 for turn in session.turns if turn.answer and turn.answer.strip())
    rows = [
        (t("date"), session.created_at.strftime("%Y-%m-%d %H:%M UTC")),
        (t("status"), t(f"status.{session.status.value}")),
        (t("interview_type"), t(f"interview_type.{cfg.interview_type}")),
        (t("difficulty"), t(f"difficulty.{cfg.difficulty}")),
        (t("persona"), t(f"persona.{cfg.persona}")),
        (t("answered"), t("answered.value", answered=answered, total=cfg.max_questions)),
    ]
    if cfg.answer_time_limit_s:
        rows.append((t("time_limit"), t("time_limit.value", seconds=cfg.answer_time_limit_s)))
    return rows


def _no_feedback(session: Session, t: Labels) -> str:
    return t("no_feedback.active") if session.status is Status.ACTIVE else t("no_feedback.ended")


def _scores(feedback: Feedback | None) -> dict[int, tuple[int, str]]:
    return {q.index: (q.score, q.comment) for q in feedback.per_question} if feedback else {}


def _categories(categories: CategoryScores | None, t: Labels) -> list[str]:
    """Each category's score as a localised phrase ("Relevance 80/100", "관련성 80점"); [] when there are none."""
    if categories is None:
        return []
    return [t("category.value", name=t(f"category.{n}"), score=v) for n, v in categories.model_dump().items()]


def _turn_categories(feedback: Feedback | None, t: Labels) -> dict[int, list[str]]:
    return {q.index: _categories(q.categories, t) for q in feedback.per_question} if feedback else {}


# -- Markdown --------------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """``text`` with Markdown's special characters backslash-escaped (no HTML, links or headings) and what a
    renderer would auto-link (``https://…``, ``www.…``, ``a@b.example``) in a code span."""
    out, last = [], 0
    text = text.strip()
    for found in _LINKABLE.finditer(text):
        out += [_MD_SPECIAL.sub(r"\\\1", text[last : found.start()]), f"`{found.group(0)}`"]
        last = found.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)


def md_line(text: str) -> str:
    """:func:`md_escape` of ``text`` on one line (a heading, a list item): every run of whitespace one space."""
    return md_escape(" ".join(text.split()))


def _md_quote(text: str) -> str:
    return "\n".join(f"> {md_escape(line)}" if line.strip() else ">" for line in text.strip().splitlines())


def _md_feedback(session: Session, t: Labels) -> list[str]:
    f = session.feedback
    out = [f"## {t('feedback')}", ""]
    if f is None:
        return [*out, f"_{_no_feedback(session, t)}_", ""]
    out += [f"**{t('overall')}: {f.overall_score}/100**", "", md_escape(f.summary), ""]
    if f.fallback:
        out += [f"_{t('fallback')}_", ""]
    if f.categories is not None:
        out += [f"### {t('categories')}", "", *(f"- {md_escape(c)}" for c in _categories(f.categories, t)), ""]
    for key, items in (("strengths", f.strengths), ("improvements", f.improvements)):
        out += [f"### {t(key)}", ""]
        out += [f"- {md_line(item)}" for item in items if item.strip()] or [f"- {t('none')}"]
        out.append("")
    return out


def render_markdown(session: Session) -> str:
    """The report as Markdown."""
    t = labels_for(session.config.language)
    out = [f"# {md_line(_title(session, t))}", ""]
    out += [f"- **{label}:** {md_line(value)}" for label, value in _meta(session, t)]
    out += ["", *_md_feedback(session, t), f"## {t('transcript')}", ""]
    scores = _scores(session.feedback)
    by_category = _turn_categories(session.feedback, t)
    for turn in session.turns:
        heading = t("question", index=turn.index)
        if turn.index in scores:
            heading += f" ({t('score', score=scores[turn.index][0])})"
        out += [f"### {heading}", "", md_escape(turn.question), ""]
        answer = turn.answer if turn.answer and turn.answer.strip() else None
        out += [_md_quote(answer) if answer else f"_{t('no_answer')}_", ""]
        if turn.index in scores and scores[turn.index][1].strip():
            out += [f"*{t('comment')}:* {md_escape(scores[turn.index][1])}", ""]
        if by_category.get(turn.index):
            out += [f"*{t('categories')}:* {md_escape(' · '.join(by_category[turn.index]))}", ""]
    return "\n".join(out).rstrip() + "\n"


# -- HTML --------------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text.strip(), quote=True)


def _html_feedback(session: Session, t: Labels) -> str:
    f = session.feedback
    if f is None:
        return f'<h2>{_e(t("feedback"))}</h2><p class="muted">{_e(_no_feedback(session, t))}</p>'
    parts = [
        f"<h2>{_e(t('feedback'))}</h2>",
        f'<p class="score">{_e(t("overall"))}: {f.overall_score}/100</p>',
        f"<p>{_e(f.summary)}</p>",
    ]
    if f.fallback:
        parts.append(f'<p class="muted">{_e(t("fallback"))}</p>')
    if f.categories is not None:
        lis = "".join(f"<li>{_e(c)}</li>" for c in _categories(f.categories, t))
        parts.append(f'<h3>{_e(t("categories"))}</h3><ul class="categories">{lis}</ul>')
    for key, items in (("strengths", f.strengths), ("improvements", f.improvements)):
        lis = "".join(f"<li>{_e(item)}</li>" for item in items if item.strip()) or f"<li>{_e(t('none'))}</li>"
        parts.append(f"<h3>{_e(t(key))}</h3><ul>{lis}</ul>")
    return "".join(parts)


def _html_turns(session: Session, t: Labels) -> str:
    scores = _scores(session.feedback)
    by_category = _turn_categories(session.feedback, t)
    parts = []
    for turn in session.turns:
        heading = t("question", index=turn.index)
        if turn.index in scores:
            heading += f" ({t('score', score=scores[turn.index][0])})"
        answer = turn.answer if turn.answer and turn.answer.strip() else None
        body = f"<blockquote>{_e(answer)}</blockquote>" if answer else f'<p class="muted">{_e(t("no_answer"))}</p>'
        comment = scores.get(turn.index, (0, ""))[1]
        note = f"<p><em>{_e(t('comment'))}:</em> {_e(comment)}</p>" if comment.strip() else ""
        if by_category.get(turn.index):
            note += f'<p class="categories"><em>{_e(t("categories"))}:</em> {_e(" · ".join(by_category[turn.index]))}</p>'
        parts.append(
            f'<section class="turn"><h3>{_e(heading)}</h3><p class="q">{_e(turn.question)}</p>{body}{note}</section>'
        )
    return "".join(parts)


def render_html(session: Session) -> str:
    """The report as a printable HTML page (no script)."""
    t = labels_for(session.config.language)
    title = _e(_title(session, t))
    meta = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in _meta(session, t))
    return (
        f'<!doctype html>\n<html lang="{_e(session.config.language)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        '<link rel="stylesheet" href="/static/report.css"></head><body><main>'
        f'<h1>{title}</h1><dl class="meta">{meta}</dl>{_html_feedback(session, t)}'
        f"<h2>{_e(t('transcript'))}</h2>{_html_turns(session, t)}</main></body></html>\n"
    )


def _filename(session: Session, extension: str) -> str:
    return f"interview-report-{session.created_at:%Y-%m-%d}-{session.id[:8]}.{extension}"


@routes.get("/api/v1/sessions/{session_id}/report")
async def get_report(request: web.Request) -> web.Response:
    """Admin or session: the report as ``html`` (default), ``md`` (attachment) or ``json``."""
    session = await require_admin_or_session(request)
    fmt = request.query.get("format", "html")
    if fmt not in FORMATS:
        raise ApiError(400, "invalid_query", "format must be 'html', 'md' or 'json'")
    headers = {"Cache-Control": "no-store"}
    if fmt == "json":
        return web.json_response(report_data(session), headers=headers)
    if fmt == "md":
        headers["Content-Disposition"] = f'attachment; filename="{_filename(session, "md")}"'
        return web.Response(text=render_markdown(session), content_type="text/markdown", headers=headers)
    headers["Content-Security-Policy"] = HTML_POLICY
    return web.Response(text=render_html(session), content_type="text/html", headers=headers)
