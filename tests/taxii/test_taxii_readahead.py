"""Pages computed ahead (`accord.exchange.readahead`) against a live node: served only while nothing
they depend on changed, and released only when served.

Each test posts its own indicators and pages over exactly those (`match[id]`, limit 2) as the JPN
partner: page 1 is served, page 2 is computed ahead. A change made between the two requests
must show in page 2 exactly as it would without read-ahead.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from taxii_live import ANALYST_MD, SECRETS, LiveNode, indicator, new_id, walk

from accord.audit import log as audit
from accord.exchange import notices
from accord.exchange.markings import marking_definition
from accord.policy.marking import Marking
from accord.principals import Principal, add_principal, revoke_principal

V2 = "2018-01-01T00:00:00.000Z"
#: Level I: never released to Japan (the Korea–Japan GSOMIA has no Level I row, R2).
LEVEL_I = marking_definition(Marking.of("KOR", "I", ["dprk-missile"], groups=["dprk"]))


def _post(live: LiveNode, n: int) -> list[str]:
    ids = [new_id() for _ in range(n)]
    body = {"objects": [ANALYST_MD, *(indicator(i) for i in ids)]}
    r = live.post(live.coll() + "objects/", body)
    assert r.status_code == 202 and r.json()["success_count"] == n + 1, r.text
    return ids


def _params(ids: list[str]) -> dict[str, str]:
    return {"match[id]": ",".join(ids), "limit": "2"}


def _page1(live: LiveNode, ids: list[str]) -> tuple[list[str], str]:
    """Reads page 1 as the JPN partner and waits until page 2 has been computed ahead."""
    r = live.get(live.coll() + "objects/", "jpn-node", params=_params(ids))
    body = r.json()
    assert r.status_code == 200 and body["more"] is True, r.text
    _settle(live)
    return [o["id"] for o in body["objects"]], body["next"]


def _settle(live: LiveNode) -> None:
    # The worker thread computes ahead after the response left; let it finish, so that each
    # test exercises a page that WAS computed before the change it makes.
    ahead = live.node.read_ahead
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with ahead._lock:
            pending = [f for _, f in ahead._entries.values() if not f.done()]
        if not pending:
            return
        time.sleep(0.01)
    raise AssertionError("the page computed ahead never finished")


def _page2(live: LiveNode, ids: list[str], token: str) -> dict[str, Any]:
    r = live.get(live.coll() + "objects/", "jpn-node", params={**_params(ids), "next": token})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_an_unchanged_store_serves_the_page_computed_ahead(live: LiveNode) -> None:
    ids = _post(live, 4)
    first, token = _page1(live, ids)
    hits = live.node.read_ahead.hits
    second = _page2(live, ids, token)
    assert live.node.read_ahead.hits == hits + 1
    assert first + [o["id"] for o in second["objects"]] == ids
    assert second["more"] is False


def test_a_full_walk_equals_one_large_page(live: LiveNode) -> None:
    ids = _post(live, 9)
    hits = live.node.read_ahead.hits
    pages = walk(live, live.coll() + "objects/", "jpn-node", 2, **{"match[id]": ",".join(ids)})
    walked = [o["id"] for p in pages for o in p.json()["objects"]]
    whole = live.json(live.coll() + "objects/", "jpn-node", params={"match[id]": ",".join(ids)})
    assert walked == [o["id"] for o in whole["objects"]] == ids
    assert live.node.read_ahead.hits > hits
    # Headers come with the page computed ahead as with a fresh one.
    assert all("X-TAXII-Date-Added-First" in p.headers for p in pages)


def test_a_deletion_between_pages_is_seen(live: LiveNode) -> None:
    ids = _post(live, 4)
    _, token = _page1(live, ids)
    gone = ids[3]
    assert live.delete(live.coll() + f"objects/{gone}/").status_code == 200
    hits = live.node.read_ahead.hits
    second = _page2(live, ids, token)
    assert [o["id"] for o in second["objects"]] == [ids[2]]
    assert live.node.read_ahead.hits == hits


def test_a_new_version_between_pages_replaces_the_old_one(live: LiveNode) -> None:
    ids = _post(live, 4)
    _, token = _page1(live, ids)
    r = live.post(live.coll() + "objects/", {"objects": [indicator(ids[2], V2)]})
    assert r.json()["success_count"] == 1
    second = _page2(live, ids, token)
    # Latest version only (the default): the old version of ids[2] is not served; the new one
    # was added last, so it comes after ids[3].
    assert [(o["id"], o["modified"]) for o in second["objects"]] == [
        (ids[3], "2017-01-01T00:00:00.000Z"),
        (ids[2], V2),
    ]


def test_a_reclassification_between_pages_withholds_the_item(live: LiveNode) -> None:
    """Re-marking to Level I with a marking already stored: only the object-change counter
    tells the read-ahead that page 2 changed."""
    holder = new_id()
    r = live.post(live.coll() + "objects/", {"objects": [LEVEL_I, indicator(holder, marking=LEVEL_I["id"])]}, "chief")  # fmt: skip
    assert r.json()["success_count"] == 2, r.text
    ids = _post(live, 4)
    _, token = _page1(live, ids)
    before = live.node.snapshot()
    note = notices.make_notice("reclassification", ids[3], "KOR", new_level="I")
    notices.receive(live.node, Principal("test", "partner", "KOR"), note)
    after = live.node.snapshot()
    assert after.markings == before.markings and after.changed > before.changed
    second = _page2(live, ids, token)
    assert [o["id"] for o in second["objects"]] == [ids[2]]


def test_a_day_change_between_pages_is_decided_afresh(live: LiveNode) -> None:
    ids = _post(live, 4)
    _, token = _page1(live, ids)
    live.node.config.as_of = date(2016, 1, 1)  # before the Korea–Japan GSOMIA (2016-11-23)
    try:
        second = _page2(live, ids, token)
    finally:
        live.node.config.as_of = date(2017, 6, 1)
    assert second == {"more": False}


def test_a_revoked_partner_is_refused_the_page_computed_ahead(live: LiveNode) -> None:
    ids = _post(live, 4)
    _, token = _page1(live, ids)
    revoke_principal(live.store, "jpn-node")
    try:
        r = live.get(live.coll() + "objects/", "jpn-node", params={**_params(ids), "next": token})
        assert r.status_code == 401
    finally:
        add_principal(live.store, "jpn-node", "partner", "JPN", SECRETS["jpn-node"])


def test_only_served_pages_are_released(live: LiveNode) -> None:
    """Page 2 is computed ahead but never asked for: no release names its objects. Reading it
    then records it once, naming each version with its marking."""

    def released() -> list[list[Any]]:
        out = []
        for rec in audit.export(live.store):
            if rec["kind"] == "release" and rec["subject"] == "JPN":
                names = rec["body"]["markings"]
                out += [[o[0], o[1], names[str(o[2])]] for o in rec["body"]["objects"]]
        return out

    ids = _post(live, 4)
    first, token = _page1(live, ids)
    sent = [o[0] for o in released()]
    assert set(first) <= set(sent) and not set(ids[2:]) & set(sent)
    _page2(live, ids, token)
    again = [o for o in released() if o[0] in ids]
    assert sorted(o[0] for o in again) == sorted(ids)
    assert {o[2] for o in again} == {ANALYST_MD["id"]}
    assert all(o[1] == "2017-01-01T00:00:00.000Z" for o in again)


@pytest.mark.parametrize("who", ["analyst", "usa-node"])
def test_principals_never_share_a_page_computed_ahead(live: LiveNode, who: str) -> None:
    """The same position and filters as another principal: a page computed for JPN is never
    served to anyone else (the key names the principal)."""
    ids = _post(live, 4)
    _, token = _page1(live, ids)
    hits = live.node.read_ahead.hits
    # Another principal cannot even redeem JPN's token: the cursor is bound to its principal.
    r = live.get(live.coll() + "objects/", who, params={**_params(ids), "next": token})
    assert r.status_code == 400
    assert live.node.read_ahead.hits == hits
