"""Fuzzing the TAXII endpoints of a live node: a hand-written corpus of hostile requests and
hypothesis-generated ones (malformed envelopes, wrong types, deep nesting, oversized and invalid
UTF-8 bodies, bad query strings, forged, altered and replayed cursors).

For every answer: no 5xx; no id of an object the caller may not see, anywhere in the body or the
headers; and a rejected request (4xx) leaves the objects, markings and statuses tables exactly as
they were. The one change a request may make without storing anything is the status resource of
a 202 whose objects all failed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taxii_live import (
    ANALYST_MD,
    SECRETS,
    TAXII,
    LiveNode,
    add_test_principals,
    basic,
    indicator,
    start_node,
)

from accord.exchange.collections import count_objects
from accord.principals import authenticate, revoke_principal
from accord.store.exchange_schema import markings, objects, statuses
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

ROOT = "/kor"
COLL = f"{ROOT}/collections/items"
CALLERS = ("clerk", "chn-node", "jpn-node", None)  # a low-cleared user, two partners, nobody


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("fuzz") / "accord.db"), None
    else:
        url, name = make_pg_database()
    node = start_node(url, as_of=date(2017, 6, 1))
    for n in ("analyst", "jpn-node"):
        revoke_principal(node.store, n)
    add_test_principals(node.store)
    # A few items the analyst publishes (KOR II, dprk): hidden from the clerk and from CHN.
    r = node.post(
        node.coll() + "objects/",
        {"objects": [ANALYST_MD, *(indicator() for _ in range(5))]},
        "analyst",
    )
    assert r.status_code == 202 and r.json()["success_count"] == 6, r.text[:300]
    try:
        yield node
    finally:
        node.stop()
        if name:
            drop_pg_database(name)


def snapshot(live: LiveNode) -> dict[str, str]:
    """A digest of each table a rejected request must leave alone."""
    out = {}
    with live.store.read() as conn:
        for table in (objects, markings, statuses):
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def hidden_ids(live: LiveNode, who: str | None) -> set[str]:
    """Every stored object id `who` may not see (all of them for nobody)."""
    with live.store.read() as conn:
        every = {r[0]: r[1] for r in conn.execute(sa.select(objects.c.stix_id, objects.c.marking))}
    if who is None:
        return set(every)
    view = live.node.view(authenticate(live.store, who, SECRETS[who]))
    return {sid for sid, m in every.items() if m not in view.rows}


def headers_for(
    who: str | None, content_type: str | None = TAXII, accept: str | None = TAXII
) -> dict[str, str]:
    h = {}
    if accept is not None:
        h["Accept"] = accept
    if content_type is not None:
        h["Content-Type"] = content_type
    if who is not None:
        h["Authorization"] = basic(who, SECRETS[who])
    return h


def send(live: LiveNode, method: str, path: str, who: str | None, **kw: Any) -> httpx.Response:
    """Sends one request and checks the invariants; returns the response."""
    before = snapshot(live)
    hidden = hidden_ids(live, who)
    headers = kw.pop("headers", None) or headers_for(who)
    r = live.http.request(method, path, headers=headers, **kw)
    assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
    seen = r.text + json.dumps(dict(r.headers))
    # An id the caller itself sent may be echoed back ("no object X"): that tells it nothing.
    asked = str(r.request.url) + r.request.content.decode("utf-8", "replace")
    leaked = [h for h in hidden if h in seen and h not in asked]
    assert not leaked, (method, path, who, leaked[:3])
    after = snapshot(live)
    if r.status_code >= 400:
        assert after == before, (
            method,
            path,
            r.status_code,
            "a rejected request changed the store",
        )
    elif r.status_code == 202:
        body = r.json()
        if body.get("success_count", 0) == 0:
            assert {k: v for k, v in after.items() if k != "statuses"} == {
                k: v for k, v in before.items() if k != "statuses"
            }
    return r


# ---- the hand-written corpus -------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
BODIES: list[tuple[str, bytes, int | tuple[int, ...]]] = [
    ("empty", b"", 400),
    ("null", b"null", 422),
    ("list", b"[]", 422),
    ("no-objects", b"{}", 422),
    ("objects-number", b'{"objects": 5}', 422),
    ("objects-map", b'{"objects": {"a": 1}}', 422),
    ("objects-junk", b'{"objects": [1, "x", null, [], true]}', 202),
    ("objects-partial", b'{"objects": [{"type": "indicator"}, {"id": 7}]}', 202),
    ("huge-number", b'{"objects": [1e999999]}', (400, 202)),
    ("deep-nesting", DEEP, 400),
    ("deep-objects", b'{"objects": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}", (400, 202)),
    ("invalid-utf8", b'{"objects": [{"id": "\xff\xfe\xfd"}]}', 400),
    ("nul-bytes", b"\x00\x01\x02", 400),
    ("truncated", b'{"objects": [{"type": "indicator", "id": "ind', 400),
    ("duplicate-keys", b'{"objects": [], "objects": 3}', (202, 422)),
    (
        "long-id",
        json.dumps(
            {"objects": [{"type": "indicator", "id": "indicator--" + "a" * 100_000}]}
        ).encode(),
        202,
    ),
    ("eleven-megabytes", b'{"objects": ["' + b"x" * (11 * 1024 * 1024) + b'"]}', 413),
]


@pytest.mark.parametrize(("name", "body", "status"), BODIES, ids=[b[0] for b in BODIES])
def test_hostile_envelopes(
    live: LiveNode, name: str, body: bytes, status: int | tuple[int, ...]
) -> None:
    r = send(live, "POST", COLL + "/objects/", "clerk", content=body, headers=headers_for("clerk"))
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), (
        name,
        r.status_code,
        r.text[:200],
    )


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", 415),
        ("application/json", 415),
        (None, 415),
        ("application/taxii+json;version=2.0", 415),
    ],
)
def test_wrong_content_types(live: LiveNode, content_type: str | None, status: int) -> None:
    r = send(
        live,
        "POST",
        COLL + "/objects/",
        "clerk",
        content=b'{"objects": []}',
        headers=headers_for("clerk", content_type),
    )
    assert r.status_code == status


QUERIES = [
    "limit=-1",
    "limit=0",
    "limit=abc",
    "limit=99999999999999999999999",
    "limit=1&limit=2",
    "added_after=garbage",
    "added_after=9999-99-99T99:99:99Z",
    "added_after=",
    "match[type]=",
    "match[type]=indicator,,,",
    "match[version]=not-a-time",
    "match[version]=first,last,all",
    "match[spec_version]=9.9",
    "match[id]=" + "x" * 5000,
    "match[unknown]=1",
    "%ff%fe=%ff",
    "next=",
    "next=garbage",
    "next=a.b",
    "next=" + "A" * 20_000,
    "limit=1&next=....",
    "=&&=&",
    "a" * 8000,
]


@pytest.mark.parametrize("who", CALLERS, ids=lambda w: w or "nobody")
@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_bad_query_strings(live: LiveNode, query: str, who: str | None) -> None:
    for path in (COLL + "/objects/", COLL + "/manifest/"):
        r = send(live, "GET", f"{path}?{query}", who)
        assert r.status_code in (200, 400, 401, 403, 404), (query, r.status_code)


def _token(live: LiveNode, who: str, path: str = COLL + "/objects/", **params: str) -> str:
    r = send(live, "GET", path, who, params={"limit": "1", **params})
    assert r.status_code == 200 and r.json().get("more"), r.text[:200]
    return str(r.json()["next"])


def test_forged_altered_and_replayed_cursors(live: LiveNode) -> None:
    token = _token(live, "jpn-node")
    head, sig = token.split(".")
    flipped = head[:-2] + ("A" if head[-2] != "A" else "B") + head[-1]
    for bad in (flipped + "." + sig, head + "." + sig[::-1], head, "." + sig, token + "x"):
        assert (
            send(
                live, "GET", COLL + "/objects/", "jpn-node", params={"limit": "1", "next": bad}
            ).status_code
            == 400
        )
    # replayed by another principal, on another endpoint, or with other filters: refused
    assert (
        send(
            live, "GET", COLL + "/objects/", "usa-node", params={"limit": "1", "next": token}
        ).status_code
        == 400
    )
    assert (
        send(
            live, "GET", COLL + "/manifest/", "jpn-node", params={"limit": "1", "next": token}
        ).status_code
        == 400
    )
    other = {"limit": "1", "next": token, "match[type]": "indicator"}
    assert send(live, "GET", COLL + "/objects/", "jpn-node", params=other).status_code == 400
    # the right principal gets the next page
    assert (
        send(
            live, "GET", COLL + "/objects/", "jpn-node", params={"limit": "1", "next": token}
        ).status_code
        == 200
    )


def test_hidden_objects_answer_like_missing_ones(live: LiveNode) -> None:
    for who in ("clerk", "chn-node"):
        hidden = sorted(hidden_ids(live, who))
        assert hidden
        for sid in hidden[:3]:
            for suffix in ("", "versions/"):
                r = send(live, "GET", f"{COLL}/objects/{sid}/{suffix}", who)
                missing = send(
                    live,
                    "GET",
                    f"{COLL}/objects/indicator--00000000-0000-4000-8000-000000000000/{suffix}",
                    who,
                )
                assert r.status_code == missing.status_code
                assert r.json()["title"] == missing.json()["title"]
            assert send(live, "DELETE", f"{COLL}/objects/{sid}/", who).status_code in (403, 404)


# ---- generated requests --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
stix_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["indicator", "marking-definition", "x-thing", ""]),
        "id": st.text(max_size=60),
    },
    optional={
        "spec_version": st.sampled_from(["2.1", "2.0", 2.1]),
        "object_marking_refs": json_values,
        "modified": st.text(max_size=30),
        "created": json_values,
    },
)
envelopes = st.one_of(
    json_values,
    st.fixed_dictionaries({"objects": st.lists(st.one_of(stix_like, json_values), max_size=5)}),
)
paths = st.sampled_from(
    [
        "/taxii2/",
        f"{ROOT}/",
        f"{ROOT}/collections/",
        f"{COLL}/",
        f"{COLL}/objects/",
        f"{COLL}/manifest/",
        f"{ROOT}/collections/inbox/objects/",
        f"{ROOT}/status/00000000-0000-4000-8000-000000000000/",
        "/nope/",
        f"{ROOT}/collections/../../etc/passwd",
        f"{COLL}/objects/%00/",
        f"{COLL}/objects/x/versions/",
    ]
)
queries = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "limit",
                "next",
                "added_after",
                "match[id]",
                "match[type]",
                "match[version]",
                "match[spec_version]",
                "x",
            ]
        ),
        st.text(max_size=40),
    ),
    max_size=4,
)


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    path=paths,
    query=queries,
    body=envelopes,
    who=st.sampled_from(CALLERS),
    content_type=st.sampled_from([TAXII, "application/json", None]),
)
def test_generated_requests(
    live: LiveNode,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    body: Any,
    who: str | None,
    content_type: str | None,
) -> None:
    kw: dict[str, Any] = {"params": query, "headers": headers_for(who, content_type)}
    if method in ("POST", "PUT"):
        kw["content"] = json.dumps(body).encode()
    send(live, method, path, who, **kw)


def test_the_store_still_serves_after_the_fuzzing(live: LiveNode, tmp_path: Path) -> None:
    r = live.get(live.coll() + "objects/", "analyst")
    assert r.status_code == 200 and len(r.json()["objects"]) >= 5
    assert count_objects(live.store) >= 5
