"""The real clients against a live node (taxii-stix.md §3): taxii2-client 2.3 (discovery, API
root, collections, add_objects with status polling, get_objects, `as_pages` crossing pages) and
stix2's TAXIICollectionSource / Sink / Store round-tripping objects.

Client quirks this suite works with (taxii-stix.md §3.1–§3.2):
- taxii2-client refuses locally (AccessError, DataSourceError in stix2) when the collection says
  can_read / can_write is false, so the server's 403s are tested with raw HTTP elsewhere;
- its Collection must be addressed by id (`_validate_collection` wants the id in the URL), not alias;
- `as_pages` pages by `next` only, and shrinks `per_request` with a warning when a page is short;
- stix2's Sink posts a bundle (`type`/`id` keys around `objects`), one POST per `add()` call.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import stix2
from requests.exceptions import HTTPError
from stix2.datastore import DataSourceError
from stix2.datastore.filters import Filter
from stix2.datastore.taxii import TAXIICollectionSink, TAXIICollectionSource, TAXIICollectionStore
from taxii2client.common import TokenAuth
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from taxii_live import ANALYST_MD, SECRETS, LiveNode, assert_taxii_error, indicator, new_id

MISSING = "indicator--00000000-0000-4000-8000-000000000000"


def connect(live: LiveNode, who: str, alias: str = "items") -> Collection:
    """Returns a taxii2-client Collection for `who`, addressed by id as the client requires."""
    cid = live.json(live.coll(alias), who)["id"]
    return Collection(f"{live.url}/kor/collections/{cid}/", user=who, password=SECRETS[who])


@pytest.fixture(scope="module")
def items(live: LiveNode) -> Collection:
    return connect(live, "analyst")


def _ids(envelope: dict[str, Any]) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]


def _level_one_sample(live: LiveNode) -> str:
    """The id of the Level I sample: usa-node receives it, the analyst (cleared II) does not."""
    usa = {o["id"] for o in live.json(live.coll() + "objects/", "usa-node")["objects"]}
    analyst = {o["id"] for o in live.json(live.coll() + "objects/", "analyst")["objects"]}
    hidden = sorted(i for i in usa - analyst if i.startswith("indicator--"))
    assert len(hidden) == 1, hidden
    return hidden[0]


# ---- taxii2-client ------------------------------------------------------------------------------


def test_taxii2client_discovers_the_api_root_and_its_collections(live: LiveNode) -> None:
    server = Server(f"{live.url}/taxii2/", user="analyst", password=SECRETS["analyst"])
    assert server.title
    assert [r.url for r in server.api_roots] == [f"{live.url}/kor/"]
    assert server.default is not None and server.default.url == f"{live.url}/kor/"
    root = server.api_roots[0]
    assert root.title and "application/taxii+json;version=2.1" in root.versions
    assert root.max_content_length == live.node.config.max_content_length
    got = {c.alias: (c.can_read, c.can_write) for c in root.collections}
    assert got == {"items": (True, True), "inbox": (True, False)}
    server.close()


def test_taxii2client_sees_per_principal_permissions(live: LiveNode) -> None:
    root = ApiRoot(f"{live.url}/kor/", user="jpn-node", password=SECRETS["jpn-node"])
    assert {c.alias: (c.can_read, c.can_write) for c in root.collections} == {
        "items": (True, False),
        "inbox": (True, True),
    }
    foreign = ApiRoot(f"{live.url}/kor/", user="gbr-user", password=SECRETS["gbr-user"])
    assert foreign.collections == []


def test_taxii2client_add_objects_then_polls_the_status(live: LiveNode, items: Collection) -> None:
    good = indicator()
    unmarked = indicator(marking=None)
    status = items.add_objects({"objects": [ANALYST_MD, good, unmarked]}, poll_interval=0.05)
    # The client validated the counts against the lists (Status._validate_status).
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (3, 2, 1)
    assert [f["id"] for f in status.failures] == [unmarked["id"]]
    assert status.url.endswith(f"/kor/status/{status.id}/")
    status.refresh()  # GET …/status/{id}/
    status.wait_until_final(poll_interval=0.05, timeout=5)
    assert status.status == "complete" and status.success_count == 2
    root = ApiRoot(f"{live.url}/kor/", user="analyst", password=SECRETS["analyst"])
    polled = root.get_status(status.id)
    assert (polled.id, polled.success_count, polled.failure_count) == (status.id, 2, 1)
    assert _ids(items.get_object(good["id"])) == [good["id"]]


def test_taxii2client_status_of_another_principal_is_404(live: LiveNode, items: Collection) -> None:
    status = items.add_objects({"objects": [indicator()]})
    clerk = ApiRoot(f"{live.url}/kor/", user="clerk", password=SECRETS["clerk"])
    with pytest.raises(HTTPError) as err:
        clerk.get_status(status.id)
    assert_taxii_error(err.value.response, 404)


def test_taxii2client_reads_objects_versions_and_manifest(
    live: LiveNode, items: Collection
) -> None:
    a, b = new_id(), new_id()
    v1, v2 = "2017-01-01T00:00:00.000Z", "2017-02-01T00:00:00.000Z"
    items.add_objects({"objects": [indicator(a, v1), indicator(a, v2), indicator(b)]})
    assert _ids(items.get_objects(id=[a, b])) == [a, b]
    assert [o["modified"] for o in items.get_objects(id=a, version="all")["objects"]] == [v1, v2]
    assert _ids(items.get_objects(id=[a, b], type="malware")) == []
    assert [o["modified"] for o in items.get_object(a)["objects"]] == [v2]
    assert items.object_versions(a)["versions"] == [v1, v2]
    manifest = items.get_manifest(id=f"{a},{b}")["objects"]
    assert [(r["id"], r["version"]) for r in manifest] == [(a, v2), (b, "2017-01-01T00:00:00.000Z")]


def test_taxii2client_as_pages_crosses_pages(
    live: LiveNode, items: Collection, caplog: pytest.LogCaptureFixture
) -> None:
    mine = [new_id() for _ in range(5)]
    items.add_objects({"objects": [indicator(i) for i in mine]})
    with caplog.at_level(logging.WARNING, logger="taxii2client"):
        pages = list(as_pages(items.get_objects, per_request=2, id=mine))
        manifest = list(as_pages(items.get_manifest, per_request=2, id=",".join(mine)))
    assert [len(p["objects"]) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in _ids(p)] == mine
    assert [i for p in manifest for i in _ids(p)] == mine
    assert [p["more"] for p in pages] == [True, True, False]
    # Full pages: the client never had to shrink per_request (it warns when it does).
    assert not [r for r in caplog.records if "different amount" in r.getMessage()]


def test_taxii2client_as_pages_walks_the_whole_collection(
    live: LiveNode, items: Collection
) -> None:
    full = _ids(items.get_objects())
    walked = [i for p in as_pages(items.get_objects, per_request=3) for i in _ids(p)]
    assert walked == full and len(set(walked)) == len(walked)


def test_taxii2client_deletes_an_object(live: LiveNode, items: Collection) -> None:
    obj = indicator()
    items.add_objects({"objects": [obj]})
    items.delete_object(obj["id"])
    with pytest.raises(HTTPError) as err:
        items.get_object(obj["id"])
    assert_taxii_error(err.value.response, 404)


def test_taxii2client_refuses_locally_to_write_where_the_server_says_no(live: LiveNode) -> None:
    partner = connect(live, "jpn-node")
    assert partner.can_read is True and partner.can_write is False
    with pytest.raises(AccessError):
        partner.add_objects({"objects": [indicator()]})


def test_taxii2client_partner_reads_only_what_it_may_receive(live: LiveNode) -> None:
    partner = connect(live, "jpn-node")
    got = [i for p in as_pages(partner.get_objects, per_request=2) for i in _ids(p)]
    raw = [o["id"] for o in live.json(live.coll() + "objects/", "jpn-node")["objects"]]
    assert got == raw
    assert _level_one_sample(live) not in got


def test_taxii2client_token_auth(live: LiveNode) -> None:
    cid = live.json(live.coll())["id"]
    col = Collection(
        f"{live.url}/kor/collections/{cid}/", auth=TokenAuth(f"analyst:{SECRETS['analyst']}")
    )
    assert col.can_write is True
    assert _ids(col.get_objects()) == _ids(live.json(live.coll() + "objects/"))


def test_taxii2client_wrong_password_is_401(live: LiveNode) -> None:
    cid = live.json(live.coll())["id"]
    col = Collection(f"{live.url}/kor/collections/{cid}/", user="analyst", password="wrong-one")
    with pytest.raises(HTTPError) as err:
        col.refresh()
    assert_taxii_error(err.value.response, 401)


# ---- stix2 TAXIICollectionSource / Sink / Store -------------------------------------------------


def _analyst_indicator(**kw: Any) -> stix2.Indicator:
    return stix2.Indicator(
        name="stix2 round trip",
        pattern="[ipv4-addr:value = '198.51.100.99']",
        pattern_type="stix",
        object_marking_refs=[ANALYST_MD["id"]],
        **kw,
    )


def test_stix2_store_round_trips_a_bundle_with_its_marking(
    live: LiveNode, items: Collection
) -> None:
    store = TAXIICollectionStore(items, items_per_page=2)
    ind = _analyst_indicator()
    store.add(stix2.Bundle(stix2.parse(ANALYST_MD), ind))  # one POST: bundle-shaped envelope
    got = store.get(ind.id)
    assert got is not None
    assert got.serialize(sort_keys=True) == ind.serialize(sort_keys=True)
    md = store.get(ANALYST_MD["id"])
    assert md is not None and md.id == ANALYST_MD["id"]


def test_stix2_store_keeps_every_version(live: LiveNode, items: Collection) -> None:
    store = TAXIICollectionStore(items)
    v1 = _analyst_indicator()
    v2 = v1.new_version(name="stix2 round trip, revised")
    store.add(v1)
    store.add(v2)
    assert store.get(v1.id).name == "stix2 round trip, revised"
    versions = store.all_versions(v1.id)
    assert sorted(o.modified for o in versions) == sorted([v1.modified, v2.modified])


def test_stix2_source_query_pages_with_a_small_items_per_page(
    live: LiveNode, items: Collection
) -> None:
    source = TAXIICollectionSource(items, items_per_page=2)
    mine = [_analyst_indicator() for _ in range(5)]
    TAXIICollectionSink(items).add(stix2.Bundle(*mine))
    got = source.query([Filter("type", "=", "indicator")])
    raw = live.json(live.coll() + "objects/", params={"match[type]": "indicator"})["objects"]
    assert sorted(o.id for o in got) == sorted(o["id"] for o in raw)
    assert {o.id for o in mine} <= {o.id for o in got}
    # The local half of a query: a filter the server is not sent.
    named = source.query(
        [Filter("type", "=", "indicator"), Filter("name", "=", "stix2 round trip")]
    )
    assert {o.id for o in mine} <= {o.id for o in named}


def test_stix2_source_get_of_a_missing_or_hidden_object_is_none(
    live: LiveNode, items: Collection
) -> None:
    source = TAXIICollectionSource(items)
    assert source.get(MISSING) is None
    hidden = _level_one_sample(live)
    assert source.get(hidden) is None
    assert source.all_versions(hidden) == []
    usa = TAXIICollectionSource(connect(live, "usa-node"))
    assert usa.get(hidden) is not None and usa.get(hidden).id == hidden


def test_stix2_sink_refuses_a_collection_the_partner_cannot_write(live: LiveNode) -> None:
    with pytest.raises(DataSourceError):
        TAXIICollectionSink(connect(live, "jpn-node"))


def test_stix2_partner_source_reads_only_what_it_may_receive(live: LiveNode) -> None:
    source = TAXIICollectionSource(connect(live, "jpn-node"), items_per_page=2)
    got = sorted(o.id for o in source.query())
    raw = sorted(o["id"] for o in live.json(live.coll() + "objects/", "jpn-node")["objects"])
    assert got == raw
    assert _level_one_sample(live) not in got


def test_stix2_sink_post_of_an_unmarked_object_stores_nothing(
    live: LiveNode, items: Collection
) -> None:
    """The sink drops the status add_objects returns, so a refused object (here: no release
    marking) is simply absent afterwards."""
    ind = stix2.Indicator(
        name="unmarked",
        pattern="[ipv4-addr:value = '198.51.100.98']",
        pattern_type="stix",
    )
    TAXIICollectionSink(items).add(ind)
    assert TAXIICollectionSource(items).get(ind.id) is None
