"""The auditor's release reports over plain HTTP against the live node: releases searched by item
name, party and period, as a page, a CSV and a printable page; the same redaction rule as "who has
my item?" (an auditor of low clearance, or outside an item's need-to-know group, finds nothing of
it in the page or the CSV); every other role, a partner credential and no credential refused."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from auditors import PEOPLE, SECRET, add_auditors
from taxii_live import LiveNode
from ui_client import client, csrf_of, sign_in

from accord.exchange.marking_rows import marking_index
from accord.policy.access import User, may_access
from accord.store.exchange_schema import objects

AUDITORS = {k: v[:2] for k, v in PEOPLE.items() if v[2] == "auditor"}
REPORT = "/ui/audit/releases"


@pytest.fixture(scope="module")
def auditors(live: LiveNode) -> None:
    add_auditors(live)


@contextmanager
def session(live: LiveNode, who: str) -> Iterator[httpx.Client]:
    """A client signed in as auditor `who`."""
    with client(live) as c:
        r = sign_in(c, who, SECRET)
        assert r.status_code == 303, (who, r.status_code)
        yield c


def visible(live: LiveNode, who: str) -> tuple[set[str], set[str]]:
    """Returns (item ids `who` may see by R9, ids it may not), by `may_access` alone."""
    clearance, groups = AUDITORS[who]
    user = User(who, "KOR", clearance, frozenset(groups), "KOR")
    world = live.node.world()[1]
    index = marking_index(live.store)
    seen: set[str] = set()
    every: set[str] = set()
    with live.store.read() as conn:
        for sid, row in conn.execute(sa.select(objects.c.stix_id, objects.c.marking)):
            if str(sid).startswith("marking-definition--"):
                continue
            every.add(sid)
            if may_access(user, index.by_row[row], live.node.today(), world=world).allowed:
                seen.add(sid)
    return seen, every - seen


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


TODAY = datetime.now(UTC).date()


def test_a_report_for_japan_over_a_period_as_page_csv_and_print(
    live: LiveNode, auditors: object
) -> None:
    period = {
        "party": "JPN",
        "from": (TODAY - timedelta(days=1)).isoformat(),
        "to": TODAY.isoformat(),
    }
    with session(live, "auditor-full") as c:
        page = c.get(REPORT, params=period)
        assert page.status_code == 200, page.text[:500]
        assert "Releases to Japan (JPN)" in page.text
        got = c.get(REPORT, params={**period, "format": "csv"})
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/csv")
        assert 'filename="releases-JPN-' in got.headers["content-disposition"]
        rows = rows_of(got.text)
        assert rows and {r["party"] for r in rows} == {"JPN"}
        assert all(r["when_utc"][:10] in {period["from"], period["to"]} for r in rows)
        for r in rows:  # each CSV row is a release the page lists too
            assert f'data-item="{r["item_id"]}" data-party="JPN"' in page.text
        printed = c.get(REPORT, params={**period, "format": "print"})
        assert printed.status_code == 200
        assert (
            "Release report of the node" in printed.text
            and 'class="site-header"' not in printed.text
        )
        # Another party, or a period before the releases, lists none of them.
        usa = rows_of(c.get(REPORT, params={**period, "party": "USA", "format": "csv"}).text)
        assert usa and {r["party"] for r in usa} == {"USA"}
        before = {
            "party": "JPN",
            "from": "2020-01-01",
            "to": (TODAY - timedelta(days=2)).isoformat(),
        }
        assert rows_of(c.get(REPORT, params={**before, "format": "csv"}).text) == []
        # By item name: only the releases of items whose name contains the text.
        name = rows[0]["item_name"]
        named = rows_of(c.get(REPORT, params={"q": name, "format": "csv"}).text)
        assert named and all(name.lower() in r["item_name"].lower() for r in named), (name, rows[0])
        assert {r["party"] for r in named} >= {"JPN"}


def test_bad_criteria_are_all_named_next_to_their_fields(live: LiveNode, auditors: object) -> None:
    with session(live, "auditor-full") as c:
        r = c.get(
            REPORT, params={"party": "XYZ", "from": "2024-13-01", "to": "soon", "format": "csv"}
        )
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("text/html")
        for field in ("e-party", "e-from", "e-to"):
            assert f'id="{field}"' in r.text, field
        assert "is not a party of the registry" in r.text and "is not a date" in r.text
        r = c.get(REPORT, params={"from": "2024-06-02", "to": "2024-06-01"})
        assert r.status_code == 400 and "before its start" in r.text


@pytest.mark.parametrize("who", ["auditor-low", "auditor-out"])
def test_an_auditor_sees_nothing_outside_its_view(
    live: LiveNode, auditors: object, who: str
) -> None:
    seen, hidden = visible(live, who)
    with session(live, "auditor-full") as c:
        full = rows_of(c.get(REPORT, params={"from": "2000-01-01", "format": "csv"}).text)
    released = {r["item_id"] for r in full}
    assert released & hidden, "the test needs a released item this auditor may not see"
    with session(live, who) as c:
        texts = [
            c.get(REPORT, params={"from": "2000-01-01"}).text,
            c.get(REPORT, params={"from": "2000-01-01", "format": "csv"}).text,
            c.get(REPORT, params={"from": "2000-01-01", "format": "print"}).text,
            c.get(REPORT, params={"party": "JPN", "format": "csv"}).text,
        ]
        for sid in sorted(released & hidden):
            name = next(r["item_name"] for r in full if r["item_id"] == sid)
            texts.append(c.get(REPORT, params={"q": name, "format": "csv"}).text)
            # Asked by its id (which the page echoes back in the search box): no release listed.
            by_id = c.get(REPORT, params={"q": sid})
            assert by_id.status_code == 200 and "data-item=" not in by_id.text
            assert "0 releases, 0 items" in by_id.text
            assert rows_of(c.get(REPORT, params={"q": sid, "format": "csv"}).text) == []
        mine = {r["item_id"] for r in rows_of(texts[1])}
        assert mine == released & seen
        for text in texts:
            for sid in hidden:
                assert sid not in text, (who, sid)
        for sid in released & hidden:
            name = next(r["item_name"] for r in full if r["item_id"] == sid)
            if not any(name == r["item_name"] for r in full if r["item_id"] in seen):
                assert all(name not in t for t in texts), (who, name)


def test_only_auditors_reach_the_reports(live: LiveNode, auditors: object) -> None:
    with client(live) as c:  # no credential: to the sign-in page
        r = c.get(REPORT, params={"party": "JPN", "format": "csv"})
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")
    for who, secret in (("analyst", "analyst-secret"), ("clerk", "clerk-secret-1"),
                        ("legal-officer", SECRET)):  # fmt: skip
        with client(live) as c:
            assert sign_in(c, who, secret).status_code == 303
            for params in (
                {},
                {"party": "JPN", "format": "csv"},
                {"party": "JPN", "format": "print"},
            ):
                r = c.get(REPORT, params=params)
                assert r.status_code == 403, (who, params, r.status_code)
                assert "auditor role" in r.text and "JPN" not in r.headers.get(
                    "content-disposition", ""
                )
            assert 'id="release-reports"' not in c.get("/ui/audit").text
    with client(live) as c:  # a partner's credential never signs in
        assert sign_in(c, "jpn-node", "jpn-secret-1").status_code == 401
        assert c.get(REPORT).status_code == 303
    with session(live, "auditor-low") as c:
        assert 'id="release-reports"' in c.get("/ui/audit").text
        assert csrf_of(c.get("/ui/audit").text)


@pytest.mark.parametrize("who", ["auditor-low", "auditor-out"])
def test_who_has_an_item_asked_by_name(live: LiveNode, auditors: object, who: str) -> None:
    seen, hidden = visible(live, who)
    with session(live, "auditor-full") as c:
        full = rows_of(c.get(REPORT, params={"from": "2000-01-01", "format": "csv"}).text)
    names = {r["item_id"]: r["item_name"] for r in full}
    mine = sorted(sid for sid in names if sid in seen)
    theirs = sorted(sid for sid in names if sid in hidden)
    assert mine and theirs
    with session(live, who) as c:
        # A name matching one item the auditor may see: its releases, as by its id.
        unique = next(s for s in mine if sum(n == names[s] for n in names.values()) == 1)
        by_name = c.get("/ui/audit/disclosures", params={"item": names[unique]})
        assert by_name.status_code == 200 and 'data-party="' in by_name.text
        assert unique in by_name.text
        # Words every item has ("-" is in every id): only items it may see are offered (or
        # its one item shown), never another.
        several = c.get("/ui/audit/disclosures", params={"item": "-"})
        assert several.status_code == 200
        offered = set(re.findall(r'<li data-item="([^"]+)"', several.text))
        offered |= set(re.findall(r'<p class="lead"><a href="/ui/items/([^"]+)"', several.text))
        assert offered and offered <= seen
        assert not any(sid in several.text for sid in hidden)
        # The name of an item it may not see is answered as a name nothing has.
        for sid in theirs:
            if names[sid] in {names[s] for s in mine}:
                continue
            r = c.get("/ui/audit/disclosures", params={"item": names[sid]})
            assert r.status_code == 200 and 'id="disclosure-none"' in r.text
            assert sid not in r.text
            assert c.get("/ui/audit/disclosures", params={"item": sid}).status_code == 404


def test_several_items_matching_a_name_are_offered_to_choose(
    live: LiveNode, auditors: object
) -> None:
    with session(live, "auditor-full") as c:
        r = c.get("/ui/audit/disclosures", params={"item": "-"})
        offered = re.findall(r'<li data-item="([^"]+)"', r.text)
        assert len(offered) > 1 and 'id="disclosure-choices"' in r.text
        chosen = c.get(f"/ui/audit/disclosures?item={offered[0]}")
        assert (
            chosen.status_code == 200
            and f'<span class="mono small muted">{offered[0]}' in chosen.text
        )


@pytest.mark.parametrize(
    ("lang", "title", "japan"), [("ko", "제공 보고서", "일본"), ("ja", "提供レポート", "日本")]
)
def test_the_report_in_korean_and_japanese(
    live: LiveNode, auditors: object, lang: str, title: str, japan: str
) -> None:
    with session(live, "auditor-full") as c:
        token = csrf_of(c.get("/ui/audit").text)
        r = c.post("/ui/language", data={"csrf": token, "lang": lang, "next": "/ui/audit"})
        assert r.status_code == 303
        page = c.get(REPORT, params={"party": "JPN", "from": "2000-01-01"}).text
        assert f'<html lang="{lang}">' in page and title in page and japan in page
        assert "Releases to" not in page and "Download CSV" not in page
