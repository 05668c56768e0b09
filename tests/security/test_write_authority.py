"""No write by one principal changes what another can read (PRODUCT.md §7; docs/security.md).

Each test is an attack that worked against eff1280 (the docstring says how it failed there), run as
every kind of principal it concerns, against a live node on both stores. The attacks write through
TAXII as a partner would (Add Objects, notices, Delete) or as a weak national user would; each test
then reads as the victims (the chief, cleared for everything; a partner the item is released to)
and as the attacker.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from role_users import ROLE_USERS
from taxii_live import LiveNode, indicator, new_id

from accord.exchange import markings as mk
from accord.exchange import notices
from accord.exchange.samples import sample_objects
from accord.federation import notices as sending
from accord.policy.marking import Marking
from accord.registry import repository as registry_repo

PARTNERS = ("jpn-node", "usa-node", "chn-node")  # a partner, another partner, a third party
PARTY = {"jpn-node": "JPN", "usa-node": "USA", "chn-node": "CHN"}


def _samples(live: LiveNode) -> list[dict[str, Any]]:
    me = next(p for p in registry_repo.load(live.store).parties if p.code == "KOR")
    return [o for o in sample_objects(me) if o["type"] == "indicator"]


def level_one(live: LiveNode) -> dict[str, Any]:
    """The first-run sample at KOR I, group dprk: its id is derived from public code."""
    return _samples(live)[0]


def own_marking(live: LiveNode, party: str) -> Marking:
    """An unclassified marking of the partner's own: one it may always deliver."""
    scheme = next(p for p in registry_repo.load(live.store).parties if p.code == party)
    return Marking.of(party, scheme.level_codes()[-1], ["general-military"])


def post(live: LiveNode, who: str, objects: list[dict[str, Any]], alias: str) -> dict[str, Any]:
    r = live.post(live.coll(alias) + "objects/", {"objects": objects}, who)
    assert r.status_code == 202, (who, r.status_code, r.text[:300])
    body: dict[str, Any] = r.json()
    return body


def read(live: LiveNode, who: str, oid: str, alias: str = "items") -> list[dict[str, Any]]:
    """Every version of `oid` that `who` reads in the collection ([] for a 404)."""
    r = live.get(live.coll(alias) + f"objects/{oid}/", who, params={"match[version]": "all"})
    if r.status_code == 404:
        return []
    assert r.status_code == 200, (who, r.status_code, r.text[:300])
    objects: list[dict[str, Any]] = r.json().get("objects", [])
    return objects


def shadow(live: LiveNode, who: str, oid: str, modified: str | None = None) -> dict[str, Any]:
    """Posts, as partner `who`, an object of its own under `oid`; returns the object."""
    m = own_marking(live, PARTY[who])
    obj = indicator(oid, marking=mk.marking_id(m), name="shadow")
    if modified:
        obj["modified"] = modified
    status = post(live, who, [mk.marking_definition(m), obj], "inbox")
    assert status["success_count"] == 2, status
    return obj


def hidden_item(live: LiveNode) -> dict[str, Any]:
    """A fresh KOR I item (NOFORN, group dprk) no partner may receive, published by the chief."""
    m = Marking.of("KOR", "I", ["dprk-nuclear"], groups=["dprk"], noforn=True)
    item = indicator(marking=mk.marking_id(m), name="the chief's secret")
    status = post(live, "chief", [mk.marking_definition(m), item], "items")
    assert status["success_count"] == 2, status
    return item


def notice(live: LiveNode, who: str, kind: str, oid: str, **extra: Any) -> dict[str, Any]:
    sent = notices.make_notice(kind, oid, PARTY[who], **extra)
    return post(live, who, [sent], "inbox")


@pytest.mark.parametrize("attacker", PARTNERS)
def test_a_shadowed_id_and_a_reclassification_do_not_release_a_hidden_item(
    live: LiveNode, attacker: str
) -> None:
    """Case 1. Fails on eff1280: the partner then read the Korean Level I item from `items`
    (200 with its body): `held()` took the newest row of the id, in any collection, as the
    originator's, and the reclassification re-marked every version."""
    item = level_one(live) if attacker == "jpn-node" else hidden_item(live)
    before = read(live, "chief", item["id"])
    assert before and read(live, attacker, item["id"]) == []
    mine = shadow(live, attacker, item["id"])
    status = notice(live, attacker, "reclassification", item["id"], new_level="U")
    assert status["success_count"] == 1  # its own instance is re-marked: told nothing else
    assert read(live, attacker, item["id"]) == []  # still 404 in items
    assert read(live, "chief", item["id"]) == before  # the owner's item is unchanged
    assert read(live, "chief", item["id"], "inbox") == []  # and not shadowed in the inbox
    # The attacker sees its own instance, as it would had the id been fresh.
    (seen,) = read(live, attacker, item["id"], "inbox")
    assert seen["name"] == mine["name"] == "shadow"
    for other in set(PARTNERS) - {attacker}:
        assert read(live, other, item["id"], "inbox") == []


@pytest.mark.parametrize("attacker", PARTNERS)
def test_a_destruction_notice_from_a_shadow_destroys_nothing_of_the_owner(
    live: LiveNode, attacker: str
) -> None:
    """Case 2. Fails on eff1280: "destroyed (2 versions)": Korea's own item was gone for Korea's
    chief (404)."""
    item = hidden_item(live)
    before = read(live, "chief", item["id"])
    assert before
    shadow(live, attacker, item["id"])
    assert read(live, attacker, item["id"], "inbox")
    status = notice(live, attacker, "destruction", item["id"])
    assert status["success_count"] == 1  # its own instance is destroyed: told nothing else
    assert read(live, attacker, item["id"], "inbox") == []
    assert read(live, "chief", item["id"]) == before


@pytest.mark.parametrize("attacker", PARTNERS)
def test_a_partner_cannot_deliver_an_item_naming_this_node_as_originator(
    live: LiveNode, attacker: str
) -> None:
    """Case 3. Fails on eff1280: the item marked originator KOR was stored, and later released to
    the USA under kor-usa-gsomia-1987 as if Korea had published it."""
    forged_marking = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
    forged = indicator(marking=mk.marking_id(forged_marking), name="forged")
    status = post(live, attacker, [mk.marking_definition(forged_marking), forged], "inbox")
    assert status["success_count"] == 0 and status["failure_count"] == 2
    assert all("originator" in f["message"] for f in status["failures"])
    for who in ("chief", "usa-node", "jpn-node"):
        assert read(live, who, forged["id"], "inbox") == []


@pytest.mark.parametrize("attacker", PARTNERS)
def test_no_partner_can_occupy_a_marking_id_the_node_would_mint(
    live: LiveNode, attacker: str
) -> None:
    """Case 4. Fails on eff1280: a marking-definition posted under the id accord derives for "KOR
    I dprk-missile, group dprk" with KOR U content was stored, and a later reclassification to I
    applied it (a Level III user without the group then read the item)."""
    target = Marking.of("KOR", "I", ["dprk-missile"], groups=["dprk"])
    squat = mk.marking_definition(Marking.of("KOR", "U", ["dprk-missile"]))
    squat["id"] = mk.marking_id(target)
    as_own = mk.marking_definition(own_marking(live, PARTY[attacker]))
    as_own["id"] = mk.marking_id(Marking.of("KOR", "III", ["cyber"]))
    acs = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mk.marking_id(Marking.of("KOR", "III", ["general-military"])),
        "created": "2017-01-01T00:00:00.000Z",
        "extensions": {
            mk.ACS_EXTENSION: {
                "extension_type": "property-extension",
                "responsible_entity_originator": PARTY[attacker],
                "control_set": {"classification": "U"},
            }
        },
    }
    status = post(live, attacker, [squat, as_own, acs], "inbox")
    assert status["success_count"] == 0 and status["failure_count"] == 3, status
    # The node's own publishing under those markings works, and a reclassification to I
    # applies the node's own definition: only the cleared reader with the group sees it.
    item = indicator(
        marking=mk.marking_id(Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"]))
    )
    md = mk.marking_definition(Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"]))
    cyber = Marking.of("KOR", "III", ["cyber"], groups=["cyber"])
    other = indicator(marking=mk.marking_id(cyber))
    ok = post(live, "chief", [md, item, mk.marking_definition(cyber), other], "items")
    assert ok["success_count"] == 4, ok
    sending.send_originator_notice(live.node, "reclassification", item["id"], "I")
    assert read(live, "chief", item["id"])
    assert read(live, "clerk", item["id"]) == [] and read(live, "analyst", item["id"]) == []


def _chief_item(live: LiveNode) -> dict[str, Any]:
    """A fresh KOR II item (group dprk) that Japan may receive and the clerk may not."""
    m = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
    item = indicator(marking=mk.marking_id(m), name="the chief's text")
    assert post(live, "chief", [mk.marking_definition(m), item], "items")["success_count"] == 2
    return item


CLERK_MARKING = Marking.of("KOR", "U", ["general-military"])


def _clerk_version(oid: str, modified: str) -> dict[str, Any]:
    return indicator(oid, modified=modified, marking=mk.marking_id(CLERK_MARKING), name="clerk")


@pytest.mark.parametrize("writer", ["clerk", "analyst"])
def test_a_newer_version_from_a_user_who_may_not_read_the_item_changes_nothing(
    live: LiveNode, writer: str
) -> None:
    """Case 5. Fails on eff1280: the chief's latest version of the id became the clerk's text,
    and Japan was served it. (The clerk, Level III without groups, may not read the KOR II item
    Japan receives; the analyst, Level II, may not read a Level I one.)"""
    if writer == "clerk":
        item = _chief_item(live)
    else:
        m = Marking.of("KOR", "I", ["dprk-missile"], groups=["dprk"])
        item = indicator(marking=mk.marking_id(m), name="the chief's text")
        post(live, "chief", [mk.marking_definition(m), item], "items")
    chief_before = read(live, "chief", item["id"])
    japan_before = read(live, "jpn-node", item["id"])
    assert chief_before and read(live, writer, item["id"]) == []
    newer = _clerk_version(item["id"], "2017-05-01T00:00:00.000Z")
    status = post(live, writer, [mk.marking_definition(CLERK_MARKING), newer], "items")
    assert status["success_count"] == 2, status
    assert read(live, "chief", item["id"]) == chief_before
    assert read(live, "jpn-node", item["id"]) == japan_before
    assert [o["name"] for o in read(live, writer, item["id"])] == ["clerk"]


def test_a_hidden_id_and_version_is_answered_as_a_fresh_one_and_then_read_back(
    live: LiveNode,
) -> None:
    """Case 6. Fails on eff1280: "stored" for a hidden (id, version) while a GET of it was 404,
    which confirmed that the hidden object exists."""
    item = _chief_item(live)
    fresh = _clerk_version(new_id(), item["modified"])
    same = _clerk_version(item["id"], item["modified"])
    md = mk.marking_definition(CLERK_MARKING)
    a = post(live, "clerk", [md, fresh], "items")
    b = post(live, "clerk", [md, same], "items")

    def shape(status: dict[str, Any]) -> Any:
        return [(s["version"], s.get("message")) for s in status.get("successes", [])], {
            k: status[k] for k in ("success_count", "failure_count", "pending_count")
        }

    assert shape(a) == shape(b)
    assert [o["name"] for o in read(live, "clerk", same["id"])] == ["clerk"]
    assert [o["name"] for o in read(live, "clerk", fresh["id"])] == ["clerk"]
    assert [o["name"] for o in read(live, "chief", item["id"])] == ["the chief's text"]


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_only_a_publishing_role_writes_over_taxii(live: LiveNode, role: str) -> None:
    """Case 10. Fails on eff1280 for every role but analyst (the control): a user whose only
    role is `logistics` POSTed items (202) and DELETEd an item published by another user (200)."""
    user = ROLE_USERS[role]
    m = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
    theirs = _chief_item(live)
    r = live.post(
        live.coll() + "objects/",
        {"objects": [mk.marking_definition(m), indicator(marking=mk.marking_id(m))]},
        user,
    )
    d = live.delete(live.coll() + f"objects/{theirs['id']}/", user)
    if role == "analyst":
        assert r.status_code == 202 and r.json()["success_count"] == 2
        assert d.status_code == 200  # the node's item, under the node's authority
    else:
        assert r.status_code == 403, (role, r.status_code)
        assert d.status_code == 403, (role, d.status_code)
        assert read(live, "chief", theirs["id"])


@pytest.mark.parametrize("attacker", PARTNERS)
def test_a_partner_deletes_only_what_it_owns(live: LiveNode, attacker: str) -> None:
    """A partner's Delete in the inbox: another partner's item it may not read is 404 exactly as
    an absent one, and stays; its own goes. (On eff1280 the same held through `published_by`;
    kept here so that the ownership rewrite keeps it.)"""
    owner = "jpn-node" if attacker != "jpn-node" else "usa-node"
    theirs = shadow(live, owner, new_id())
    mine = shadow(live, attacker, new_id())
    gone = live.delete(live.coll("inbox") + f"objects/{theirs['id']}/", attacker)
    absent = live.delete(live.coll("inbox") + f"objects/{new_id()}/", attacker)
    assert gone.status_code == absent.status_code == 404
    assert gone.json()["title"] == absent.json()["title"]
    assert read(live, owner, theirs["id"], "inbox")
    assert live.delete(live.coll("inbox") + f"objects/{mine['id']}/", attacker).status_code == 200
    assert read(live, attacker, mine["id"], "inbox") == []


def test_no_credentials_write_nothing(live: LiveNode) -> None:
    """The stranger: no credentials, no write (401), and nothing stored. (Held on eff1280 too:
    kept so that the boundary is tested as every kind of principal.)"""
    obj = indicator()
    r = live.post(live.coll() + "objects/", {"objects": [obj]}, None)
    assert r.status_code == 401
    assert live.delete(live.coll() + f"objects/{level_one(live)['id']}/", None).status_code == 401
    assert read(live, "chief", obj["id"]) == []
    assert read(live, "chief", level_one(live)["id"])


def test_a_compromise_report_names_only_items_released_to_the_reporter(live: LiveNode) -> None:
    """Fails on eff1280: a compromise report about a hidden item of this node was recorded
    ("…recorded") while one about an absent id was refused, telling the partner which ids exist."""
    hidden = hidden_item(live)["id"]
    absent = f"indicator--{uuid.uuid4()}"
    a = notice(live, "chn-node", "compromise", hidden, description="x")
    b = notice(live, "chn-node", "compromise", absent, description="x")
    assert a["failure_count"] == b["failure_count"] == 1
    assert a["failures"][0]["message"].replace(hidden, "ID") == b["failures"][0]["message"].replace(
        absent, "ID"
    )


def test_an_accord_marking_definition_keeps_its_content_derived_id(live: LiveNode) -> None:
    """The node's own users cannot register a definition under a foreign id either (the rule is
    the store's, not the partner path's)."""
    md = copy.deepcopy(mk.marking_definition(CLERK_MARKING))
    md["id"] = f"marking-definition--{uuid.uuid4()}"
    status = post(live, "chief", [md], "items")
    assert status["failure_count"] == 1
    assert "derived from its content" in status["failures"][0]["message"]


def _polyinstance_entries(live: LiveNode, who: str, oid: str) -> list[Any]:
    """The entries naming `oid` in the polyinstance records `who` reads on the API."""
    found: list[Any] = []
    after = 0
    while True:
        r = live.http.get(
            "/api/v1/audit/records",
            params={"after": after, "limit": 1000},
            headers={"Authorization": live.headers(who)["Authorization"]},
        )
        assert r.status_code == 200, r.text[:300]
        page = r.json()
        for rec in page["records"]:
            if rec["kind"] == "polyinstance":
                found += [e for e in rec["body"].get("objects", []) if e[0] == oid]
        if page.get("next_after") is None:
            return found
        after = page["next_after"]


def test_a_polyinstance_is_told_to_auditors_cleared_for_the_original_only(
    live: LiveNode,
) -> None:
    """The clerk's write beside a hidden item is recorded; an auditor cleared for the original
    reads the record, a Level III auditor does not learn the id or the original's marking.
    (eff1280 had no such record: it answered "stored" and kept nothing.)"""
    from accord.principals import add_principal

    SECRETS_L3 = "l3-auditor-secret"
    add_principal(
        live.store, "l3-auditor", "user", "KOR", SECRETS_L3, clearance="III", roles=("auditor",)
    )
    from taxii_live import SECRETS

    SECRETS["l3-auditor"] = SECRETS_L3
    try:
        item = hidden_item(live)
        md = mk.marking_definition(CLERK_MARKING)
        post(live, "clerk", [md, _clerk_version(item["id"], "2017-05-02T00:00:00.000Z")], "items")
        assert _polyinstance_entries(live, ROLE_USERS["auditor"], item["id"])
        assert _polyinstance_entries(live, "l3-auditor", item["id"]) == []
    finally:
        del SECRETS["l3-auditor"]


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_only_a_publishing_role_reaches_the_publish_page(live: LiveNode, role: str) -> None:
    """Case 10, the web interface. Fails on eff1280 for every role but analyst: an auditor
    published through /ui/publish ("Published.")."""
    from ui_client import client, csrf_of, signed_in

    user = ROLE_USERS[role]
    with client(live) as c:
        token = signed_in(c, user)
        page = c.get("/ui/publish")
        item = indicator(name=f"published by {user}")
        sent = c.post(
            "/ui/publish",
            data={
                "csrf": token,
                "action": "publish",
                "stix": json.dumps(item),
                "level": "III",
                "topic": "general-military",
                "groups": "military",
            },
        )
    if role == "analyst":
        assert page.status_code == 200 and csrf_of(page.text)
        assert sent.status_code in (200, 303), sent.text[:300]
        assert read(live, "chief", item["id"])
    else:
        assert page.status_code == 403, (role, page.status_code)
        assert sent.status_code == 403, (role, sent.status_code)
        assert read(live, "chief", item["id"]) == []


@pytest.mark.parametrize("writer", ["clerk", *PARTNERS])
def test_a_reference_to_a_hidden_marking_reads_as_an_unknown_one(
    live: LiveNode, writer: str
) -> None:
    """Fails on eff1280: the clerk's object naming a stored Level I marking was refused "not
    cleared … (R9)" (a partner's: "… may not release this KOR item …") and one naming an
    unregistered id "no release marking", telling the writer which release classes exist."""
    hidden = hidden_item(live)["object_marking_refs"][0]
    unknown = f"marking-definition--{uuid.uuid4()}"
    alias = "items" if writer == "clerk" else "inbox"
    a = post(live, writer, [indicator(marking=hidden)], alias)
    b = post(live, writer, [indicator(marking=unknown)], alias)
    assert a["failure_count"] == b["failure_count"] == 1
    assert a["failures"][0]["message"] == b["failures"][0]["message"]
