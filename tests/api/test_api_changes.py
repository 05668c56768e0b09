"""`GET /api/v1/changes`: the moves of agreements and what they did to releases, readable by every
national role and refused to partners and to callers without credentials; decisions carry a
running notice in their explanation; a suspension that re-routes Korea → Japan through the United
States is reported as a route change."""

from __future__ import annotations

from typing import Any

from api_live import ROLE_USERS, ApiNode, assert_api_error

from accord.principals.service import ROLES

GSOMIA = "kor-jpn-gsomia-2016"
NOTICE = "in force until 2019-11-23: notice given 2019-08-23"


def _entry(changes: list[dict[str, Any]], event: str) -> dict[str, Any]:
    found = [c for c in changes if c["agreement"] == GSOMIA and c["event"] == event]
    assert len(found) == 1, changes
    return found[0]


def test_every_national_role_reads_the_changes(api: ApiNode) -> None:
    for role in ROLES:
        got = api.ok("GET", "/changes?since=2019-01-01", who=ROLE_USERS[role])
        notice = _entry(got, "termination-notified")
        assert notice["date"] == "2019-08-23"
        assert notice["effective"] == "2019-11-23"
        # The notice was suspended the day before it took effect: nothing changed.
        assert notice["status"] == "notice-suspended"
        assert notice["pairs"] == [] and notice["route_change"] is False
    # A user of low clearance (III) reads the same list: it names agreements, not items.
    assert api.ok("GET", "/changes?since=2019-01-01", who="clerk") == got


def test_partners_and_anonymous_callers_are_refused(api: ApiNode) -> None:
    assert_api_error(api.get("/changes?since=2019-01-01", who="jpn-node"), 403, "FORBIDDEN")
    assert_api_error(api.get("/changes?since=2019-01-01", who=None), 401, "UNAUTHENTICATED")
    bad = {"Authorization": "Basic " + "bm9ib2R5Ondyb25n"}  # nobody:wrong
    assert_api_error(api.get("/changes", who=None, headers=bad), 401)


def test_since_filters_and_bad_dates_are_named(api: ApiNode) -> None:
    assert all(c["date"] >= "2020-01-01" for c in api.ok("GET", "/changes?since=2020-01-01"))
    assert [c for c in api.ok("GET", "/changes?since=2020-01-01") if c["agreement"] == GSOMIA] == []
    r = api.get("/changes?since=23-08-2019")
    assert r.status_code == 422, r.text
    body = assert_api_error(api.get("/changes?since=2020-01-01&until=2019-01-01"), 422)
    assert body["field"] == "until"


def test_a_decision_names_the_running_notice(api: ApiNode) -> None:
    question = {"originator": "KOR", "level": "II", "topics": ["dprk-nuclear"], "to": "JPN"}
    d = api.ok("POST", "/decisions", {**question, "at": "2019-09-01"}, who="analyst-user")
    assert d["allowed"] is True
    assert NOTICE in d["explanation"]
    assert d["notices"] == [
        {
            "agreement": GSOMIA,
            "event": "termination-notified",
            "given": "2019-08-23",
            "effective": "2019-11-23",
        }
    ]
    before = api.ok("POST", "/decisions", {**question, "at": "2019-08-01"}, who="analyst-user")
    assert "notice given" not in before["explanation"] and before["notices"] == []


def test_a_suspension_that_reroutes_through_the_hub_is_a_route_change(api: ApiNode) -> None:
    event = {"date": "2024-01-10", "kind": "suspended", "summary": "test: suspended"}
    assert_api_error(
        api.post(f"/agreements/{GSOMIA}/events", event, who="analyst-user"), 403, "FORBIDDEN"
    )
    r = api.post(f"/agreements/{GSOMIA}/events", event, who="legal-user")
    assert r.status_code == 201, r.text
    got = api.ok("GET", "/changes?since=2024-01-01", who="logistics-user")
    moved = _entry(got, "suspended")
    assert moved["date"] == moved["effective"] == "2024-01-10"
    assert moved["status"] == "suspended"
    assert moved["route_change"] is True and moved["rerouted"] > 0
    pair = next(p for p in moved["pairs"] if (p["holder"], p["recipient"]) == ("KOR", "JPN"))
    rerouted = {(m["level"], m["topics"][0]) for m in pair["now_via_hub"]}
    assert ("II", "dprk-nuclear") in rerouted
    # Outside TISA's scope (DPRK nuclear and missile), the release stops altogether.
    assert ("II", "cyber") in {(m["level"], m["topics"][0]) for m in pair["lost"]}
    question = {"originator": "KOR", "level": "II", "topics": ["dprk-nuclear"], "to": "JPN"}
    d = api.ok("POST", "/decisions", {**question, "at": "2024-02-01"}, who="auditor-user")
    assert d["route"] == ["KOR", "USA", "JPN"]
    assert (
        f"{GSOMIA}, which bound them directly, is suspended since 2024-01-10" in (d["explanation"])
    )
