"""A push stays within what the receiving node accepts (TAXII 2.1 §4.2 `max_content_length`) and
an originator's signature never outgrows an envelope: two live nodes (KOR pushing, JPN receiving
with Korea's key pinned), on both stores.

Before envelopes were sized, a page whose objects and provenance notes exceeded the receiver's
limit was refused whole with HTTP 413 and the sync failed on every attempt (a 100,000-object push
in bench/bench_sync.py: a 20 MB first envelope against a 10 MiB limit); and one note listed every
item of an envelope, so a large publication made a note no envelope could carry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import orjson
import pytest
import sqlalchemy as sa
from taxii_live import LiveNode, start_node

from accord.exchange import markings as mk
from accord.exchange import signatures
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.exchange.queries import Query, page
from accord.federation.peers import add_peer, list_peers
from accord.federation.sync import sync_peer
from accord.policy.marking import Marking
from accord.principals import add_principal
from accord.store.audit_schema import audit_log
from accord.trust import keys
from accord.trust import provenance as pv
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

pytestmark = pytest.mark.slow  # two live nodes

AFTER = date(2017, 6, 1)  # Korea–Japan GSOMIA in force
M = Marking.of("KOR", "II", ["general-military"], groups=["military"])
LIMIT = 40_000  # Japan's max_content_length in these tests: a few dozen objects an envelope
PER_NOTE = 50  # entries a note lists at most in these tests


def indicator(n: int, description: str = "") -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2017-05-01T00:00:00.000Z",
        "modified": "2017-05-01T00:00:00.000Z",
        "name": f"push limit item {n}",
        "pattern": f"[ipv4-addr:value = '198.51.{n // 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2017-05-01T00:00:00Z",
        "object_marking_refs": [mk.marking_id(M)],
    }
    if description:
        obj["description"] = description
    return obj


def listed_in(note: dict[str, object]) -> list[list[str]]:
    """The (id, version, hash) entries a provenance note lists."""
    ext = note["extensions"][pv.PROVENANCE_EXTENSION]  # type: ignore[index]
    return list(ext["entries"])


@dataclass
class Pair:
    kor: LiveNode
    jpn: LiveNode

    def publish(self, objs: list[dict[str, object]]) -> None:
        items = next(c for c in list_collections(self.kor.store, "kor") if c.kind == "items")
        out = add_objects(
            self.kor.store, items, [mk.marking_definition(M), *objs], Writer.host("analyst", "KOR"),
            lambda m: None,
        )  # fmt: skip
        assert all(o.ok for o in out), [o for o in out if not o.ok]

    def push(self) -> dict[str, object]:
        (peer,) = list_peers(self.kor.store)
        return sync_peer(self.kor.node, peer, retries=2).to_json()

    def notes_for(self, ids: set[str]) -> set[str]:
        """The ids of Korea's provenance notes that list any of `ids`."""
        items = next(c for c in list_collections(self.kor.store, "kor") if c.kind == "items")
        q = Query(types=("note",), versions=("all",))
        rows, _ = page(self.kor.store, items.key, None, q, None, 10_000)
        return {r.stix_id for r in rows if ids & {e[0] for e in listed_in(orjson.loads(r.body))}}

    def held_by_japan(self) -> set[str]:
        ids: set[str] = set()
        for c in list_collections(self.jpn.store, "jpn"):
            rows, _ = page(self.jpn.store, c.key, None, Query(versions=("all",)), None, 10_000)
            ids |= {r.stix_id for r in rows}
        return ids


@pytest.fixture
def pair(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Pair]:
    monkeypatch.setattr(signatures, "NOTE_ENTRIES", PER_NOTE)
    backend = getattr(request, "param", "sqlite")
    made: list[str] = []
    nodes: dict[str, LiveNode] = {}
    for party in ("KOR", "JPN"):
        if backend == "sqlite":
            url = sqlite_store(tmp_path_factory.mktemp(party) / "accord.db")
        else:
            url, name = make_pg_database()
            made.append(name)
        nodes[party] = start_node(url, party=party, as_of=AFTER)
    kor, jpn = nodes["KOR"], nodes["JPN"]
    jpn.node.config.max_content_length = LIMIT
    add_principal(jpn.store, "kor-peer", "partner", "KOR", "kor-push-secret")
    add_peer(kor.store, "jpn", "JPN", jpn.url, "kor-peer", "kor-push-secret", pull=False)
    for holder, other in ((kor, jpn), (jpn, kor)):
        with holder.store.begin() as conn:
            party = "JPN" if other is jpn else "KOR"
            keys.pin(conn, party, keys.public_hex(keys.node_key(other.store)), "test")
    try:
        yield Pair(kor, jpn)
    finally:
        for n in nodes.values():
            n.stop()
        for name in made:
            drop_pg_database(name)


@pytest.mark.parametrize("pair", BACKENDS, indirect=True)
def test_a_push_larger_than_the_receivers_limit_goes_in_envelopes_it_accepts(pair: Pair) -> None:
    """120 signed items (about 60 kB with their notes) against a 40 kB limit: everything
    arrives, verified against Korea's signature, in several envelopes none of which Japan
    refused. Fails before envelopes were sized: HTTP 413, nothing pushed."""
    items = [indicator(n) for n in range(120)]
    pair.publish(items)
    report = pair.push()
    assert report["errors"] == [] and report["ok"], report
    assert report["push_refused"] == 0, report
    held = pair.held_by_japan()
    assert {str(o["id"]) for o in items} <= held
    notes = pair.notes_for({str(o["id"]) for o in items})
    assert len(notes) == 3 and notes <= held  # 120 items, at most 50 a note
    # Japan signed a receipt for each item it stored (the demonstration's samples too), and
    # Korea verified them.
    assert int(str(report["receipts"])) >= 120
    with pair.jpn.store.read() as conn:
        envelopes = conn.execute(
            sa.select(audit_log.c.body).where(audit_log.c.kind == "receipt")
        ).all()
        refusals = conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.kind == "refusal")
        ).scalar_one()
    assert len(envelopes) >= 2 and refusals == 0


@pytest.mark.parametrize("pair", BACKENDS, indirect=True)
def test_an_object_larger_than_the_receiver_accepts_is_refused_alone_and_recorded(
    pair: Pair,
) -> None:
    """One item alone exceeds Japan's limit: it is refused at Korea (reported, and recorded in
    Korea's audit trail with its size and the limit); the others arrive. Fails before: the
    whole envelope was refused with HTTP 413 and nothing arrived."""
    big = indicator(500, "x" * (LIMIT + 1000))
    small = [indicator(n) for n in range(10)]
    pair.publish([*small, big])
    report = pair.push()
    assert report["push_refused"] == 1, report
    held = pair.held_by_japan()
    assert {str(o["id"]) for o in small} <= held and big["id"] not in held
    with pair.kor.store.read() as conn:
        bodies = [
            orjson.loads(b)
            for (b,) in conn.execute(
                sa.select(audit_log.c.body).where(audit_log.c.kind == "refusal")
            ).all()
        ]
    said = orjson.dumps(bodies).decode()
    assert str(big["id"]) in said and f"max_content_length {LIMIT}" in said


def test_a_large_publication_is_signed_in_notes_of_bounded_size(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publication of 120 items under one marking is vouched for by three notes of at most 50
    entries, each verifying with the node's key, together listing every item once."""
    monkeypatch.setattr(signatures, "NOTE_ENTRIES", PER_NOTE)
    from accord.store import open_store

    store = open_store(sqlite_store(tmp_path_factory.mktemp("KOR") / "accord.db"))
    from accord.server import prepare
    from accord.settings import load_settings

    prepare(store, load_settings(environ={"ACCORD_PARTY": "KOR"}))
    items = next(c for c in list_collections(store, "kor") if c.kind == "items")
    objs = [indicator(n) for n in range(120)]
    add_objects(
        store, items, [mk.marking_definition(M), *objs], Writer.host("analyst", "KOR"),
        lambda m: None,
    )  # fmt: skip
    rows, _ = page(store, items.key, None, Query(types=("note",), versions=("all",)), None, 100)
    notes = [orjson.loads(r.body) for r in rows]
    own = {"KOR": [keys.PartyKey("KOR", keys.public_hex(keys.node_key(store)), "own", 0)]}
    notes = [n for n in notes if {e[0] for e in listed_in(n)} & {str(o["id"]) for o in objs}]
    listed = [e[0] for n in notes for e in listed_in(n)]
    assert len(notes) == 3
    assert all(pv.verify(n, own) is None for n in notes)
    assert sorted(listed) == sorted(str(o["id"]) for o in objs)
    store.close()


@pytest.mark.parametrize("pair", BACKENDS, indirect=True)
def test_a_push_throttled_by_the_receivers_write_quota_waits_as_asked_and_completes(
    pair: Pair,
) -> None:
    """Japan admits 500 objects per 5-second window from Korea (`write_quota_*`): a push of
    1,100 items (two envelopes) is answered 429 with `Retry-After` for the second, waits as
    asked, and completes with nothing refused. Fails before the client read `Retry-After`: four
    retries over three seconds, then "did not answer (HTTP 429)" with the push half done."""
    from dataclasses import replace

    pair.jpn.node.config.max_content_length = 10 * 1024 * 1024
    limits = pair.jpn.node.config.limits
    pair.jpn.node.config.limits = replace(
        limits, write_quota_interval=5, write_quota_objects=500, write_quota_bytes=0
    )
    items = [indicator(n) for n in range(1100)]
    pair.publish(items)
    report = pair.push()
    assert report["errors"] == [] and report["ok"], report
    assert report["push_refused"] == 0
    assert {str(o["id"]) for o in items} <= pair.held_by_japan()
