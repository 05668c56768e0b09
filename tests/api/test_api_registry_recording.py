"""The API records the registry under the calling credential, refuses a foreign user's legal
role, and its what-if answers logistics too (orders that become possible or impossible)."""

from __future__ import annotations

from api_live import ApiNode, assert_api_error

from accord.registry import repository as registry_repo

ACSA = {
    "records": {
        "agreements": [
            {
                "id": "kor-jpn-acsa-hypothetical",
                "title": "A Korea–Japan ACSA",
                "kind": "logistics-support",
                "parties": ["KOR", "JPN"],
                "events": [{"date": "2017-01-02", "kind": "entered-into-force"}],
            }
        ]
    },
    "at": "2017-06-01",
}


def test_a_note_is_audited_under_the_credential(api: ApiNode) -> None:
    head = api.ok("GET", "/audit/records?limit=1000")["records"][-1]["seq"]
    note = {"id": "api-actor-note", "date": "2017-03-01", "sender": "KOR", "recipient": "USA"}
    assert api.post("/notes", note, who="legal-user").status_code == 201
    records = api.ok("GET", f"/audit/records?after={head}")["records"]
    assert [(r["kind"], r["actor"]) for r in records] == [("registry-change", "legal-user")]


def test_an_acsa_whatif_names_the_orders_it_makes_possible(api: ApiNode) -> None:
    version = registry_repo.registry_version(api.store)
    got = api.ok("POST", "/whatif", ACSA, who="legal-user")
    assert got["pairs"] == []  # no information flows: a logistics agreement
    assert [(d["parties"], d["change"]) for d in got["logistics"]] == [(["JPN", "KOR"], "possible")]
    assert got["logistics"][0]["agreements_after"] == ["kor-jpn-acsa-hypothetical"]
    assert "food" in got["logistics"][0]["categories_gained"]
    assert registry_repo.registry_version(api.store) == version
    other = api.ok("POST", "/whatif", {**ACSA, "parties": ["USA"]}, who="legal-user")
    assert other["logistics"] == []


def test_the_whatif_problem_still_names_its_field(api: ApiNode) -> None:
    bad = {
        "records": {"agreements": [{**ACSA["records"]["agreements"][0], "parties": ["KOR", "XXX"]}]}
    }
    err = assert_api_error(api.post("/whatif", bad, who="legal-user"), 422)
    assert err["field"] == "records.agreements.0.parties.1"
