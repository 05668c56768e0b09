"""The analyst's panel over plain HTTP against the live node: the release panel ordered denied
first or by region and filtered, its passed rules folded away; a confirmation before publishing
an item no partner may receive, and before publishing one again; the items list paged, sorted,
filtered (level, topic, originator, date) and exported as CSV, never showing what R9 hides."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from taxii_live import LiveNode
from ui_client import client, item_ids, signed_in

from accord.exchange.collections import count_objects

ROW = re.compile(r'<tr data-party="([A-Z]+)" data-allowed="(true|false)" data-region="([a-z-]+)"')
INDICATOR = {
    "name": "Harbour crane telemetry beacon",
    "pattern": "[ipv4-addr:value = '203.0.113.45']",
    "level": "III",
    "topic": "general-military",
    "groups": "military",
}


def panel_rows(html: str) -> list[tuple[str, bool, str]]:
    return [(p, a == "true", r) for p, a, r in ROW.findall(html)]


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def publish(c: object, token: str, **extra: str) -> object:
    return c.post("/ui/publish", data={**INDICATOR, "action": "publish", "csrf": token, **extra})  # type: ignore[attr-defined]


def test_release_panel_denied_first_by_region_and_filtered(live: LiveNode) -> None:
    with client(live) as c:
        signed_in(c, "analyst")
        # A sample released to some partners and not others (other tests of the session publish
        # items of their own into the same node, some of which nobody may receive).
        page = c.get("/ui/items?level=KOR+II&topic=dprk-nuclear").text
        item = sorted(item_ids(page))[0]
        base = f"/ui/items/{item}?at=2024-06-03"
        rows = panel_rows(c.get(base).text)
        assert len(rows) == len(live.node.world()[1].parties) - 1
        allowed = [a for _p, a, _r in rows]
        assert allowed == sorted(allowed), "denied rows come first"
        assert any(allowed) and not all(allowed)
        html = c.get(base + "&order=region").text
        regions = [r for _p, _a, r in panel_rows(html)]
        order = ["asia-pacific", "americas", "europe", "middle-east-africa", "organisations"]
        assert regions == sorted(regions, key=order.index)
        assert html.count('class="region-head"') == len(set(regions))
        denied = panel_rows(c.get(base + "&show=denied&region=europe").text)
        assert denied and all(not a and r == "europe" for _p, a, r in denied)
        assert {p for p, _a, _r in denied} == {p for p, a, r in rows if not a and r == "europe"}
        assert "rows shown (filtered)" in c.get(base + "&show=allowed").text
        # Passed rules are folded; the failing rules of a denied row are shown.
        text = c.get(base).text
        assert re.search(
            r'class="allowed">.*?<details class="passed"><summary>\d+ rules passed', text, re.S
        )
        denied_row = re.search(r'data-allowed="false"[^>]*>(.*?)</tr>', text, re.S)
        assert denied_row and '<details class="passed">' not in denied_row.group(1)
        # Unknown orders and filters fall back to the defaults, never an error.
        assert panel_rows(c.get(base + "&order=evil&show=x&region=mars").text) == rows


def test_publishing_an_item_nobody_may_receive_asks_first(live: LiveNode) -> None:
    # NOFORN: no other party may receive it.
    form = {
        "noforn": "1",
        "name": "Internal only: depot inventory note",
        "pattern": "[ipv4-addr:value = '203.0.113.9']",
    }
    with client(live) as c:
        token = signed_in(c, "analyst")
        before = count_objects(live.store)
        r = publish(c, token, **form)
        assert r.status_code == 409
        assert 'id="publish-confirm"' in r.text and "No other party may receive" in r.text
        assert 'name="confirm_nobody"' in r.text and 'name="confirm_duplicate"' not in r.text
        assert count_objects(live.store) == before  # nothing stored
        r = publish(c, token, **form, confirm_nobody="1")
        assert r.status_code == 303 and "?published=1" in r.headers["location"]
        assert count_objects(live.store) > before
        shown = c.get(r.headers["location"].removeprefix(live.url)).text
        assert (
            "No partner may receive it" in shown and "partners receive it as the panel" not in shown
        )


def test_publishing_the_same_indicator_again_warns_of_a_duplicate(live: LiveNode) -> None:
    with client(live) as c:
        token = signed_in(c, "analyst")
        first = publish(c, token)
        assert first.status_code == 303, first.text[:400]
        first_id = first.headers["location"].split("/ui/items/")[1].split("?")[0]
        before = count_objects(live.store)
        again = publish(c, token)  # Back, then Publish
        assert again.status_code == 409
        assert 'name="confirm_duplicate"' in again.text and first_id in again.text
        assert count_objects(live.store) == before
        # Another pattern is not a duplicate; confirming publishes a new item.
        other = publish(c, token, pattern="[ipv4-addr:value = '203.0.113.46']")
        assert other.status_code == 303
        forced = publish(c, token, confirm_duplicate="1")
        assert forced.status_code == 303 and first_id not in forced.headers["location"]


def test_items_list_pages_sorts_filters_and_exports(live: LiveNode) -> None:
    with client(live) as c:
        token = signed_in(c, "chief")
        for n in range(55):
            r = c.post("/ui/publish", data={**INDICATOR, "name": f"Paging probe {n:02d}",
                       "pattern": f"[ipv4-addr:value = '198.18.0.{n}']", "action": "publish",
                       "csrf": token})  # fmt: skip
            assert r.status_code == 303, r.text[:300]
        first = c.get("/ui/items", params={"q": "paging probe", "sort": "name", "dir": "asc"}).text
        assert "Items 1–50 of 55." in first and 'rel="next"' in first
        # The page's own "Next page" link keeps the filters and the order.
        link = re.search(r'<a href="([^"]+)" rel="next">', first)
        assert link, "no next link"
        followed = c.get(unescape(link.group(1))).text
        assert "Items 51–55 of 55." in followed
        names = re.findall(r'translate="no">(Paging probe \d+)</a>', first)
        assert names == [f"Paging probe {n:02d}" for n in range(50)]
        second = c.get(
            "/ui/items", params={"q": "paging probe", "sort": "name", "dir": "asc", "page": "2"}
        ).text
        assert re.findall(r'translate="no">(Paging probe \d+)</a>', second) == [
            f"Paging probe {n:02d}" for n in range(50, 55)
        ]
        desc = c.get("/ui/items", params={"q": "paging probe", "sort": "name", "dir": "desc"}).text
        assert re.findall(r'translate="no">(Paging probe \d+)</a>', desc)[0] == "Paging probe 54"
        exported = csv_rows(c.get("/ui/items", params={"q": "paging probe", "format": "csv"}).text)
        assert len(exported) == 55
        assert {r["originator"] for r in exported} == {"KOR"} and {
            r["level"] for r in exported
        } == {"III"}
        assert all(
            r["topics"] == "general-military" and r["groups"] == "military" for r in exported
        )
        # Filters: originator, level, topic and the day added.
        today = datetime.now(UTC).date()
        for params, expected in (
            ({"originator": "KOR", "level": "KOR III", "topic": "general-military"}, 55),
            ({"originator": "JPN"}, 0),
            ({"topic": "dprk-nuclear"}, 0),
            ({"from": today.isoformat(), "to": today.isoformat()}, 55),
            ({"to": (today - timedelta(days=1)).isoformat()}, 0),
        ):
            got = csv_rows(
                c.get("/ui/items", params={"q": "paging probe", "format": "csv", **params}).text
            )
            assert len(got) == expected, (params, len(got))
        bad = c.get(
            "/ui/items", params={"from": "yesterday", "to": "2024-02-30", "originator": "XX"}
        )
        assert bad.status_code == 400
        for field in ("e-from", "e-to", "e-originator"):
            assert f'id="{field}"' in bad.text


@pytest.mark.parametrize("who", ["clerk", "analyst"])
def test_the_items_csv_holds_only_what_the_user_may_see(live: LiveNode, who: str) -> None:
    with client(live) as c, client(live) as chief:
        signed_in(c, who)
        signed_in(chief, "chief")
        mine = {r["id"] for r in csv_rows(c.get("/ui/items", params={"format": "csv"}).text)}
        every = {r["id"] for r in csv_rows(chief.get("/ui/items", params={"format": "csv"}).text)}
        listed = item_ids(c.get("/ui/items").text)
        assert listed <= mine and mine < every  # the chief sees more than either
        text = c.get("/ui/items", params={"format": "csv"}).text
        for sid in every - mine:
            assert sid not in text
