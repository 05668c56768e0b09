"""TAXII 2.1 conformance against a live node on loopback (OASIS TAXII 2.1 §1.6.8, §3, §4, §5;
taxii-stix.md §1): every endpoint, the status codes the spec lists for it, the media-type matrix,
every filter and their combinations, pagination by `next` and by `added_after`, the X-TAXII headers,
DELETE (§5.7) and status resources. The last section shows medallion's bugs (taxii-stix.md §2.2)
absent.

The module's node (one per backend) holds the six sample items plus what the `posted` fixture and
the tests add; each test reads only what it can pin down (its own ids, or relations between
responses), so the tests do not depend on one another's order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route
from taxii_live import (
    ANALYST_MD,
    TAXII,
    LiveNode,
    assert_taxii_error,
    indicator,
    new_id,
    walk,
)

from accord.app import create_app
from accord.exchange.markings import marking_definition
from accord.policy.marking import Marking

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
V1, V2, V3 = "2017-01-01T00:00:00.000Z", "2017-02-01T00:00:00.000Z", "2017-03-01T00:00:00.000Z"
MISSING = "indicator--00000000-0000-4000-8000-000000000000"


def malware(oid: str | None = None) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": oid or new_id("malware"),
        "created": V1,
        "modified": V1,
        "name": "test malware",
        "is_family": False,
        "object_marking_refs": [ANALYST_MD["id"]],
    }


@pytest.fixture(scope="module")
def posted(live: LiveNode) -> dict[str, Any]:
    """What the analyst posts once per node: indicator A in three versions, indicators B, C, D and
    malware M (in that order), with the status of that request."""
    a, b, c, d, m = new_id(), new_id(), new_id(), new_id(), new_id("malware")
    objects = [
        ANALYST_MD,
        indicator(a, V1),
        indicator(a, V2),
        indicator(a, V3),
        indicator(b),
        indicator(c),
        indicator(d),
        malware(m),
    ]
    r = live.post(live.coll() + "objects/", {"objects": objects})
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["success_count"] == len(objects), status
    manifest = live.json(
        live.coll() + "manifest/",
        params={"match[id]": f"{a},{b},{c},{d},{m}", "match[version]": "all"},
    )["objects"]
    added = {(rec["id"], rec["version"]): rec["date_added"] for rec in manifest}
    return {"A": a, "B": b, "C": c, "D": d, "M": m, "status": status, "added": added}


def objects_of(response: httpx.Response) -> list[tuple[str, str]]:
    """Returns the (id, version) of each object of an envelope, in order."""
    return [
        (o["id"], o.get("modified") or o["created"]) for o in response.json().get("objects", [])
    ]


def ids(*objs: str) -> str:
    return ",".join(objs)


# ---- every GET endpoint ------------------------------------------------------------------------

GET_ENDPOINTS = (
    "discovery",
    "api_root",
    "status",
    "collections",
    "collection",
    "objects",
    "manifest",
    "object",
    "versions",
)
OBJECT_ENDPOINTS = ("objects", "manifest", "object", "versions")


def path_of(live: LiveNode, posted: dict[str, Any], endpoint: str) -> str:
    c = live.coll()
    return {
        "discovery": "/taxii2/",
        "api_root": "/kor/",
        "status": f"/kor/status/{posted['status']['id']}/",
        "collections": "/kor/collections/",
        "collection": c,
        "objects": c + "objects/",
        "manifest": c + "manifest/",
        "object": c + f"objects/{posted['A']}/",
        "versions": c + f"objects/{posted['A']}/versions/",
    }[endpoint]


def test_discovery_200_names_its_api_root(live: LiveNode) -> None:
    r = live.get("/taxii2/")
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    body = r.json()
    assert body["title"] and body["default"] in body["api_roots"]
    assert all(root.startswith("/") and root.endswith("/") for root in body["api_roots"])


def test_api_root_200_lists_taxii_2_1_and_max_content_length(live: LiveNode) -> None:
    body = live.json("/kor/")
    assert body["title"]
    assert "application/taxii+json;version=2.1" in body["versions"]
    assert isinstance(body["max_content_length"], int) and body["max_content_length"] > 0


@pytest.mark.parametrize(
    "path",
    ["/xyz/", "/xyz/status/abc/", "/xyz/collections/", "/xyz/collections/items/objects/"],
)
def test_unknown_api_root_404(live: LiveNode, path: str) -> None:
    assert_taxii_error(live.get(path), 404)


def test_unknown_path_404_with_taxii_error(live: LiveNode) -> None:
    assert_taxii_error(live.get("/kor/collections/items/nothing-here/"), 404)


def test_collections_200_with_per_principal_permissions(live: LiveNode) -> None:
    def perms(who: str) -> dict[str, tuple[bool, bool]]:
        body = live.json("/kor/collections/", who)
        return {c["alias"]: (c["can_read"], c["can_write"]) for c in body["collections"]}

    assert perms("analyst") == {"items": (True, True), "inbox": (True, False)}
    assert perms("jpn-node") == {"items": (True, False), "inbox": (True, True)}
    # A principal with no access to any collection gets the empty resource (§5.1.1).
    assert live.json("/kor/collections/", "gbr-user") == {}


def test_collections_200_in_a_consistent_order(live: LiveNode) -> None:
    first = live.json("/kor/collections/")["collections"]
    assert live.json("/kor/collections/")["collections"] == first
    for c in first:
        assert set(c) >= {"id", "title", "can_read", "can_write"}
        assert c["media_types"] == ["application/stix+json;version=2.1"]


def test_collection_200_by_id_and_by_alias(live: LiveNode) -> None:
    by_alias = live.json(live.coll())
    assert live.json(f"/kor/collections/{by_alias['id']}/") == by_alias
    assert by_alias["alias"] == "items" and by_alias["can_read"] is True


def test_collection_404_unknown(live: LiveNode) -> None:
    assert_taxii_error(live.get("/kor/collections/no-such-collection/"), 404)


@pytest.mark.parametrize("endpoint", ["collection", *OBJECT_ENDPOINTS])
def test_collection_endpoints_404_without_access(
    live: LiveNode, posted: dict[str, Any], endpoint: str
) -> None:
    """gbr-user may neither read nor write: the collection does not exist for it (§5.7 row 1)."""
    assert_taxii_error(live.get(path_of(live, posted, endpoint), "gbr-user"), 404)


def test_add_objects_404_without_access(live: LiveNode) -> None:
    r = live.post(live.coll() + "objects/", {"objects": [indicator()]}, "gbr-user")
    assert_taxii_error(r, 404)


def test_method_not_allowed_405_with_taxii_error(live: LiveNode) -> None:
    r = live.request("PUT", live.coll() + "objects/")
    assert_taxii_error(r, 405)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


def _routes(app: Any, prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Yields (path, allowed methods) for every route of `app`, mounts (and the middleware
    wrapping a mounted app) walked."""
    while not hasattr(app, "routes") and hasattr(app, "app"):
        app = app.app
    for route in getattr(app, "routes", []):
        if isinstance(route, Mount):
            yield from _routes(route.app, prefix + route.path)
        elif isinstance(route, Route) and route.methods:
            yield prefix + route.path, set(route.methods)


def test_every_endpoint_names_its_methods_in_a_405(live: LiveNode) -> None:
    """RFC 9110 §15.5.6: a 405 MUST carry `Allow`. Every route of the node — TAXII, the
    management API, the web pages, the probes — asked with a method it does not take answers
    405 naming exactly the methods it does take, from all the routes serving it."""
    served: dict[str, set[str]] = {}
    for template, methods in _routes(create_app(live.node)):
        served.setdefault(template, set()).update(methods)  # a resource served by two routes
    checked: set[str] = set()
    for template, methods in served.items():
        path = re.sub(r"\{api_root\}", live.api_root, template)
        path = re.sub(r"\{[^}]+\}", "x", path)
        wrong = next(m for m in ("PATCH", "PUT", "DELETE") if m not in methods)
        r = live.http.request(wrong, path)
        assert r.status_code == 405, (wrong, path, r.status_code)
        assert set(r.headers.get("Allow", "").split(", ")) == methods, (path, r.headers)
        checked.add(path.split("/")[1])
    assert {"kor", "taxii2", "api", "ui", "healthz"} <= checked, checked


# ---- media types (§1.6.8, §3.1, Appendix B) ----------------------------------------------------

SERVED_ACCEPT = (
    "application/taxii+json;version=2.1",
    "application/taxii+json",
    "application/taxii+json; version=2.1",
    "Application/TAXII+JSON;Version=2.1",
    "application/vnd.oasis.taxii+json",
    "application/vnd.oasis.taxii+json;version=2.1",
    "*/*",
    "application/*",
    "text/html, application/taxii+json;version=2.1;q=0.5",
    "application/taxii+json;version=2.0, application/taxii+json;version=2.1",
)


@pytest.mark.parametrize("accept", SERVED_ACCEPT)
@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_get_200_for_served_accept(
    live: LiveNode, posted: dict[str, Any], endpoint: str, accept: str
) -> None:
    r = live.get(path_of(live, posted, endpoint), headers=live.headers("analyst", Accept=accept))
    assert r.status_code == 200, r.text
    # Whatever was asked, the answer says what it is: TAXII 2.1.
    assert r.headers["content-type"] == TAXII


@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_get_406_for_taxii_2_0(live: LiveNode, posted: dict[str, Any], endpoint: str) -> None:
    h = live.headers("analyst", Accept="application/taxii+json;version=2.0")
    assert_taxii_error(live.get(path_of(live, posted, endpoint), headers=h), 406)


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "text/html",
        "application/taxii+json;version=2.1;q=0",
        "application/taxii+json;version=2.1;q=0.000",
        "application/vnd.oasis.taxii+json;version=2.0",
    ],
)
@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_get_406_for_unserved_accept(
    live: LiveNode, posted: dict[str, Any], endpoint: str, accept: str
) -> None:
    h = live.headers("analyst", Accept=accept)
    assert_taxii_error(live.get(path_of(live, posted, endpoint), headers=h), 406)


@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_get_406_without_accept(live: LiveNode, posted: dict[str, Any], endpoint: str) -> None:
    h = live.headers("analyst")
    del h["Accept"]
    assert_taxii_error(live.get(path_of(live, posted, endpoint), headers=h), 406)


@pytest.mark.parametrize("endpoint", ["objects", "object", "versions", "collections"])
def test_get_406_for_stix_media_type_outside_manifest(
    live: LiveNode, posted: dict[str, Any], endpoint: str
) -> None:
    """`application/stix+json` is no TAXII 2.1 response type (§1.7.1)..."""
    h = live.headers("analyst", Accept="application/stix+json;version=2.1")
    assert_taxii_error(live.get(path_of(live, posted, endpoint), headers=h), 406)


@pytest.mark.parametrize(
    "accept",
    [
        "application/taxii+json;version=2.1,application/stix+json;version=2.1",
        "application/stix+json;version=2.1",
    ],
)
def test_manifest_200_for_the_accept_of_the_spec_example(live: LiveNode, accept: str) -> None:
    """... except on the manifest, whose required Accept in §5.3 names it."""
    r = live.get(live.coll() + "manifest/", headers=live.headers("analyst", Accept=accept))
    assert r.status_code == 200 and r.headers["content-type"] == TAXII


@pytest.mark.parametrize(
    "content_type",
    [
        "application/taxii+json;version=2.1",
        "application/taxii+json;version=2.1; charset=utf-8",
        "application/taxii+json; charset=UTF-8; version=2.1",
        "application/taxii+json",
        "application/vnd.oasis.taxii+json;version=2.1",
    ],
)
def test_add_objects_202_for_taxii_content_type(live: LiveNode, content_type: str) -> None:
    obj = indicator()
    r = live.post(live.coll() + "objects/", {"objects": [obj]}, content_type=content_type)
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == TAXII
    assert r.json()["success_count"] == 1
    assert live.get(live.coll() + f"objects/{obj['id']}/").status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.1; charset=latin-1",
        "text/plain",
        "application/taxii+json;version=2.1, application/json",
    ],
)
def test_add_objects_415_for_wrong_content_type(live: LiveNode, content_type: str) -> None:
    obj = indicator()
    r = live.post(live.coll() + "objects/", {"objects": [obj]}, content_type=content_type)
    assert_taxii_error(r, 415)
    assert_taxii_error(live.get(live.coll() + f"objects/{obj['id']}/"), 404)


def test_add_objects_415_without_content_type(live: LiveNode) -> None:
    h = live.headers("analyst")
    r = live.request("POST", live.coll() + "objects/", headers=h, content=b'{"objects":[]}')
    assert_taxii_error(r, 415)


def test_add_objects_406_for_taxii_2_0(live: LiveNode) -> None:
    h = live.headers(
        "analyst", Accept="application/taxii+json;version=2.0", **{"Content-Type": TAXII}
    )
    assert_taxii_error(live.post(live.coll() + "objects/", {"objects": []}, headers=h), 406)


def test_delete_406_for_taxii_2_0(live: LiveNode) -> None:
    obj = indicator()
    live.post(live.coll() + "objects/", {"objects": [obj]})
    h = live.headers("analyst", Accept="application/taxii+json;version=2.0")
    path = live.coll() + f"objects/{obj['id']}/"
    assert_taxii_error(live.delete(path, headers=h), 406)
    assert live.get(path).status_code == 200  # not deleted


# ---- filters (§3.4, §3.4.1) --------------------------------------------------------------------


def test_get_objects_returns_last_versions_by_default(
    live: LiveNode, posted: dict[str, Any]
) -> None:
    a, b, m = posted["A"], posted["B"], posted["M"]
    r = live.get(live.coll() + "objects/", params={"match[id]": ids(a, b, m)})
    assert objects_of(r) == [(a, V3), (b, V1), (m, V1)]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("last", [V3]),
        ("first", [V1]),
        ("all", [V1, V2, V3]),
        ("first,last", [V1, V3]),
        (V2, [V2]),
        ("2017-02-01T00:00:00Z", [V2]),  # the same instant, written without fractions
        (f"{V1},{V3}", [V1, V3]),
        ("2017-02-01T00:00:00.001Z", []),
    ],
)
def test_match_version(
    live: LiveNode, posted: dict[str, Any], version: str, expected: list[str]
) -> None:
    a = posted["A"]
    r = live.get(live.coll() + "objects/", params={"match[id]": a, "match[version]": version})
    assert objects_of(r) == [(a, v) for v in expected]
    m = live.get(live.coll() + "manifest/", params={"match[id]": a, "match[version]": version})
    assert [rec["version"] for rec in m.json().get("objects", [])] == expected


def test_match_id_lists_several_objects(live: LiveNode, posted: dict[str, Any]) -> None:
    b, c, d = posted["B"], posted["C"], posted["D"]
    r = live.get(live.coll() + "objects/", params={"match[id]": ids(d, b, MISSING)})
    assert [o for o, _ in objects_of(r)] == [b, d]  # date_added order, not the order asked
    assert c not in r.text


def test_match_type(live: LiveNode, posted: dict[str, Any]) -> None:
    mine = ids(posted["A"], posted["B"], posted["M"])
    only_malware = live.get(
        live.coll() + "objects/", params={"match[id]": mine, "match[type]": "malware"}
    )
    assert [o for o, _ in objects_of(only_malware)] == [posted["M"]]
    both = live.get(
        live.coll() + "objects/", params={"match[id]": mine, "match[type]": "malware,indicator"}
    )
    assert [o for o, _ in objects_of(both)] == [posted["A"], posted["B"], posted["M"]]


def test_match_type_of_an_absent_stix_type_is_200_empty(live: LiveNode) -> None:
    """Requesting a STIX 2.1 type none of which is stored MUST NOT be an error (§3.4.1)."""
    r = live.get(live.coll() + "objects/", params={"match[type]": "attack-pattern"})
    assert r.status_code == 200 and r.json() == {"more": False}
    assert "x-taxii-date-added-first" not in r.headers


@pytest.mark.parametrize(("spec", "found"), [("2.1", True), ("2.0,2.1", True), ("2.0", False)])
def test_match_spec_version(live: LiveNode, posted: dict[str, Any], spec: str, found: bool) -> None:
    a = posted["A"]
    r = live.get(live.coll() + "objects/", params={"match[id]": a, "match[spec_version]": spec})
    assert objects_of(r) == ([(a, V3)] if found else [])


def test_unknown_match_field_is_ignored(live: LiveNode, posted: dict[str, Any]) -> None:
    a = posted["A"]
    plain = live.get(live.coll() + "objects/", params={"match[id]": a})
    extra = live.get(live.coll() + "objects/", params={"match[id]": a, "match[foo]": "bar"})
    assert extra.status_code == 200 and extra.json() == plain.json()


def test_added_after_returns_only_later_objects(live: LiveNode, posted: dict[str, Any]) -> None:
    added = posted["added"]
    mine = ids(posted["A"], posted["B"], posted["C"], posted["D"], posted["M"])
    after_b = added[(posted["B"], V1)]
    r = live.get(live.coll() + "objects/", params={"match[id]": mine, "added_after": after_b})
    assert [o for o, _ in objects_of(r)] == [posted["C"], posted["D"], posted["M"]]
    # Every object the full listing has after that instant, and none before it.
    full = live.json(live.coll() + "manifest/")["objects"]
    later = live.json(live.coll() + "manifest/", params={"added_after": after_b}).get("objects", [])
    assert later == [rec for rec in full if rec["date_added"] > after_b]


def test_filters_combine_with_and(live: LiveNode, posted: dict[str, Any]) -> None:
    a, b, m = posted["A"], posted["B"], posted["M"]
    r = live.get(
        live.coll() + "objects/",
        params={
            "match[id]": ids(a, b, m),
            "match[type]": "indicator",
            "match[version]": "all",
            "match[spec_version]": "2.1",
            "added_after": posted["added"][(a, V1)],
        },
    )
    assert objects_of(r) == [(a, V2), (a, V3), (b, V1)]


def test_limit_caps_the_page_and_sets_more_and_next(live: LiveNode, posted: dict[str, Any]) -> None:
    mine = ids(posted["A"], posted["B"], posted["C"])
    r = live.get(live.coll() + "objects/", params={"match[id]": mine, "limit": "2"})
    body = r.json()
    assert len(body["objects"]) == 2 and body["more"] is True and body["next"]
    r = live.get(live.coll() + "objects/", params={"match[id]": mine, "limit": "3"})
    assert len(r.json()["objects"]) == 3 and r.json() == {
        "more": False,
        "objects": r.json()["objects"],
    }


def test_limit_above_the_server_maximum_is_clamped(live: LiveNode) -> None:
    r = live.get(live.coll() + "manifest/", params={"limit": "100000000"})
    assert r.status_code == 200
    assert len(r.json()["objects"]) <= live.node.config.max_page_size


def test_get_object_filters(live: LiveNode, posted: dict[str, Any]) -> None:
    a = posted["A"]
    path = live.coll() + f"objects/{a}/"
    assert objects_of(live.get(path)) == [(a, V3)]
    assert objects_of(live.get(path, params={"match[version]": "all"})) == [
        (a, V1),
        (a, V2),
        (a, V3),
    ]
    assert objects_of(live.get(path, params={"match[version]": "first"})) == [(a, V1)]
    assert objects_of(live.get(path, params={"match[version]": V2})) == [(a, V2)]
    assert objects_of(
        live.get(path, params={"match[version]": "all", "added_after": posted["added"][(a, V2)]})
    ) == [(a, V3)]
    assert_taxii_error(live.get(path, params={"match[spec_version]": "2.0"}), 404)
    assert_taxii_error(live.get(path, params={"match[version]": "2016-01-01T00:00:00.000Z"}), 404)


def test_get_object_404_unknown(live: LiveNode) -> None:
    assert_taxii_error(live.get(live.coll() + f"objects/{MISSING}/"), 404)


def test_versions_200_in_date_added_order(live: LiveNode, posted: dict[str, Any]) -> None:
    a = posted["A"]
    r = live.get(live.coll() + f"objects/{a}/versions/")
    assert r.json() == {"more": False, "versions": [V1, V2, V3]}
    later = live.get(
        live.coll() + f"objects/{a}/versions/", params={"added_after": posted["added"][(a, V1)]}
    )
    assert later.json()["versions"] == [V2, V3]
    spec = live.get(live.coll() + f"objects/{a}/versions/", params={"match[spec_version]": "2.1"})
    assert spec.json()["versions"] == [V1, V2, V3]


def test_versions_404_unknown(live: LiveNode) -> None:
    assert_taxii_error(live.get(live.coll() + f"objects/{MISSING}/versions/"), 404)


MALFORMED = [
    {"added_after": "garbage"},
    {"added_after": "2017-02-30T00:00:00Z"},
    {"added_after": "2017-01-01"},
    {"added_after": "2017-01-01T00:00:00+09:00"},
    {"limit": "0"},
    {"limit": "-1"},
    {"limit": "abc"},
    {"limit": "1.5"},
    {"limit": ""},
    {"next": "garbage"},
    {"next": ""},
    {"match[version]": "garbage"},
    {"match[version]": "all,last"},
    {"match[version]": "last,last"},
    {"match[version]": "first,"},
    {"match[spec_version]": "3.0"},
    {"match[spec_version]": "2.1 "},
]
MALFORMED_FOR_COLLECTION = [
    {"match[type]": ""},
    {"match[type]": "indicator,,malware"},
    {"match[id]": "indicator--1, indicator--2"},
]


def _repeat(params: dict[str, str]) -> list[tuple[str, str]]:
    return [*params.items(), *params.items()]


@pytest.mark.parametrize("params", MALFORMED + MALFORMED_FOR_COLLECTION, ids=repr)
@pytest.mark.parametrize("endpoint", ["objects", "manifest"])
def test_collection_reads_400_for_malformed_filter(
    live: LiveNode, posted: dict[str, Any], endpoint: str, params: dict[str, str]
) -> None:
    assert_taxii_error(live.get(path_of(live, posted, endpoint), params=params), 400)


@pytest.mark.parametrize("params", MALFORMED, ids=repr)
def test_get_object_400_for_malformed_filter(
    live: LiveNode, posted: dict[str, Any], params: dict[str, str]
) -> None:
    assert_taxii_error(live.get(path_of(live, posted, "object"), params=params), 400)


# match[version] is no filter of the versions endpoint: ignored there (§3.4.1 MAY).
@pytest.mark.parametrize("params", [p for p in MALFORMED if "match[version]" not in p], ids=repr)
def test_versions_400_for_malformed_filter(
    live: LiveNode, posted: dict[str, Any], params: dict[str, str]
) -> None:
    assert_taxii_error(live.get(path_of(live, posted, "versions"), params=params), 400)


@pytest.mark.parametrize(
    "name", ["added_after", "limit", "next", "match[id]", "match[type]", "match[version]"]
)
def test_get_objects_400_for_a_repeated_filter(live: LiveNode, name: str) -> None:
    value = {"added_after": "2017-01-01T00:00:00Z", "limit": "1", "next": "x"}.get(name, "last")
    r = live.get(live.coll() + "objects/", params=_repeat({name: value}))
    assert_taxii_error(r, 400)


@pytest.mark.parametrize(
    "params",
    [{"match[version]": "garbage"}, {"limit": "1"}, {"added_after": "2017-01-01T00:00:00Z"}],
    ids=repr,
)
def test_delete_400_for_malformed_or_foreign_filter(live: LiveNode, params: dict[str, str]) -> None:
    obj = indicator()
    live.post(live.coll() + "objects/", {"objects": [obj]})
    path = live.coll() + f"objects/{obj['id']}/"
    assert_taxii_error(live.delete(path, params=params), 400)
    assert live.get(path).status_code == 200


# ---- pagination, sorting, X-TAXII headers (§3.2, §3.3, §3.5) ------------------------------------


def _manifest(live: LiveNode, **params: str) -> list[dict[str, Any]]:
    return list(live.json(live.coll() + "manifest/", params=params).get("objects", []))


def test_date_added_strictly_increases(live: LiveNode, posted: dict[str, Any]) -> None:
    added = [rec["date_added"] for rec in _manifest(live, **{"match[version]": "all"})]
    assert len(added) >= 7
    assert all(TIMESTAMP.match(d) for d in added)
    assert all(x < y for x, y in zip(added, added[1:], strict=False))


def _check_pages(pages: list[httpx.Response], key: str) -> list[Any]:
    """Asserts `more` and `next` go together, every page but the last is full, and the X-TAXII
    headers name the first and last date_added of each page; returns the items in order."""
    out: list[Any] = []
    for i, r in enumerate(pages):
        body = r.json()
        last = i == len(pages) - 1
        assert body["more"] is (not last)
        assert ("next" in body) is body["more"]
        assert body.get(key), "a page of a non-empty listing is never empty here"
        out.extend(body[key])
        assert TIMESTAMP.match(r.headers["x-taxii-date-added-first"])
        assert TIMESTAMP.match(r.headers["x-taxii-date-added-last"])
    return out


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_get_objects_pages_with_next_cover_the_collection_once(
    live: LiveNode, posted: dict[str, Any], limit: int
) -> None:
    path = live.coll() + "objects/"
    full = live.get(path, params={"match[version]": "all"})
    pages = walk(live, path, "analyst", limit, **{"match[version]": "all"})
    got = _check_pages(pages, "objects")
    assert got == full.json()["objects"]
    assert all(len(p.json()["objects"]) == limit for p in pages[:-1])


def test_x_taxii_headers_are_the_first_and_last_date_added(
    live: LiveNode, posted: dict[str, Any]
) -> None:
    manifest = _manifest(live, **{"match[version]": "all"})
    dates = {(rec["id"], rec["version"]): rec["date_added"] for rec in manifest}
    pages = walk(live, live.coll() + "objects/", "analyst", 2, **{"match[version]": "all"})
    for r in pages:
        objs = objects_of(r)
        assert r.headers["x-taxii-date-added-first"] == dates[objs[0]]
        assert r.headers["x-taxii-date-added-last"] == dates[objs[-1]]


def test_get_objects_pages_by_added_after_x_taxii_date_added_last(
    live: LiveNode, posted: dict[str, Any]
) -> None:
    """The client's other way (§3.5): resend the query with added_after = the last page's
    X-TAXII-Date-Added-Last, ignoring `next`."""
    path = live.coll() + "objects/"
    full = live.json(path)["objects"]
    got: list[Any] = []
    params = {"limit": "2"}
    for _ in range(100):
        r = live.get(path, params=params)
        body = r.json()
        got.extend(body.get("objects", []))
        if not body["more"]:
            break
        params = {"limit": "2", "added_after": r.headers["x-taxii-date-added-last"]}
    assert got == full


def test_manifest_pages_with_next(live: LiveNode, posted: dict[str, Any]) -> None:
    full = _manifest(live)
    got = _check_pages(walk(live, live.coll() + "manifest/", "analyst", 2), "objects")
    assert got == full
    for rec in got:
        assert set(rec) == {"id", "date_added", "version", "media_type"}
        assert rec["media_type"] == "application/stix+json;version=2.1"


def test_get_object_pages_versions_with_next(live: LiveNode, posted: dict[str, Any]) -> None:
    a = posted["A"]
    pages = walk(live, live.coll() + f"objects/{a}/", "analyst", 2, **{"match[version]": "all"})
    assert [(o["id"], o["modified"]) for o in _check_pages(pages, "objects")] == [
        (a, V1), (a, V2), (a, V3)
    ]  # fmt: skip


def test_versions_pages_with_next(live: LiveNode, posted: dict[str, Any]) -> None:
    a = posted["A"]
    pages = walk(live, live.coll() + f"objects/{a}/versions/", "analyst", 1, key="versions")
    assert _check_pages(pages, "versions") == [V1, V2, V3]
    assert pages[0].headers["x-taxii-date-added-first"] == posted["added"][(a, V1)]
    assert pages[-1].headers["x-taxii-date-added-last"] == posted["added"][(a, V3)]


def test_next_with_the_same_filters_and_another_limit_is_200(
    live: LiveNode, posted: dict[str, Any]
) -> None:
    """taxii2-client's as_pages changes `limit` between pages (taxii-stix.md §3.1)."""
    mine = ids(posted["A"], posted["B"], posted["C"], posted["D"])
    first = live.json(live.coll() + "objects/", params={"match[id]": mine, "limit": "1"})
    rest = live.json(
        live.coll() + "objects/", params={"match[id]": mine, "limit": "5", "next": first["next"]}
    )
    got = [o["id"] for o in first["objects"] + rest["objects"]]
    assert got == [posted["A"], posted["B"], posted["C"], posted["D"]] and rest["more"] is False


def test_next_of_one_endpoint_on_another_is_400(live: LiveNode, posted: dict[str, Any]) -> None:
    token = live.json(live.coll() + "objects/", params={"limit": "1"})["next"]
    assert_taxii_error(
        live.get(live.coll() + "manifest/", params={"limit": "1", "next": token}), 400
    )
    inbox = "/kor/collections/inbox/objects/"
    assert_taxii_error(live.get(inbox, params={"limit": "1", "next": token}), 400)


def test_empty_result_is_200_with_more_false_and_no_headers(live: LiveNode) -> None:
    r = live.get(live.coll() + "objects/", params={"added_after": "2999-01-01T00:00:00Z"})
    assert r.status_code == 200 and r.json() == {"more": False}
    assert (
        "x-taxii-date-added-first" not in r.headers and "x-taxii-date-added-last" not in r.headers
    )
    m = live.get(live.coll() + "manifest/", params={"added_after": "2999-01-01T00:00:00Z"})
    assert m.json() == {"more": False}


# ---- Add Objects and status (§4.3, §5.5) --------------------------------------------------------


def _status_consistent(s: dict[str, Any]) -> None:
    assert s["status"] == "complete"
    assert s["total_count"] == s["success_count"] + s["failure_count"] + s["pending_count"]
    for key, count in (
        ("successes", "success_count"),
        ("failures", "failure_count"),
        ("pendings", "pending_count"),
    ):
        assert len(s.get(key, [])) == s[count]
        assert key in s or s[count] == 0  # empty lists are omitted (§1.3 of the research)
        for detail in s.get(key, []):
            assert set(detail) >= {"id", "version"}
    assert TIMESTAMP.match(s["request_timestamp"])


def test_add_objects_202_reports_each_object_in_the_status(live: LiveNode) -> None:
    good1, good2 = indicator(), indicator()
    unmarked = indicator(marking=None)
    no_id = {k: v for k, v in indicator().items() if k != "id"}
    stix20 = {k: v for k, v in indicator().items() if k != "spec_version"}
    r = live.post(
        live.coll() + "objects/", {"objects": [ANALYST_MD, good1, unmarked, no_id, good2, stix20]}
    )
    assert r.status_code == 202 and r.headers["content-type"] == TAXII
    s = r.json()
    _status_consistent(s)
    assert (s["total_count"], s["success_count"], s["failure_count"]) == (6, 3, 3)
    assert {d["id"] for d in s["successes"]} == {ANALYST_MD["id"], good1["id"], good2["id"]}
    assert {d["id"] for d in s["failures"]} >= {unmarked["id"], stix20["id"]}
    assert all(d["message"] for d in s["failures"])
    assert live.get(live.coll() + f"objects/{good2['id']}/").status_code == 200
    assert_taxii_error(live.get(live.coll() + f"objects/{unmarked['id']}/"), 404)
    assert_taxii_error(live.get(live.coll() + f"objects/{stix20['id']}/"), 404)


def test_status_200_for_its_requester_only(live: LiveNode, posted: dict[str, Any]) -> None:
    sid = posted["status"]["id"]
    r = live.get(f"/kor/status/{sid}/")
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    assert r.json() == posted["status"]
    _status_consistent(r.json())
    for other in ("clerk", "jpn-node", "usa-node", "gbr-user"):
        assert_taxii_error(live.get(f"/kor/status/{sid}/", other), 404)


def test_status_404_unknown(live: LiveNode) -> None:
    assert_taxii_error(live.get("/kor/status/2d086da7-4bdc-4f91-900e-d77486753710/"), 404)


def test_add_objects_exact_duplicate_is_a_success(live: LiveNode) -> None:
    obj = indicator()
    for _ in range(2):
        s = live.post(live.coll() + "objects/", {"objects": [obj]}).json()
        assert (s["success_count"], s["failure_count"]) == (1, 0)
    versions = live.json(live.coll() + f"objects/{obj['id']}/versions/")["versions"]
    assert versions == [obj["modified"]]


def test_add_objects_other_content_under_a_stored_version_is_a_failure(live: LiveNode) -> None:
    obj = indicator()
    live.post(live.coll() + "objects/", {"objects": [obj]})
    s = live.post(live.coll() + "objects/", {"objects": [{**obj, "name": "changed"}]}).json()
    assert (s["success_count"], s["failure_count"]) == (0, 1)
    assert live.json(live.coll() + f"objects/{obj['id']}/")["objects"][0]["name"] == obj["name"]


def test_add_objects_accepts_a_bundle_shaped_envelope(live: LiveNode) -> None:
    """stix2's TAXIICollectionSink posts a bundle (taxii-stix.md §3.2)."""
    obj = indicator()
    bundle = {"type": "bundle", "id": new_id("bundle"), "objects": [ANALYST_MD, obj]}
    r = live.post(live.coll() + "objects/", bundle)
    assert r.status_code == 202 and r.json()["success_count"] == 2
    assert live.get(live.coll() + f"objects/{obj['id']}/").status_code == 200


def test_add_objects_refuses_a_marking_above_the_publisher(live: LiveNode) -> None:
    """The analyst is cleared II: a Level I item is reported as a failure and not stored."""
    top = marking_definition(Marking.of("KOR", "I", ["dprk-nuclear"], groups=["dprk"]))
    obj = indicator(marking=top["id"])
    s = live.post(live.coll() + "objects/", {"objects": [top, obj]}).json()
    _status_consistent(s)
    assert (s["success_count"], s["failure_count"]) == (0, 2)
    assert_taxii_error(live.get(live.coll() + f"objects/{obj['id']}/", "usa-node"), 404)


def test_add_objects_400_for_a_body_that_is_not_json(live: LiveNode) -> None:
    assert_taxii_error(live.post(live.coll() + "objects/", b'{"objects": [}'), 400)
    assert_taxii_error(live.post(live.coll() + "objects/", b"\xff\xfe"), 400)


@pytest.mark.parametrize(
    "body", [[], {}, {"objects": {}}, {"objects": "x"}, "objects", 1], ids=repr
)
def test_add_objects_422_for_a_body_that_is_not_an_envelope(live: LiveNode, body: object) -> None:
    assert_taxii_error(live.post(live.coll() + "objects/", body), 422)


def test_add_objects_403_for_a_partner_on_items(live: LiveNode) -> None:
    obj = indicator()
    assert_taxii_error(live.post(live.coll() + "objects/", {"objects": [obj]}, "jpn-node"), 403)
    assert_taxii_error(live.get(live.coll() + f"objects/{obj['id']}/"), 404)


def test_add_objects_403_for_a_user_on_the_inbox(live: LiveNode) -> None:
    r = live.post(live.coll("inbox") + "objects/", {"objects": [indicator()]}, "analyst")
    assert_taxii_error(r, 403)


def test_add_objects_202_for_a_partner_delivering_to_the_inbox(live: LiveNode) -> None:
    jpn = marking_definition(Marking.of("JPN", "HI", ["dprk-missile"], groups=["dprk"]))
    obj = indicator(marking=jpn["id"])
    r = live.post(live.coll("inbox") + "objects/", {"objects": [jpn, obj]}, "jpn-node")
    assert r.status_code == 202 and r.json()["success_count"] == 2, r.text
    got = live.json(live.coll("inbox") + f"objects/{obj['id']}/", "jpn-node")["objects"]
    assert got == [obj]


@contextmanager
def max_content_length(live: LiveNode, n: int) -> Iterator[None]:
    old = live.node.config.max_content_length
    live.node.config.max_content_length = n
    try:
        yield
    finally:
        live.node.config.max_content_length = old


def _envelope_of_size(n: int) -> tuple[bytes, str]:
    obj = indicator()
    raw = ('{"objects": [' + json.dumps(obj) + "]}").encode()
    assert len(raw) <= n
    return raw + b" " * (n - len(raw)), obj["id"]


def test_add_objects_413_over_max_content_length(live: LiveNode) -> None:
    with max_content_length(live, 1500):
        assert live.json("/kor/")["max_content_length"] == 1500
        exact, ok_id = _envelope_of_size(1500)
        r = live.post(live.coll() + "objects/", exact)
        assert r.status_code == 202, r.text  # a body of max_content_length octets is no 413
        over, over_id = _envelope_of_size(1501)
        assert_taxii_error(live.post(live.coll() + "objects/", over), 413)
    assert live.get(live.coll() + f"objects/{ok_id}/").status_code == 200
    assert_taxii_error(live.get(live.coll() + f"objects/{over_id}/"), 404)


def test_add_objects_413_for_a_chunked_body_over_max_content_length(live: LiveNode) -> None:
    body, oid = _envelope_of_size(3000)
    h = live.headers("analyst", **{"Content-Type": TAXII})
    with max_content_length(live, 1500):
        r = live.request(
            "POST", live.coll() + "objects/", headers=h, content=iter([body[:1000], body[1000:]])
        )
        assert_taxii_error(r, 413)
    assert_taxii_error(live.get(live.coll() + f"objects/{oid}/"), 404)


# ---- Delete an Object (§5.7) --------------------------------------------------------------------


def _post_versions(live: LiveNode, *versions: str) -> str:
    oid = new_id()
    r = live.post(live.coll() + "objects/", {"objects": [indicator(oid, v) for v in versions]})
    assert r.json()["success_count"] == len(versions)
    return oid


def test_delete_200_then_object_404_and_gone_from_every_listing(live: LiveNode) -> None:
    oid = _post_versions(live, V1, V2)
    path = live.coll() + f"objects/{oid}/"
    r = live.delete(path)
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    assert_taxii_error(live.get(path), 404)
    assert_taxii_error(live.get(path, params={"match[version]": "all"}), 404)
    assert_taxii_error(live.get(path + "versions/"), 404)
    for endpoint in ("objects/", "manifest/"):
        r = live.get(live.coll() + endpoint, params={"match[id]": oid, "match[version]": "all"})
        assert r.json() == {"more": False}
    assert oid not in live.get(live.coll() + "manifest/", params={"match[version]": "all"}).text
    assert_taxii_error(live.delete(path), 404)


def test_delete_one_version_leaves_the_others(live: LiveNode) -> None:
    oid = _post_versions(live, V1, V2, V3)
    path = live.coll() + f"objects/{oid}/"
    assert live.delete(path, params={"match[version]": V2}).status_code == 200
    assert_taxii_error(live.get(path, params={"match[version]": V2}), 404)
    assert live.json(path + "versions/")["versions"] == [V1, V3]
    manifest = _manifest(live, **{"match[id]": oid, "match[version]": "all"})
    assert [rec["version"] for rec in manifest] == [V1, V3]
    assert live.delete(path, params={"match[version]": "first"}).status_code == 200
    assert live.json(path + "versions/")["versions"] == [V3]


def test_delete_404_unknown(live: LiveNode) -> None:
    assert_taxii_error(live.delete(live.coll() + f"objects/{MISSING}/"), 404)


def test_delete_404_for_an_unknown_version(live: LiveNode) -> None:
    oid = _post_versions(live, V1)
    path = live.coll() + f"objects/{oid}/"
    assert_taxii_error(live.delete(path, params={"match[version]": V2}), 404)
    assert live.get(path).status_code == 200


def test_delete_403_for_a_partner_on_items(live: LiveNode) -> None:
    """jpn-node can read but not write the items (§5.7: true/false → 403)."""
    oid = _post_versions(live, V1)
    path = live.coll() + f"objects/{oid}/"
    assert_taxii_error(live.delete(path, "jpn-node"), 403)
    assert live.get(path).status_code == 200


def test_delete_403_for_a_user_on_the_inbox(live: LiveNode) -> None:
    assert_taxii_error(live.delete(live.coll("inbox") + f"objects/{MISSING}/", "analyst"), 403)


def test_delete_404_without_access_to_the_collection(live: LiveNode) -> None:
    oid = _post_versions(live, V1)
    assert_taxii_error(live.delete(live.coll() + f"objects/{oid}/", "gbr-user"), 404)
    assert live.get(live.coll() + f"objects/{oid}/").status_code == 200


def test_delete_of_an_object_hidden_from_the_caller_is_404(live: LiveNode) -> None:
    """The Level I sample is beyond the analyst: deleting it looks exactly like a missing id,
    and it stays for those who may receive it."""
    usa = live.json(live.coll() + "objects/", "usa-node")["objects"]
    analyst = {o["id"] for o in live.json(live.coll() + "objects/")["objects"]}
    hidden = [o["id"] for o in usa if o["id"] not in analyst and o["type"] == "indicator"]
    assert hidden, "the Level I sample is visible to usa-node and not to the analyst"
    r = live.delete(live.coll() + f"objects/{hidden[0]}/")
    body = assert_taxii_error(r, 404)
    missing = assert_taxii_error(live.delete(live.coll() + f"objects/{MISSING}/"), 404)
    assert body == missing
    assert live.get(live.coll() + f"objects/{hidden[0]}/", "usa-node").status_code == 200


def test_deleted_object_can_be_posted_again(live: LiveNode) -> None:
    oid = _post_versions(live, V1)
    path = live.coll() + f"objects/{oid}/"
    assert live.delete(path).status_code == 200
    before = live.get(live.coll() + "manifest/").headers["x-taxii-date-added-last"]
    s = live.post(live.coll() + "objects/", {"objects": [indicator(oid, V1)]}).json()
    assert s["success_count"] == 1
    again = _manifest(live, **{"match[id]": oid})
    assert [rec["version"] for rec in again] == [V1]
    assert again[0]["date_added"] > before  # restored objects are new to readers


# ---- medallion's bugs, shown absent (taxii-stix.md §2.2) ---------------------------------------


def test_medallion_plain_accept_without_version_is_200_not_406(live: LiveNode) -> None:
    r = live.get(
        live.coll() + "objects/", headers=live.headers("analyst", Accept="application/taxii+json")
    )
    assert r.status_code == 200 and r.headers["content-type"] == TAXII


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        *((e, {"added_after": "garbage"}) for e in OBJECT_ENDPOINTS),
        *((e, {"match[version]": "garbage"}) for e in ("objects", "manifest", "object")),
    ],
    ids=repr,
)
def test_medallion_bad_added_after_or_version_is_400_not_500(
    live: LiveNode, posted: dict[str, Any], endpoint: str, params: dict[str, str]
) -> None:
    assert_taxii_error(live.get(path_of(live, posted, endpoint), params=params), 400)


def test_medallion_charset_in_content_type_is_202_not_415(live: LiveNode) -> None:
    r = live.post(
        live.coll() + "objects/",
        {"objects": [indicator()]},
        content_type="application/taxii+json;version=2.1; charset=utf-8",
    )
    assert r.status_code == 202


def test_medallion_401_is_a_taxii_error_not_html(live: LiveNode) -> None:
    r = live.get(live.coll() + "objects/", None)
    assert_taxii_error(r, 401)
