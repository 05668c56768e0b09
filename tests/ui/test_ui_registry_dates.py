"""The agreement page says how exact each date is (docs/registry.md, "What the scenario knows"):
an event the record gives only to the month, the year or as a latest date is drawn as uncertain
and written as the record gives it, with its sources; a date known to the day is plain. Every date
is in the reader's language's form."""

from __future__ import annotations

import html
import json
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
            ("month", "March 2009 (day not public)"),
            ("by", "by Dec 31, 2016"),
        ]
        assert all("uncertain" in cls for cls, _, _ in moments)
        assert page.text.count(">uncertain date</span>") == 2
        assert "Sources: S134" in page.text and "Sources: S11" in page.text
        exact = _moments(c.get("/ui/agreements/kor-jpn-gsomia-2016").text)
        assert exact and all(p == "day" and "uncertain" not in cls for cls, p, _ in exact)
        assert ("", "day", "Nov 23, 2016") in {
            (cls.replace("past", "").strip(), p, w) for cls, p, w in exact
        }


def test_dates_in_the_readers_language(live: LiveNode) -> None:
    """Dates are written as the reader's language writes them (CLDR); attributes, inputs and
    links keep ISO 8601, and the timeline's script gets each date's text from the page."""
    with client(live) as c:
        signed_in(c, "analyst")
        ko = {"Accept-Language": "ko-KR,ko;q=0.9"}
        page = c.get("/ui/agreements/kor-esp-gsomia?at=2020-01-01", headers=ko).text
        whens = [when for _, _, when in _moments(page)]
        assert whens[0].startswith("2009년 3월") and "2016. 12. 31." in whens[1], whens
        assert '<time datetime="2009-03-01">' in page
        network = c.get("/ui/network?at=2019-11-22", headers={"Accept-Language": "ja"}).text
        assert '<time datetime="2019-11-22" id="heading-date">2019年11月22日</time>' in network
        assert 'value="2019-11-22"' in network and "at=2019-11-22&amp;focus=" in network
        dates = re.search(r'data-dates="([^"]*)"', network)
        texts = re.search(r'data-date-texts="([^"]*)"', network)
        assert dates and texts
        days = dates.group(1).split(" ")
        shown = json.loads(html.unescape(texts.group(1)))
        assert len(shown) == len(days) and shown[days.index("2019-11-22")] == "2019年11月22日"
