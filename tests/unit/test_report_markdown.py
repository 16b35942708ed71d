"""Issue 19 row 13: one-line fields cannot add Markdown blocks to the report, and no URL in it becomes a link.

The report is rendered by cmark-gfm (GitHub's renderer, with its autolink
extension): what a candidate typed must come out as one heading, the option
list and the transcript, without a single link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import cmarkgfm

from sio_server.domain.model import Feedback, QuestionScore, Session, Status, Turn
from sio_server.transport.protocol import StartInterview
from sio_server.web.report import md_escape, render_markdown

WHEN = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
LINKS = "see https://evil.example/login?next=1, www.evil.example and mail hr@evil.example (or HTTP://EVIL.EXAMPLE/x)."


def test_one_line_fields_are_flattened_to_one_line():
    start = StartInterview.model_validate(
        {"job_title": "Backend\n\n# Hacked\r\n---\t Engineer", "company": "Acme\n- [click](https://evil.example)\n"}
    )
    assert start.job_title == "Backend # Hacked --- Engineer"
    assert start.company == "Acme - [click](https://evil.example)"
    assert StartInterview.model_validate({"job_description": "line one\nline two"}).job_description == "line one\nline two"


def hostile_session() -> Session:
    config = StartInterview.model_validate(
        {"language": "en", "mode": "text", "job_title": "Engineer\n\n# Hacked\n===", "company": "Acme\n- www.evil.example"}
    ).config()
    return Session(
        session_id=uuid4(), token_hash="x" * 64, config=config, created_at=WHEN, updated_at=WHEN, status=Status.ENDED,
        turns=[Turn(index=1, question=f"Q {LINKS}", asked_at=WHEN, answer=f"A {LINKS}\nline two www.x.example", answered_at=WHEN)],
        feedback=Feedback(
            overall_score=50, summary=f"S {LINKS}", strengths=[f"{LINKS}\n# not a heading"], improvements=[],
            per_question=[QuestionScore(index=1, score=50, comment=f"C {LINKS}")],
        ),
        version=1,
    )


def test_the_report_as_github_renders_it_has_no_link_and_no_injected_block():
    markdown = render_markdown(hostile_session())
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    assert "<a " not in html and "href" not in html, html
    assert html.count("<h1>") == 1 and "<hr" not in html, html
    assert "<h1>Interview report: Engineer # Hacked === at Acme - <code>www.evil.example</code></h1>" in html, html
    # the URLs are still there to read, as code
    assert html.count("<code>https://evil.example/login?next=1</code>") == 5, html
    assert "<code>hr@evil.example</code>" in html and "<code>HTTP://EVIL.EXAMPLE/x</code>)." in html


def test_md_escape_keeps_text_readable():
    assert md_escape("Go to https://a.example/x. Then *stop*") == "Go to `https://a.example/x`. Then \\*stop\\*"
    assert md_escape("no link: Note: 10:30, e-mail me") == "no link: Note: 10:30, e-mail me"
    quoted = cmarkgfm.github_flavored_markdown_to_html(md_escape("`https://a.example/` x"))
    assert quoted == "<p>`<code>https://a.example/</code>` x</p>\n", "the candidate's backticks stay text"
