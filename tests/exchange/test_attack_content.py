"""Real public content end to end: 329 MITRE ATT&CK objects as MITRE publishes them in STIX 2.0
(tests/data/attack/README.md: source, commit, terms of use) published with
`accord publish --stix20`, then read by a partner over TAXII 2.1 with taxii2-client.

Each object comes back exactly as `accord.exchange.stix20.upgrade` made it, with one addition: the
release marking the publish gave it, appended to `object_marking_refs`. MITRE's statement marking
stays on every object, and MITRE's statement marking-definition itself travels with the content
(STIX 2.1 §7.2.1.3), stored under the same release marking (`accord.exchange.foreign`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from taxii2client.v21 import Collection, as_pages
from taxii_live import TAXII, LiveNode, basic, start_node

from accord.exchange.stix20 import upgrade
from accord.principals import add_principal
from backends import sqlite_store

pytestmark = pytest.mark.slow  # a live node, a publish of 330 objects, four pages read

ATTACK = (
    Path(__file__).resolve().parent.parent / "data" / "attack" / "enterprise-attack-subset.json"
)
MITRE_STATEMENT = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
MITRE = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
PARTNER, SECRET = "jpn-attack-reader", "jpn-attack-secret-1"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveNode, str]]:
    """A KOR node of the demonstration scenario as of 2017-06-01 (the Korea–Japan GSOMIA in
    force), with a credential of Japan's node; and its store's URL."""
    url = sqlite_store(tmp_path_factory.mktemp("attack") / "accord.db")
    live = start_node(url, as_of=date(2017, 6, 1))
    add_principal(live.store, PARTNER, "partner", "JPN", SECRET)
    try:
        yield live, url
    finally:
        live.stop()


@pytest.fixture(scope="module")
def published(node: tuple[LiveNode, str]) -> dict[str, Any]:
    """Runs `accord publish FILE --stix20 --level U --topic general-military --json` as the
    node's operator does, on the node's store; returns its JSON."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("accord")), "publish", str(ATTACK), "--stix20",
         "--level", "U", "--topic", "general-military", "--at", "2017-06-01", "--json"],
        env={**os.environ, "ACCORD_DATABASE_URL": node[1]},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


@pytest.fixture(scope="module")
def read(node: tuple[LiveNode, str], published: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Everything Japan's node reads of the items collection, page by page, with taxii2-client
    (the collection addressed by id, as the client requires), by id."""
    live = node[0]
    r = live.request(
        "GET", live.coll(), headers={"Accept": TAXII, "Authorization": basic(PARTNER, SECRET)}
    )
    assert r.status_code == 200, r.text
    url = f"{live.url}/kor/collections/{r.json()['id']}/"
    coll = Collection(url, user=PARTNER, password=SECRET)
    assert coll.can_read is True and coll.can_write is False
    objects = [o for page in as_pages(coll.get_objects, per_request=100) for o in page["objects"]]
    by_id = {o["id"]: o for o in objects}
    assert len(by_id) == len(objects)  # one version of each
    return by_id


def mitre_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = json.loads(ATTACK.read_bytes())["objects"]
    return objects


def test_publish_upgrades_every_object_and_stores_them_all(published: dict[str, Any]) -> None:
    assert published["upgraded"]["count"] == 329
    assert len(published["upgraded"]["changes"]) == 329 + 2 * 7 + 13  # malware 2 more, tools 1
    # 329 objects and the release marking-definition the publish added.
    assert published["published"] == {"success_count": 330, "failure_count": 0, "failures": []}
    (group,) = published["preview"]
    assert len(group["objects"]) == 329
    jpn = next(r for r in group["recipients"] if r["party"] == "JPN")
    assert jpn["allowed"] is True and jpn["recipient_level"] == "U"


def test_partner_reads_each_object_as_upgraded_plus_the_release_marking(
    published: dict[str, Any], read: dict[str, dict[str, Any]]
) -> None:
    (group,) = published["preview"]
    release = group["marking_id"]
    assert release in read  # the release marking-definition travels too
    upgraded = {o["id"]: o for o in upgrade(mitre_objects()).objects}
    objects = {i: o for i, o in upgraded.items() if o["type"] != "marking-definition"}
    assert len(objects) == 328
    missing = sorted(set(objects) - set(read))
    assert not missing, missing[:5]
    for oid, want in objects.items():
        got = read[oid]
        assert got == {**want, "object_marking_refs": [MITRE_STATEMENT, release]}, oid
        assert got.get("created_by_ref", MITRE) == MITRE
        assert {k: v for k, v in got.items() if k.startswith("x_mitre_")} == {
            k: v for k, v in want.items() if k.startswith("x_mitre_")
        }


def test_partner_reads_mitres_statement_marking_definition_under_the_release_marking(
    published: dict[str, Any], read: dict[str, dict[str, Any]]
) -> None:
    release = published["preview"][0]["marking_id"]
    (statement,) = [o for o in mitre_objects() if o["type"] == "marking-definition"]
    assert statement["definition_type"] == "statement"
    assert MITRE_STATEMENT in read
    assert read[MITRE_STATEMENT] == {
        **statement,
        "spec_version": "2.1",
        "object_marking_refs": [release],
    }
    assert read[MITRE_STATEMENT]["definition"]["statement"].startswith(
        "Copyright 2015-2025, The MITRE Corporation."
    )
