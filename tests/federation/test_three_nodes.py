"""Three national nodes (KOR, JPN, USA) as real servers on loopback, each with its own store and
the demonstration registry: exactly which items arrive where, before and after 2016-11-23, with and
without the originator's consent (issue #5; R6, R7; TISA para 4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from taxii_live import LiveNode, start_node

from accord.audit import log as audit
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.exchange.marking_rows import marking_index
from accord.exchange.queries import Query, page
from accord.federation.peers import add_peer
from accord.federation.sync import sync_peer
from accord.policy.marking import Marking
from accord.principals import add_principal
from accord.principals.authority import host_actor
from accord.registry import service
from accord.registry.model import Consent, Registry
from accord.store.exchange_schema import objects
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

BEFORE = date(2016, 6, 1)  # TISA in force, no Korea–Japan GSOMIA yet
AFTER = date(2017, 6, 1)  # Korea–Japan GSOMIA in force

A = Marking.of(
    "KOR", "II", ["dprk-nuclear"], groups=["dprk"]
)  # within TISA's scope and KOR's consent

# three live nodes: the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow
B = Marking.of("KOR", "II", ["general-military"], groups=["military"])  # outside TISA's scope
C = Marking.of("KOR", "I", ["dprk-missile"], groups=["dprk"])  # Level I: no Korea–Japan row


def indicator(n: int, m: Marking) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2016-05-01T00:00:00.000Z",
        "modified": "2016-05-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '192.0.2.{n}']",
        "pattern_type": "stix",
        "valid_from": "2016-05-01T00:00:00Z",
        "object_marking_refs": [mk.marking_id(m)],
    }


ITEMS = {"A": indicator(1, A), "B": indicator(2, B), "C": indicator(3, C)}


class Federation:
    def __init__(self, nodes: dict[str, LiveNode]) -> None:
        self.nodes = nodes

    def at(self, day: date) -> None:
        for n in self.nodes.values():
            n.node.config.as_of = day

    def sync(self, party: str, peer: str | None = None) -> list[dict[str, object]]:
        n = self.nodes[party]
        from accord.federation.peers import list_peers

        return [
            sync_peer(n.node, p, retries=2).to_json()
            for p in list_peers(n.store)
            if peer in (None, p.name)
        ]

    def copies(self, party: str, key: str) -> int:
        """How many stored versions of item `key` the node holds, all collections together."""
        store = self.nodes[party].store
        n = 0
        for c in list_collections(store, party.lower()):
            q = Query(ids=(str(ITEMS[key]["id"]),), versions=("all",))
            n += len(page(store, c.key, None, q, None, 100)[0])
        return n

    def held(self, party: str) -> set[str]:
        """Which of A, B, C the node holds (in any collection)."""
        store = self.nodes[party].store
        ids = set()
        for c in list_collections(store, party.lower()):
            rows, _ = page(store, c.key, None, Query(versions=("all",)), None, 10_000)
            ids |= {r.stix_id for r in rows}
        return {k for k, v in ITEMS.items() if v["id"] in ids}


def _start(url: str, party: str) -> LiveNode:
    return start_node(url, party=party, as_of=BEFORE)


@pytest.fixture
def fed(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Federation]:
    backend = getattr(request, "param", "sqlite")
    made: list[str] = []
    nodes: dict[str, LiveNode] = {}
    for party in ("KOR", "JPN", "USA"):
        if backend == "sqlite":
            url = sqlite_store(tmp_path_factory.mktemp(party) / "accord.db")
        else:
            url, name = make_pg_database()
            made.append(name)
        nodes[party] = _start(url, party)
    secrets = {p: f"{p.lower()}-fed-secret" for p in nodes}
    for holder, n in nodes.items():
        for other in nodes:
            if other != holder:
                add_principal(n.store, f"{other.lower()}-peer", "partner", other, secrets[other])
    for holder, n in nodes.items():
        for other, o in nodes.items():
            if other != holder:
                add_peer(
                    n.store,
                    other.lower(),
                    other,
                    o.url,
                    f"{holder.lower()}-peer",
                    secrets[holder],
                    pull=False,
                )
    # KOR's analyst publishes three items on its own node.
    kor = nodes["KOR"]
    items = next(c for c in list_collections(kor.store, "kor") if c.kind == "items")
    objs = [mk.marking_definition(m) for m in (A, B, C)] + list(ITEMS.values())
    outcomes = add_objects(kor.store, items, objs, Writer.host("analyst", "KOR"), lambda m: None)
    assert all(o.ok for o in outcomes)
    try:
        yield Federation(nodes)
    finally:
        for n in nodes.values():
            n.stop()
        for name in made:
            drop_pg_database(name)


@pytest.mark.parametrize("fed", BACKENDS, indirect=True)
def test_before_the_gsomia_korea_reaches_japan_only_through_the_hub(fed: Federation) -> None:
    fed.at(BEFORE)
    fed.sync("KOR")
    assert fed.held("USA") == {"A", "B", "C"}  # Korea–US 1987: every level, every topic
    assert fed.held("JPN") == set()  # no direct Korea–Japan agreement: nothing direct
    fed.sync("USA")
    # The hub relays A only: KOR's TISA consent covers DPRK nuclear/missile up to Level II (R6, R7).
    assert fed.held("JPN") == {"A"}
    disclosures = audit.disclosures(fed.nodes["USA"].store, str(ITEMS["A"]["id"]))
    assert [(d["party"], d["level"]) for d in disclosures] == [
        ("JPN", "GOKUHI")
    ]  # re-marked by the hub
    kor_disclosures = audit.disclosures(fed.nodes["KOR"].store, str(ITEMS["A"]["id"]))
    assert {d["party"] for d in kor_disclosures} == {"USA"}
    for n in fed.nodes.values():
        assert audit.verify(n.store).ok


def test_after_the_gsomia_korea_sends_directly_except_level_one(fed: Federation) -> None:
    fed.at(AFTER)
    fed.sync("KOR")
    assert fed.held("JPN") == {"A", "B"}  # C is Level I: no Korea–Japan row (R2)
    assert fed.held("USA") == {"A", "B", "C"}
    kor = fed.nodes["KOR"].store
    (a_to_jpn,) = [d for d in audit.disclosures(kor, str(ITEMS["A"]["id"])) if d["party"] == "JPN"]
    assert (
        a_to_jpn["basis"][0] in ("kor-jpn-gsomia-2016", "tisa-2014")
        and a_to_jpn["level"] == "GOKUHI"
    )
    assert a_to_jpn["route"] == ["KOR", "JPN"]
    fed.sync("USA")  # the hub's relay of A is an exact duplicate at JPN: changes nothing
    assert fed.held("JPN") == {"A", "B"}
    assert fed.copies("JPN", "A") == fed.copies("JPN", "B") == 1
    for n in fed.nodes.values():
        assert audit.verify(n.store).ok


def test_without_the_originators_consent_the_hub_relays_nothing(fed: Federation) -> None:
    fed.at(BEFORE)
    expired = Consent(
        id="kor-consent-tisa-2014",
        originator="KOR",
        holder="USA",
        recipients=("JPN",),
        arrangement="tisa-2014",
        topics=("dprk-nuclear", "dprk-missile"),
        max_level="II",
        valid_from=date(2014, 12, 29),
        valid_until=date(2015, 1, 31),
    )
    for party in ("USA", "JPN"):
        service.import_registry(fed.nodes[party].store, Registry(consents=(expired,)), actor="test")
    fed.sync("KOR")
    fed.sync("USA")
    assert fed.held("JPN") == set()


def test_each_version_is_sent_once_per_peer(fed: Federation) -> None:
    fed.at(AFTER)
    first = fed.sync("KOR", "jpn")
    again = fed.sync("KOR", "jpn")
    assert first[0]["pushed"] >= 4  # A, B, their marking-definitions and the releasable samples
    assert again[0]["pushed"] == 0
    releases = [
        r
        for r in audit.export(fed.nodes["KOR"].store)
        if r["kind"] == "release" and r["subject"] == "JPN"
    ]
    sent = [tuple(o) for r in releases for o in r["body"]["objects"]]
    assert len(sent) == len(set(sent)) == first[0]["pushed"]
    assert {ITEMS["A"]["id"], ITEMS["B"]["id"]} <= {o[0] for o in sent}
    assert ITEMS["C"]["id"] not in {o[0] for o in sent}


@pytest.mark.parametrize("fed", BACKENDS, indirect=True)
def test_a_peer_is_sent_again_only_when_asked(fed: Federation) -> None:
    """Each object version is sent once per peer "unless asked again": `rewind` moves the
    peer's cursors back (never forward), the next sync sends every version again, the receiver
    keeps one copy of each, the sender records the second release, and the request itself is
    in the audit trail."""
    from accord.federation.peers import get_cursor, rewind

    fed.at(AFTER)
    kor = fed.nodes["KOR"].store
    first = fed.sync("KOR", "jpn")[0]
    assert first["pushed"] >= 4
    items = next(c for c in list_collections(kor, "kor") if c.kind == "items")
    sent_to = get_cursor(kor, "jpn", "push", items.id)
    assert sent_to > 0
    # A position after the cursor moves nothing: a rewind never skips what was not sent.
    assert rewind(kor, "jpn", sent_to + 1) == []
    assert fed.sync("KOR", "jpn")[0]["pushed"] == 0
    moved = rewind(kor, "jpn", 0)
    assert [(m.direction, m.collection, m.before, m.after) for m in moved] == [
        ("push", items.id, sent_to, 0)
    ]
    again = fed.sync("KOR", "jpn")[0]
    assert again["pushed"] == first["pushed"] and not again["errors"]
    assert get_cursor(kor, "jpn", "push", items.id) == sent_to
    assert fed.copies("JPN", "A") == fed.copies("JPN", "B") == 1  # one copy of each version
    records = list(audit.export(kor))
    sent = [
        tuple(o)
        for r in records
        if r["kind"] == "release" and r["subject"] == "JPN"
        for o in r["body"]["objects"]
    ]
    assert len(sent) == 2 * first["pushed"] and len(set(sent)) == first["pushed"]
    asked = [r for r in records if r["kind"] == "sync"]
    assert [r["body"]["cursors"] for r in asked] == [[], [["push", items.id, sent_to, 0]]]
    assert all(r["actor"] == host_actor() and r["subject"] == "peer:jpn" for r in asked)
    assert audit.verify(kor).ok and audit.verify(fed.nodes["JPN"].store).ok


def test_the_receiver_refuses_what_the_sender_may_not_release(fed: Federation) -> None:
    """JPN's node re-checks with its own registry: USA pushing a Korean Level I item is refused."""
    fed.at(BEFORE)
    fed.sync("KOR", "usa")
    usa = fed.nodes["USA"]
    jpn = fed.nodes["JPN"]
    # Force a relay that USA's engine would not make, straight over TAXII, as a rogue sender would.
    import httpx
    import orjson

    body = orjson.dumps({"objects": [mk.marking_definition(C), ITEMS["C"]]})
    r = httpx.post(
        jpn.url + "/jpn/collections/inbox/objects/",
        content=body,
        auth=("usa-peer", "usa-fed-secret"),
        headers={
            "Accept": "application/taxii+json;version=2.1",
            "Content-Type": "application/taxii+json;version=2.1",
        },
        timeout=30,
    )
    assert r.status_code == 202
    status = r.json()
    assert status["failure_count"] == 2 and status["success_count"] == 0
    assert "USA may not release this KOR item to JPN" in status["failures"][1]["message"]
    assert fed.held("JPN") == set()
    refusals = [x for x in audit.export(jpn.store) if x["kind"] == "refusal"]
    assert refusals and refusals[-1]["actor"] == "usa-peer"
    assert usa.store is not None


# ---- the originator's rights after release (issue #5 §6) ----------------------------------------


def test_reclassification_reaches_every_holder_and_is_honoured(fed: Federation) -> None:
    from accord.exchange import notices
    from accord.federation import notices as sending

    fed.at(AFTER)
    fed.sync("KOR")
    a = str(ITEMS["A"]["id"])
    out = sending.send_originator_notice(
        fed.nodes["KOR"].node, "reclassification", a, new_level="III"
    )
    assert out["holders"] == {"JPN": "jpn: delivered", "USA": "usa: delivered"}
    for party in ("KOR", "JPN", "USA"):
        store = fed.nodes[party].store
        assert notices.held(store, a).marking.level == "III", party
        (rec,) = [r for r in notices.notices(store) if r["kind"] == "reclassification"]
        assert rec["from"] == "II" and rec["to"] == "III"
        assert audit.verify(store).ok
    # Nothing is recalled (R8): the release records still say what left, and when.
    assert {d["party"] for d in audit.disclosures(fed.nodes["KOR"].store, a)} == {"JPN", "USA"}


def test_destruction_request_is_carried_out_by_holders(fed: Federation) -> None:
    from accord.errors import NotFound
    from accord.exchange import notices
    from accord.federation import notices as sending

    fed.at(AFTER)
    fed.sync("KOR")
    b = str(ITEMS["B"]["id"])
    out = sending.send_originator_notice(fed.nodes["KOR"].node, "destruction", b)
    assert set(out["holders"]) == {"JPN", "USA"}
    for party in ("JPN", "USA"):
        with pytest.raises(NotFound):
            notices.held(fed.nodes[party].store, b)
        assert [r["kind"] for r in notices.notices(fed.nodes[party].store)] == ["destruction"]
    assert "B" not in fed.held("JPN")


def test_a_compromise_report_reaches_the_originator_at_once(fed: Federation) -> None:
    from accord.exchange import notices
    from accord.federation import notices as sending

    fed.at(AFTER)
    fed.sync("KOR")
    a = str(ITEMS["A"]["id"])
    out = sending.report_compromise(fed.nodes["JPN"].node, a, "laptop lost in transit")
    assert out["originator"] == "KOR" and out["delivery"] == "kor: delivered"
    (seen,) = [r for r in notices.notices(fed.nodes["KOR"].store) if r["kind"] == "compromise"]
    assert seen["reporter"] == "JPN" and seen["description"] == "laptop lost in transit"


@pytest.mark.parametrize("escaped", [False, True], ids=["plain", "type-with-unicode-escapes"])
def test_only_the_originator_may_reclassify(fed: Federation, escaped: bool) -> None:
    import json

    import httpx

    from accord.exchange import notices

    fed.at(AFTER)
    fed.sync("KOR")
    a = str(ITEMS["A"]["id"])
    forged = notices.make_notice("reclassification", a, "USA", new_level="U")
    body = json.dumps({"objects": [forged]})
    if escaped:
        # JSON may spell any character as \uXXXX: the node still sees the notice's type.
        spelled = "".join(f"\\u{ord(ch):04x}" for ch in notices.NOTICE_TYPE)
        body = body.replace(notices.NOTICE_TYPE, spelled)
        assert notices.NOTICE_TYPE not in body
    jpn = fed.nodes["JPN"]
    r = httpx.post(
        jpn.url + "/jpn/collections/inbox/objects/",
        content=body,
        auth=("usa-peer", "usa-fed-secret"),
        headers={
            "Accept": "application/taxii+json;version=2.1",
            "Content-Type": "application/taxii+json;version=2.1",
        },
        timeout=30,
    )
    status = r.json()
    # JPN may not release Korea's item to the USA, so the USA is told what it would be told of
    # an item that does not exist (the refusal must not reveal a hidden item).
    assert status["failure_count"] == 1
    assert status["failures"][0]["message"] == f"this node holds no item {a!r} of USA"
    assert notices.held(jpn.store, a).marking.level == "II"


def test_serve_syncs_on_a_schedule(fed: Federation) -> None:
    """`accord serve` pushes on its own every `sync_interval` seconds (here 0.3 s)."""
    import threading
    import time

    import uvicorn
    from taxii_live import free_port

    from accord.app import create_app

    fed.at(AFTER)
    kor = fed.nodes["KOR"]
    app = create_app(kor.node, sync_interval=0.3)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and fed.held("JPN") != {"A", "B"}:
            time.sleep(0.2)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert fed.held("JPN") == {"A", "B"} and fed.held("USA") == {"A", "B", "C"}


def test_three_nodes_pushing_and_pulling_each_send_each_version_once(fed: Federation) -> None:
    """Every node pushes to and pulls from both others, three rounds. After the first round
    nothing is sent or stored again anywhere; no node stores another's copy of its own items;
    each node holds each foreign version once; Korea's disclosures list one release per party
    and version."""
    from accord.federation.peers import list_peers, remove_peer

    fed.at(AFTER)
    for n in fed.nodes.values():
        for p in list_peers(n.store):
            remove_peer(n.store, p.name)
            add_peer(n.store, p.name, p.party, p.url, p.user, p.secret.reveal())
    rounds = []
    for _ in range(3):
        reports = [r for party in fed.nodes for r in fed.sync(party)]
        assert all(r["ok"] for r in reports), reports
        rounds.append(reports)
    for reports in rounds[1:]:
        assert [(r["pushed"], r["pulled"]) for r in reports] == [(0, 0)] * len(reports), reports
    assert sum(int(str(r["pushed"])) + int(str(r["pulled"])) for r in rounds[0]) > 0
    for party, n in fed.nodes.items():
        inbox = next(c for c in list_collections(n.store, party.lower()) if c.kind == "inbox")
        rows, _ = page(n.store, inbox.key, None, Query(versions=("all",)), None, 10_000)
        versions = [(r.stix_id, r.version) for r in rows]
        assert len(versions) == len(set(versions)), party  # each foreign version once
        index = marking_index(n.store)
        own = [r.stix_id for r in rows if index.by_row[r.marking].originator == party]
        assert not own, (party, own[:3])  # its own items never come back as new ones
        # A version relayed by the third node and read by this node's own pull is recognised,
        # not kept again as the puller's instance.
        with n.store.read() as conn:
            pulled_instances = conn.execute(
                sa.select(objects.c.stix_id).where(objects.c.instance.like("peer:%"))
            ).all()
        assert not pulled_instances, (party, pulled_instances[:3])
    kor = fed.nodes["KOR"].store
    released = [
        (r["subject"], tuple(o))
        for r in audit.export(kor)
        if r["kind"] == "release"
        for o in r["body"]["objects"]
    ]
    by_party: dict[str, list[tuple[object, ...]]] = {}
    for party, obj in released:
        by_party.setdefault(party, []).append(obj)
    assert set(by_party) == {"JPN", "USA"}
    for party, objs in by_party.items():
        assert {ITEMS["A"]["id"], ITEMS["B"]["id"]} <= {o[0] for o in objs}, party


def _pin_everyone(fed: Federation) -> None:
    from accord.trust import keys

    for n in fed.nodes.values():
        with n.store.begin() as conn:
            for party, o in fed.nodes.items():
                if o is not n:
                    keys.pin(conn, party, keys.public_hex(keys.node_key(o.store)), "test")


@pytest.mark.parametrize("fed", BACKENDS, indirect=True)
def test_koreas_signature_survives_the_hub_and_an_altered_copy_is_refused(
    fed: Federation,
) -> None:
    """Keys pinned everywhere. Before the Korea–Japan GSOMIA, Korea's item A reaches Japan only
    through the US hub, with Korea's signature verified at Japan. The hub then changes one byte
    of another Korean item it relays: Japan refuses it as altered, and says so in its audit."""
    from accord.store.trust_schema import provenance_entries

    _pin_everyone(fed)
    fed.at(BEFORE)
    fed.sync("KOR")
    fed.sync("USA")
    assert fed.held("JPN") == {"A"}
    jpn = fed.nodes["JPN"].store
    with jpn.read() as conn:
        vouched = conn.execute(
            sa.select(provenance_entries.c.originator).where(
                provenance_entries.c.stix_id == ITEMS["A"]["id"]
            )
        ).all()
    assert [r[0] for r in vouched] == ["KOR"]  # verified with Korea's key, relayed by the US
    # A second item within TISA's scope, published at Korea and relayed by a dishonest hub.
    kor = fed.nodes["KOR"]
    items = next(c for c in list_collections(kor.store, "kor") if c.kind == "items")
    d = indicator(9, A)
    assert all(
        o.ok
        for o in add_objects(kor.store, items, [d], Writer.host("analyst", "KOR"), lambda m: None)
    )
    fed.sync("KOR")
    usa = fed.nodes["USA"].store
    with usa.begin() as conn:
        changed = conn.execute(
            sa.update(objects)
            .where(objects.c.stix_id == d["id"])
            .values(body=sa.func.replace(objects.c.body, "192.0.2.9", "192.0.2.8"))
        ).rowcount
    assert changed == 1
    (report,) = fed.sync("USA", "jpn")
    assert report["push_refused"] >= 1
    held = fed.held("JPN")
    assert "A" in held
    refusals = [r for r in audit.export(jpn) if r["kind"] == "refusal"]
    assert any("altered" in str(r["body"]) and d["id"] in str(r["body"]) for r in refusals)
    with jpn.read() as conn:
        stored = conn.execute(
            sa.select(objects.c.stix_id).where(objects.c.stix_id == d["id"])
        ).all()
    assert stored == []


def _cli(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    import os

    from accord.cli.main import main

    capsys.readouterr()
    old = os.environ.get("ACCORD_DATABASE_URL")
    os.environ["ACCORD_DATABASE_URL"] = url
    try:
        code = main(list(args))
    finally:
        if old is None:
            os.environ.pop("ACCORD_DATABASE_URL", None)
        else:
            os.environ["ACCORD_DATABASE_URL"] = old
    return code, capsys.readouterr().out


@pytest.mark.parametrize("fed", BACKENDS, indirect=True)
def test_receipts_come_back_signed_and_missing_is_empty_after_a_sync(
    fed: Federation, capsys: pytest.CaptureFixture[str]
) -> None:
    """Korea pushes to Japan; Japan signs a receipt for what it stored; Korea's same sync
    collects it: `audit disclosures --json` shows it verified, `audit receipts --missing` lists
    nothing for Japan. A receipt whose key is not the one pinned for Japan is kept unverified."""
    import json

    _pin_everyone(fed)
    fed.at(AFTER)
    (report,) = fed.sync("KOR", "jpn")
    assert report["ok"] and report["receipts"] >= 2, report
    url = fed.nodes["KOR"].store.url
    code, out = _cli(url, capsys, "audit", "disclosures", str(ITEMS["A"]["id"]), "--json")
    assert code == 0
    (release,) = [r for r in json.loads(out) if r["party"] == "JPN"]
    assert release["receipt"]["by"] == "JPN" and release["receipt"]["verified"] is True
    assert release["receipt"]["at"].endswith("Z")
    code, out = _cli(url, capsys, "audit", "receipts", "--missing", "--json")
    assert code == 0
    assert [r for r in json.loads(out) if r["party"] == "JPN"] == []
    code, out = _cli(url, capsys, "audit", "receipts", "--missing", "--older-than", "1h", "--json")
    assert code == 0 and json.loads(out) == []
    code, _ = _cli(url, capsys, "audit", "receipts", "--missing", "--older-than", "soon")
    assert code == 2
    # The US node has received nothing yet: its releases have no receipt until it syncs.
    fed.sync("KOR", "usa")
    code, out = _cli(url, capsys, "audit", "receipts", "--missing", "--json")
    assert [r for r in json.loads(out) if r["party"] == "USA"] == []


@pytest.mark.parametrize("fed", BACKENDS, indirect=True)
def test_a_receipt_signed_by_another_key_is_kept_unverified(fed: Federation) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from accord.trust import keys
    from accord.trust.receipts import receipt_of

    with fed.nodes["KOR"].store.begin() as conn:  # Korea pinned a key that is not Japan's
        keys.pin(conn, "JPN", keys.public_hex(Ed25519PrivateKey.generate()), "test")
    fed.at(AFTER)
    (report,) = fed.sync("KOR", "jpn")
    assert report["receipts"] >= 2, report
    # The same wrong pin makes Japan's audit checkpoint fail its check: said, data still flows.
    assert any("not by a key pinned for it" in e for e in report["errors"]), report
    got = receipt_of(
        fed.nodes["KOR"].store, str(ITEMS["A"]["id"]), "JPN", "2016-05-01T00:00:00.000Z"
    )
    assert got is not None and got["verified"] is False


@pytest.mark.parametrize("fed", BACKENDS, indirect=True)
def test_a_key_rotation_mid_stream_loses_nothing(fed: Federation) -> None:
    """Korea rotates its key between two syncs. The next sync announces the new key, signed by
    the old one; Japan verifies and pins it; Korea's next item, signed with the new key, is
    verified there, and the items signed before still verify. A forged announcement (signed by
    a key that is not the one pinned) is refused."""
    from accord.trust import keys

    _pin_everyone(fed)
    fed.at(AFTER)
    (first,) = fed.sync("KOR", "jpn")
    assert first["ok"] and fed.held("JPN") == {"A", "B"}, first["errors"]
    kor = fed.nodes["KOR"]
    old = keys.public_hex(keys.node_key(kor.store))
    keys.rotate(kor.store, "KOR", "test")
    new = keys.public_hex(keys.node_key(kor.store))
    items = next(c for c in list_collections(kor.store, "kor") if c.kind == "items")
    d = indicator(7, B)
    assert all(
        o.ok
        for o in add_objects(kor.store, items, [d], Writer.host("analyst", "KOR"), lambda m: None)
    )
    (second,) = fed.sync("KOR", "jpn")
    assert second["ok"] and second["push_refused"] == 0, second["errors"]
    jpn = fed.nodes["JPN"].store
    pinned = {k.public_key: k for k in keys.keys_of(jpn, "KOR")}
    assert pinned[new].retired_at is None and pinned[old].retired_at is not None
    with jpn.read() as conn:
        held = conn.execute(sa.select(objects.c.stix_id).where(objects.c.stix_id == d["id"])).all()
    assert len(held) == 1  # signed with the new key, verified with it
    # A forged announcement: the USA node claims a rotation of its key signed by another key.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from accord.errors import Unprocessable

    forged = dict(keys.announcements(kor.store)[0])
    forged["x_party"] = "USA"
    forged["x_new_key"] = keys.public_hex(Ed25519PrivateKey.generate())
    with pytest.raises(Unprocessable), jpn.begin() as conn:
        keys.accept_rotation(conn, forged, "USA")
