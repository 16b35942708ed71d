"""axe-core (npm, pinned in package.json) run in the page: the accessibility audit of the browser tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tests.support.services import need

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Every rule axe runs by default (WCAG 2.x A and AA, including color-contrast, and best practices).
RUN = """async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
}"""


@cache
def axe_source() -> str:
    need("axe-core (npm ci)", AXE.exists())
    return AXE.read_text(encoding="utf-8")


def violations(page: Any, where: str) -> list[str]:
    """axe's violations on ``page`` as it is now, one line each, labelled ``where``.

    Audited with reduced motion (the page then has no transitions, so the colours are the state's
    own). The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    does not apply to (the page itself allows no inline script)."""
    # The page's reduced-motion styles: no colour caught halfway through a transition.
    page.emulate_media(reduced_motion="reduce")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return [f"{where}: {v['id']} ({v['impact']}) {v['nodes']}" for v in page.evaluate(RUN)]


CONTRAST = """(selector) => {
    // WCAG contrast of an element's text on its own (opaque) background, from the computed colours.
    const el = document.querySelector(selector);
    const style = getComputedStyle(el);
    const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
    return { ratio: (a + 0.05) / (b + 0.05), opacity: Number(style.opacity), color: style.color, background: style.backgroundColor };
}"""


def contrast(page: Any, selector: str) -> dict[str, Any]:
    """The contrast of ``selector``'s text on its background; axe leaves disabled controls out, this does not."""
    page.emulate_media(reduced_motion="reduce")
    return page.evaluate(CONTRAST, selector)
