"""The agreement page says how exact each date is (docs/registry.md, "What the scenario knows"):
an event the record gives only to the month, the year or as a latest date is drawn as uncertain
and written as the record gives it, with its sources; a date known to the day is plain."""

from __future__ import annotations

import re

from taxii_live import LiveNode
from ui_client import client, signed_in


def _moments(html: str) -> list[tuple[str, str, str]]:
    """(class, data-precision, the date's text) of each lifecycle entry."""
    return re.findall(
        r'<li class="([^"]*)" data-kind="[^"]*" data-precision="([^"]*)">\s*'
        r'<div class="when"><time datetime="[^"]*">([^<]*)</time>',
        html,
    )


def test_uncertain_dates_are_drawn_and_written_as_such(live: LiveNode) -> None:
    with client(live) as c:
        signed_in(c, "analyst")
        page = c.get("/ui/agreements/kor-esp-gsomia?at=2020-01-01")
        assert page.status_code == 200
        moments = _moments(page.text)
        assert [(p, when) for _, p, when in moments] == [
            ("month", "2009-03 (day not public)"),
            ("by", "by 2016-12-31"),
        ]
        assert all("uncertain" in cls for cls, _, _ in moments)
        assert page.text.count(">uncertain date</span>") == 2
        assert "Sources: S134" in page.text and "Sources: S11" in page.text
        exact = _moments(c.get("/ui/agreements/kor-jpn-gsomia-2016").text)
        assert exact and all(p == "day" and "uncertain" not in cls for cls, p, _ in exact)
        assert ("", "day", "2016-11-23") in {
            (cls.replace("past", "").strip(), p, w) for cls, p, w in exact
        }
