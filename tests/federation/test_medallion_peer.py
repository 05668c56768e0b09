"""The medallion peer (medallion_peer.py) works: the OASIS reference TAXII 2.1 server runs in a
subprocess with the data the federation suites expect, answers taxii2-client and plain HTTP,
takes a write, refuses a wrong password and is gone after `stop()`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stix2
from medallion_peer import (
    FEED_INDICATORS,
    TAXII,
    TLP_GREEN,
    TLP_GREEN_DEFINITION,
    Medallion,
    start_medallion,
)
from taxii2client.v21 import Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medallion]:
    # Pages of 2: reading the feed's 4 objects back takes two pages (medallion's `next`).
    m = start_medallion(tmp_path_factory.mktemp("medallion"), max_page_size=2)
    yield m
    m.stop()


@pytest.fixture
def http(peer: Medallion) -> Iterator[httpx.Client]:
    with httpx.Client(
        auth=(peer.user, peer.secret), headers={"Accept": TAXII}, timeout=10
    ) as client:
        yield client


def indicator(oid: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "name": "posted by the medallion peer suite",
        "pattern": "[ipv4-addr:value = '203.0.113.9']",
        "pattern_type": "stix",
        "valid_from": "2024-03-01T00:00:00Z",
        "object_marking_refs": [TLP_GREEN],
    }


def post(http: httpx.Client, url: str, envelope: dict[str, Any]) -> httpx.Response:
    # medallion takes exactly this Content-Type: no parameter beyond version, none missing.
    return http.post(
        url + "objects/", content=json.dumps(envelope), headers={"Content-Type": TAXII}
    )


def test_discovery_lists_both_roots_with_api1_default(peer: Medallion, http: httpx.Client) -> None:
    r = http.get(peer.discovery)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == TAXII
    body = r.json()
    assert body["default"] == f"{peer.base}/api1/"
    assert body["api_roots"] == [f"{peer.base}/api1/", f"{peer.base}/api2/"]
    assert (peer.api_root, peer.other_root) == ("api1", "api2")

    server = Server(peer.discovery, user=peer.user, password=peer.secret)
    try:
        assert server.default is not None and server.default.url == f"{peer.base}/api1/"
        roots = {root.url.rstrip("/").rsplit("/", 1)[-1]: root for root in server.api_roots}
        assert set(roots) == {"api1", "api2"}
        seen = {
            (name, c.id): (c.title, c.can_read, c.can_write)
            for name, root in roots.items()
            for c in root.collections
        }
    finally:
        server.close()
    assert seen == {
        ("api1", peer.feed): ("Indicator feed", True, False),
        ("api1", peer.drop): ("Drop box", False, True),
        ("api2", peer.both): ("Shared", True, True),
    }


def test_taxii2_client_reads_the_three_tlp_green_indicators_of_the_feed(peer: Medallion) -> None:
    objects = peer.objects(peer.feed)
    indicators = [o for o in objects if o["type"] == "indicator"]
    assert [o["id"] for o in indicators] == list(FEED_INDICATORS)
    for o in indicators:
        assert o["spec_version"] == "2.1"
        assert o["object_marking_refs"] == [TLP_GREEN]
        stix2.parse(o)  # valid STIX 2.1
    markings = [o for o in objects if o["type"] == "marking-definition"]
    assert markings == [TLP_GREEN_DEFINITION]
    assert len(objects) == 4  # over two pages of 2


def test_an_indicator_posted_to_the_drop_box_is_accepted(
    peer: Medallion, http: httpx.Client
) -> None:
    drop = f"{peer.base}/api1/collections/{peer.drop}/"
    oid = "indicator--0b7c3f8e-6a5d-4e4f-9c1b-2d3e4f5a6b01"
    r = post(http, drop, {"objects": [indicator(oid)]})
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == TAXII
    status = r.json()
    assert status["status"] == "complete"
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (1, 1, 0)
    assert status["successes"] == [{"id": oid, "version": "2024-03-01T00:00:00.000Z"}]
    # The status resource is kept under the API root the objects were posted to.
    again = http.get(f"{peer.base}/api1/status/{status['id']}/")
    assert again.status_code == 200 and again.json() == status
    # Write-only: nobody reads it back.
    assert http.get(drop + "objects/").status_code == 403


def test_the_shared_collection_of_api2_reads_back_what_is_posted(
    peer: Medallion, http: httpx.Client
) -> None:
    both = f"{peer.base}/api2/collections/{peer.both}/"
    assert peer.objects(peer.both, peer.other_root) == []
    oid = "indicator--0b7c3f8e-6a5d-4e4f-9c1b-2d3e4f5a6b02"
    r = post(http, both, {"objects": [indicator(oid)]})
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
    assert [o["id"] for o in peer.objects(peer.both, peer.other_root)] == [oid]


def test_a_wrong_password_gets_401(peer: Medallion) -> None:
    r = httpx.get(peer.discovery, auth=(peer.user, peer.secret + "x"), headers={"Accept": TAXII})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic ")


def test_medallion_quirks_a_taxii_client_must_handle(peer: Medallion, http: httpx.Client) -> None:
    """What medallion 3.0.0 does that accord's sync must cope with (pinned, as the peer is)."""
    feed = f"{peer.base}/api1/collections/{peer.feed}/objects/"
    # Accept must be the TAXII 2.1 media type itself: no wildcard, no q, no bare taxii+json.
    for accept in ("*/*", f"{TAXII};q=1", "application/taxii+json"):
        assert http.get(feed, headers={"Accept": accept}).status_code == 406, accept
    # Content-Type too: a charset parameter is refused.
    both = f"{peer.base}/api2/collections/{peer.both}/objects/"
    r = http.post(
        both, content=b'{"objects": []}', headers={"Content-Type": f"{TAXII}; charset=utf-8"}
    )
    assert r.status_code == 415
    # A read that matches nothing answers an empty envelope: no `objects`, no `more`.
    assert http.get(feed, params={"match[type]": "malware"}).json() == {}
    # `next` is a server-side cursor that each request consumes: the same token again gives the
    # following page (a retried request skips a page), it must come with `limit` (500 without)
    # and is gone after the last page (400).
    first = http.get(feed, params={"limit": 1}).json()
    token = first["next"]
    assert first["more"] is True
    pages = [first["objects"]]
    while True:
        page = http.get(feed, params={"limit": 1, "next": token}).json()
        pages.append(page["objects"])
        if not page["more"]:
            break
        assert page["next"] == token
    assert [o["id"] for p in pages for o in p][1:] == list(FEED_INDICATORS)
    assert http.get(feed, params={"limit": 1, "next": token}).status_code == 400
    token = http.get(feed, params={"limit": 1}).json()["next"]
    assert http.get(feed, params={"next": token}).status_code == 500
    # A timestamp with an offset instead of Z is a 500 too.
    assert http.get(feed, params={"added_after": "2024-02-01T00:00:00+00:00"}).status_code == 500


def test_after_stop_the_port_refuses_connections(tmp_path: Path) -> None:
    m = start_medallion(tmp_path)
    port = int(m.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    m.stop()
    assert m.process.returncode is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    m.stop()  # idempotent
