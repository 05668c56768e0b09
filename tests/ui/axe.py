"""axe-core in the browser tests: run it on the page shown and return its serious and critical
violations (WCAG 2 A and AA rules).

axe-core comes from npm (`npm install -g axe-core@4.14.1`, as .ci/run does). It is evaluated in
the page itself (Playwright's `evaluate`), so the pages keep their production Content Security
Policy. A missing axe-core FAILS the tests: it is never a reason to skip them.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

AXE = Path(os.environ.get("ACCORD_AXE", "/usr/lib/node_modules/axe-core/axe.min.js"))
_RUN = """async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  return r.violations.map(v => ({id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


@cache
def _source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: the accessibility checks need axe-core (npm install -g axe-core@4.14.1; .ci/run installs it)"
        )
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """Returns axe-core's critical and serious violations on `page` (an empty list is a pass)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return [v for v in found if v["impact"] in ("critical", "serious")]
