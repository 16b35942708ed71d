"""``GET /api/v1/sessions/{id}/report``: an interview's questions, answers and feedback to keep.

``?format=html`` (default) is a printable page (every text escaped, no script,
print style sheet), ``?format=md`` a Markdown file to download and
``?format=json`` the same content as data (the page's read-only history view).
Authentication is the session routes' own: the session's resume token or the
admin token (:func:`.admin.require_admin_or_session`). Labels are in
``report_labels.json``, in the interview's language; ``?tz=Asia/Seoul`` (an IANA
zone) shows the dates in the candidate's time zone (UTC without it).

``POST /api/v1/sessions/{id}/report-link`` (same authentication) answers a URL of
the HTML report that opens without a header for ``REPORT_LINK_TTL_S`` seconds:
``?ticket=<expires>.<HMAC>`` (:func:`..domain.tokens.report_ticket`), so the page
opens the report in a new tab without putting the resume token in a URL.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

from aiohttp import web

from ..domain.model import CategoryScores, Feedback, Session, Speaking, Status
from ..domain.tokens import report_ticket
from .admin import ApiError, require_admin_or_session, require_report_ticket

routes = web.RouteTableDef()
FORMATS = ("html", "md", "json")
REPORT_LINK_TTL_S = 300  # how long a report link (POST …/report-link) opens the report
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


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_of(name: str | None) -> tzinfo:
    """The IANA time zone ``name`` (UTC when None); :class:`ApiError` ``invalid_query`` for an unknown one."""
    if name is None or name == "UTC":
        return timezone.utc
    if name not in _zones():
        raise ApiError(400, "invalid_query", "tz must be an IANA time zone such as 'Asia/Seoul'")
    return ZoneInfo(name)


def local_time(moment: datetime, zone: tzinfo) -> str:
    """``moment`` in ``zone`` as the report shows it: ``2025-03-01 18:30 KST``."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def report_data(session: Session) -> dict[str, Any]:
    """The report's content as JSON-ready data (no token material, no résumé or job description).

    ``category_labels`` names the feedback's score categories in the interview's language; each turn
    has ``speaking`` (how a spoken answer was said, else null).
    """
    cfg = session.config
    t = labels_for(cfg.language)
    return {
        "session_id": session.id,
        "status": session.status.value,
        "created_at": session.created_at.isoformat(),
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "config": cfg.model_dump(mode="json", exclude={"resume_text", "job_description", "audio_format"}),
        "turns": [
            {
                "index": turn.index,
                "question": turn.question,
                "answer": turn.answer,
                "speaking": turn.speaking.model_dump(mode="json") if turn.speaking else None,
            }
            for turn in session.turns
        ],
        "feedback": session.feedback.model_dump(mode="json") if session.feedback else None,
        "category_labels": {name: t(f"category.{name}") for name in CategoryScores.model_fields},
    }


def _title(session: Session, t: Labels) -> str:
    role, company = session.config.job_title.strip(), session.config.company.strip()
    if role and company:
        return f"{t('title')}: {t('role_at', role=role, company=company)}"
    return f"{t('title')}: {role or company}" if role or company else t("title")


def _meta(session: Session, t: Labels, zone: tzinfo) -> list[tuple[str, str]]:
    cfg = session.config
    answered = sum(1 for turn in session.turns if turn.answer and turn.answer.strip())
    rows = [
        (t("date"), local_time(session.created_at, zone)),
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


def speaking_figures(speaking: Speaking, t: Labels) -> list[str]:
    """How an answer (or all spoken answers) was said, as short localised phrases: pace, fillers, longest
    pause, talk time (against the time limit of one answer)."""
    out = []
    if speaking.answers > 1:
        out.append(t("speaking.answers", count=speaking.answers))
    if speaking.rate_per_min is not None:
        out.append(t(f"speaking.rate.{speaking.unit}", rate=round(speaking.rate_per_min)))
    if speaking.fillers_per_min is not None:
        out.append(t("speaking.fillers", per_min=f"{speaking.fillers_per_min:g}", count=speaking.fillers))
    if speaking.longest_pause_s is not None:
        out.append(t("speaking.pause", pause=f"{speaking.longest_pause_s:g}"))
    talk = round(speaking.talk_s)
    limit = speaking.time_limit_s
    out.append(t("speaking.talk_limit", talk=talk, limit=limit) if limit and speaking.answers == 1 else t("speaking.talk", talk=talk))
    return out


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
    if f.speaking is not None:
        out += [f"### {t('speaking')}", "", *(f"- {md_line(c)}" for c in speaking_figures(f.speaking, t))]
        out += [*(f"- {md_line(h)}" for h in f.speaking.hints), ""]
    for key, items in (("strengths", f.strengths), ("improvements", f.improvements)):
        out += [f"### {t(key)}", ""]
        out += [f"- {md_line(item)}" for item in items if item.strip()] or [f"- {t('none')}"]
        out.append("")
    return out


def render_markdown(session: Session, zone: tzinfo = timezone.utc) -> str:
    """The report as Markdown (dates in ``zone``)."""
    t = labels_for(session.config.language)
    out = [f"# {md_line(_title(session, t))}", ""]
    out += [f"- **{label}:** {md_line(value)}" for label, value in _meta(session, t, zone)]
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
        if turn.speaking is not None and answer:
            out += [f"*{t('speaking')}:* {md_line(' · '.join(speaking_figures(turn.speaking, t)))}", ""]
            out += [*(f"- {md_line(h)}" for h in turn.speaking.hints), ""] if turn.speaking.hints else []
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
    if f.speaking is not None:
        parts.append(f'<h3>{_e(t("speaking"))}</h3>{_html_speaking(f.speaking, t)}')
    for key, items in (("strengths", f.strengths), ("improvements", f.improvements)):
        lis = "".join(f"<li>{_e(item)}</li>" for item in items if item.strip()) or f"<li>{_e(t('none'))}</li>"
        parts.append(f"<h3>{_e(t(key))}</h3><ul>{lis}</ul>")
    return "".join(parts)


def _html_speaking(speaking: Speaking, t: Labels) -> str:
    figures = "".join(f"<li>{_e(c)}</li>" for c in speaking_figures(speaking, t))
    hints = "".join(f"<li>{_e(h)}</li>" for h in speaking.hints)
    return f'<ul class="speaking">{figures}</ul>' + (f'<ul class="speaking-hints">{hints}</ul>' if hints else "")


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
        if turn.speaking is not None and answer:
            note += f'<div class="turn-speaking"><em>{_e(t("speaking"))}:</em>{_html_speaking(turn.speaking, t)}</div>'
        parts.append(
            f'<section class="turn"><h3>{_e(heading)}</h3><p class="q">{_e(turn.question)}</p>{body}{note}</section>'
        )
    return "".join(parts)


def render_html(session: Session, zone: tzinfo = timezone.utc) -> str:
    """The report as a printable HTML page (no script; dates in ``zone``)."""
    t = labels_for(session.config.language)
    title = _e(_title(session, t))
    meta = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in _meta(session, t, zone))
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
    """Admin or session (or a report link's ``ticket``, HTML only): the report as ``html`` (default),
    ``md`` (attachment) or ``json``; dates in the ``tz`` time zone."""
    fmt = request.query.get("format", "html")
    if fmt not in FORMATS:
        raise ApiError(400, "invalid_query", "format must be 'html', 'md' or 'json'")
    zone = zone_of(request.query.get("tz"))
    ticket = request.query.get("ticket")
    if ticket is not None and fmt != "html":
        raise ApiError(400, "invalid_query", "a report link opens the HTML report only")
    if ticket is not None:
        session = await require_report_ticket(request, ticket, REPORT_LINK_TTL_S)
    else:
        session = await require_admin_or_session(request)
    headers = {"Cache-Control": "no-store"}
    if fmt == "json":
        return web.json_response(report_data(session), headers=headers)
    if fmt == "md":
        headers["Content-Disposition"] = f'attachment; filename="{_filename(session, "md")}"'
        return web.Response(text=render_markdown(session, zone), content_type="text/markdown", headers=headers)
    headers["Content-Security-Policy"] = HTML_POLICY
    return web.Response(text=render_html(session, zone), content_type="text/html", headers=headers)


@routes.post("/api/v1/sessions/{session_id}/report-link")
async def report_link(request: web.Request) -> web.Response:
    """Admin or session: a URL that opens the HTML report for ``REPORT_LINK_TTL_S`` seconds without a
    header (``{"url", "expires_at"}``); ``?tz=`` is carried into it."""
    session = await require_admin_or_session(request)
    query = {"format": "html"}
    if "tz" in request.query:
        zone_of(request.query["tz"])  # refused now rather than when the link is opened
        query["tz"] = request.query["tz"]
    expires = int(time.time()) + REPORT_LINK_TTL_S
    query["ticket"] = report_ticket(session.token_hash, session.id, expires)
    url = f"/api/v1/sessions/{session.id}/report?{urlencode(query)}"
    expires_at = datetime.fromtimestamp(expires, timezone.utc).isoformat()
    return web.json_response({"url": url, "expires_at": expires_at}, headers={"Cache-Control": "no-store"})
