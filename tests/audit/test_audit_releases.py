"""The releases of the audit trail selected by party, period and items (`accord.audit.log.releases`,
the core of the auditor's report), on each backend; and through the redaction rule
(`accord.exchange.redaction.releases`) a reader sees only what its view holds."""

from __future__ import annotations

import sqlalchemy as sa

from accord.audit import log
from accord.exchange import redaction
from accord.exchange.visibility import View
from accord.store import Store
from accord.store.audit_schema import audit_log

GRANT = {"basis": ["kor-jpn-gsomia-2016"], "route": ["KOR", "JPN"], "level": "GOKUHI",
         "markings": ["m1"]}  # fmt: skip


def _release(store: Store, party: str, at: int, *objects: tuple[str, str]) -> int:
    body = {
        "party": party,
        "markings": {"m1": "marking-definition--m"},
        "objects": [[oid, version, "m1"] for oid, version in objects],
        "grants": [GRANT],
    }
    with store.begin() as conn:
        seq = log.append(conn, "release", f"{party.lower()}-node", party, body)
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == seq).values(at=at))
    return seq


def test_releases_by_party_period_and_item(store: Store) -> None:
    _release(store, "JPN", 1_000, ("indicator--a", "v1"), ("indicator--b", "v1"))
    _release(store, "USA", 2_000, ("indicator--a", "v1"))
    # The same version to Japan again (its own read after the push): one release, two records.
    _release(store, "JPN", 3_000, ("indicator--a", "v1"), ("marking-definition--m", "v"))
    _release(store, "JPN", 4_000, ("indicator--a", "v2"))
    every = log.releases(store)
    assert [(r["item"], r["party"], r["version"]) for r in every] == [
        ("indicator--a", "JPN", "v1"), ("indicator--b", "JPN", "v1"), ("indicator--a", "USA", "v1"),
        ("marking-definition--m", "JPN", "v"), ("indicator--a", "JPN", "v2"),
    ]  # fmt: skip
    assert every[0]["transmissions"] == 2 and every[0]["level"] == "GOKUHI"
    jpn = log.releases(store, party="JPN", since=2_000, until=4_000)
    # Within the period, the read at 3 000 is the first transmission of indicator--a v1 seen.
    assert [(r["item"], r["version"], r["seq"]) for r in jpn] == [
        ("indicator--a", "v1", 3),
        ("marking-definition--m", "v", 3),
    ]
    assert {r["party"] for r in log.releases(store, party="USA")} == {"USA"}
    assert log.releases(store, party="JP") == []  # a code is matched whole, not as a prefix
    only_b = log.releases(store, item_ids=("indicator--b",))
    assert [(r["item"], r["party"]) for r in only_b] == [("indicator--b", "JPN")]
    assert log.releases(store, item_ids=()) == []
    # "who has my item?" is the same reading, one item at a time, without the item field.
    assert log.disclosures(store, "indicator--b") == [
        {k: v for k, v in r.items() if k != "item"} for r in only_b
    ]


def test_a_reader_sees_only_releases_in_its_view(store: Store) -> None:
    _release(store, "JPN", 1_000, ("indicator--a", "v1"), ("marking-definition--m", "v"))
    rows, more = redaction.releases(store, View(frozenset(), everything=True), party="JPN")
    assert [r["item"] for r in rows] == ["indicator--a"] and not more  # markings are not items
    assert rows[0]["receipt"] is None
    # A reader whose view holds nothing (the item is not stored under a marking it may see).
    nothing, _ = redaction.releases(store, View(frozenset()), party="JPN")
    assert nothing == []


def test_a_bounded_read_says_when_more_records_matched(store: Store) -> None:
    for n in range(3):
        _release(store, "JPN", 1_000 + n, (f"indicator--{n}", "v1"))
    found, more = log.release_records(store, party="JPN", max_records=2)
    assert [r["item"] for r in found] == ["indicator--0", "indicator--1"] and more
    found, more = log.release_records(store, party="JPN", max_records=3)
    assert len(found) == 3 and not more
    rows, more = redaction.releases(store, View(frozenset(), everything=True), max_records=2)
    assert len(rows) == 2 and more
