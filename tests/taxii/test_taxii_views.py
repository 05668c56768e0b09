"""Each principal's view of the same collection (R1–R9 through TAXII)."""

from __future__ import annotations

from taxii_live import LiveNode

from accord.trust.provenance import is_provenance


def ids(resp) -> set[str]:  # type: ignore[no-untyped-def]
    """The items of a page: not its marking-definitions nor its signed provenance notes."""
    return {
        o["id"]
        for o in resp.json().get("objects", [])
        if o["type"] != "marking-definition" and not is_provenance(o)
    }


def test_discovery_names_the_api_root(live: LiveNode) -> None:
    r = live.get("/taxii2/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/taxii+json;version=2.1"
    assert r.json()["default"] == "/kor/" and r.json()["api_roots"] == ["/kor/"]


def test_views_differ_by_principal(live: LiveNode) -> None:
    path = live.coll() + "objects/"
    analyst = ids(live.get(path, "analyst"))
    jpn = ids(live.get(path, "jpn-node"))
    usa = ids(live.get(path, "usa-node"))
    chn = ids(live.get(path, "chn-node"))
    clerk = ids(live.get(path, "clerk"))
    assert len(usa) == 6  # Korea–US 1987: every level maps
    assert len(analyst) == 5  # cleared II: not the Level I sample
    assert jpn < usa and len(jpn) == 5  # Korea–Japan has no Level I row (R2)
    assert chn == set()
    assert len(clerk) == 1  # cleared III without groups: only the unclassified sample
    assert live.get(path, "gbr-user").json().get("objects") is None
