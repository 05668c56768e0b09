"""axe-core in the browser suites: the script bundled with axe-playwright-python (a test
dependency, so CI installs it with the rest), run in a page with the WCAG 2.x A and AA rules."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    """Returns axe-core's script (axe.min.js, as axe-playwright-python ships it)."""
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """Returns the page's serious and critical axe-core violations: id, impact, nodes."""
    page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))",
        WCAG,
    )
    return [v for v in found if v["impact"] in ("critical", "serious")]
