"""Page actions and state checks shared by the browser tests (they read ``window.__interview``)."""

from __future__ import annotations

import json
from typing import Any

ANSWERS = {
    "en": [
        "At my last job I owned the payment service. I cut p99 latency by 40% by adding a cache and an index.",
        "We disagreed about a release date; I proposed a smaller first release and we shipped on time.",
        "I want to grow into a tech lead role and mentor two junior engineers this year.",
        "I learned to write a design doc before coding, which saved us a rewrite.",
    ],
    "ko": [
        "이전 회사에서 결제 서비스를 맡아 캐시와 인덱스를 추가해 p99 지연 시간을 40% 줄였습니다.",
        "출시 일정에 대한 의견 차이가 있었고, 범위를 줄인 1차 출시를 제안해 일정을 지켰습니다.",
        "올해는 테크 리드로 성장하면서 주니어 개발자 두 명을 멘토링하고 싶습니다.",
        "코딩 전에 설계 문서를 쓰는 습관을 들여 큰 재작업을 피할 수 있었습니다.",
    ],
}


def hook(page: Any, expr: str) -> Any:
    """Evaluate ``expr`` on ``window.__interview`` (as ``s``)."""
    return page.evaluate(f"(() => {{ const s = window.__interview; return {expr}; }})()")


def wait_hook(page: Any, expr: str, timeout: float = 15_000) -> None:
    """Wait until ``expr`` over ``s = window.__interview`` is truthy."""
    page.wait_for_function(f"() => {{ const s = window.__interview; return Boolean(s && ({expr})); }}", timeout=timeout)


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    wait_hook(page, "s.connection === 'connected' || s.connection === 'resumed' || s.connection === 'rejected'")


def fill_form(
    page: Any,
    *,
    language: str = "en",
    mode: str = "text",
    questions: int = 3,
    job_title: str = "Backend Engineer",
    company: str = "",
    job_description: str = "",
    resume_text: str = "",
    persona: str = "professional",
    turn: str | None = None,
) -> None:
    """Fill the start form; ``turn`` (voice: ``auto`` or ``manual``) leaves the form's default when None."""
    page.locator(f"label[for='lang-{language}']").click()
    if page.is_enabled(f"#mode-{mode}"):  # a mode this server cannot run is disabled: the form's default stays
        page.locator(f"label[for='mode-{mode}']").click()
    if turn is not None:
        page.locator(f"label[for='turn-{turn}']").click()
    page.fill("#job_title", job_title)
    page.fill("#company", company)
    page.fill("#job_description", job_description)
    page.fill("#resume_text", resume_text)
    page.select_option("#persona", persona)
    page.fill("#max_questions", str(questions))


def start(page: Any, **form: Any) -> None:
    """Fill the start form, submit it and wait for the first question."""
    fill_form(page, **form)
    page.click("#start-btn")
    wait_hook(page, "s.view === 'interview' && s.sessionId && s.currentIndex === 1")


def answer_current(page: Any, text: str, *, wait: bool = True) -> int:
    """Type ``text`` into the answer box and press Enter; with ``wait``, wait for the ack."""
    index = hook(page, "s.currentIndex")
    assert index, "no open question"
    page.fill("#answer", text)
    page.press("#answer", "Enter")
    if wait:
        wait_hook(page, f"s.answers[{json.dumps(str(index))}] !== undefined")
    return index


def answer_until(page: Any, language: str, upto: int | None = None) -> None:
    """Answer open questions until the last one (or question ``upto``) is answered."""
    while True:
        wait_hook(page, "s.currentIndex || s.feedback")
        index = hook(page, "s.currentIndex")
        if not index:
            return
        answer_current(page, ANSWERS[language][(index - 1) % len(ANSWERS[language])])
        is_last = hook(page, f"s.questions.find(q => q.index === {index}).is_last")
        if is_last or (upto is not None and index >= upto):
            return


def wait_feedback(page: Any) -> dict[str, Any]:
    wait_hook(page, "s.view === 'feedback' && s.feedback", timeout=20_000)
    page.wait_for_selector("#view-feedback:not([hidden]) #score")
    return hook(page, "s.feedback")


def conversation(page: Any) -> list[tuple[str, str]]:
    """The conversation as shown: (kind, text) per bubble."""
    items = page.eval_on_selector_all(
        "#conversation > li",
        "items => items.map(li => [li.classList.contains('msg-question') ? 'q' : 'a', li.querySelector('.msg-text').textContent])",
    )
    return [(kind, text) for kind, text in items]
