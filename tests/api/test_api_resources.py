"""The management API's resources answer what the `accord` commands answer with --json, write
through the same services (audited), and see items exactly as TAXII does."""

from __future__ import annotations

import base64
import json

import pytest
from api_live import ALL_ROLES, API_SECRETS, ApiNode, assert_api_error, auth
from api_samples import DECISION, ORDER, WHATIF, new_order, visible_item

from accord.cli.main import main as cli
from accord.principals import add_principal
from accord.registry import repository as registry_repo


def test_a_decision_is_the_answer_of_accord_check(
    api: ApiNode, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    got = api.ok("POST", "/decisions", {**DECISION, "at": "2015-06-01", "level": "ii"})
    monkeypatch.setenv("ACCORD_DATABASE_URL", _raw_url(api))
    code = cli(["check", "--originator", "KOR", "--level", "II", "--topic", "dprk-nuclear",
                "--to", "JPN", "--at", "2015-06-01", "--json"])  # fmt: skip
    assert code == 0
    assert got == json.loads(capsys.readouterr().out)
    assert got["route"] == ["KOR", "USA", "JPN"] and got["recipient_level"] == "GOKUHI"


def _raw_url(api: ApiNode) -> str:
    return str(api.store.engine.url.render_as_string(hide_password=False)).replace(
        "postgresql+psycopg://", "postgresql://"
    )


@pytest.mark.parametrize(
    ("at", "allowed", "route"),
    [
        pytest.param("2014-12-28", False, [], id="before-tisa"),
        pytest.param("2014-12-29", True, ["KOR", "USA", "JPN"], id="tisa-via-hub"),
        pytest.param("2016-11-23", True, ["KOR", "JPN"], id="gsomia-direct"),
        pytest.param("2019-11-23", True, ["KOR", "JPN"], id="notice-suspended"),
    ],
)
def test_the_korea_japan_history(api: ApiNode, at: str, allowed: bool, route: list[str]) -> None:
    d = api.ok("POST", "/decisions", {**DECISION, "at": at})
    assert (d["allowed"], d["route"]) == (allowed, route)


def test_a_batch_is_a_list_in_and_a_list_out_in_order(api: ApiNode) -> None:
    asks = [{**DECISION, "at": a} for a in ("2014-12-28", "2014-12-29", "2016-11-23")]
    asks.append({**DECISION, "to": "chn", "level": "iii"})
    got = api.ok("POST", "/decisions", asks)
    assert [d["allowed"] for d in got] == [False, True, True, False]
    assert got == [api.ok("POST", "/decisions", a) for a in asks]
    err = assert_api_error(api.post("/decisions", [*asks, {**DECISION, "to": "XXX"}]), 422)
    assert (err["code"], err["field"]) == ("UNKNOWN_PARTY", "4.to")
    err = assert_api_error(
        api.post("/decisions", [DECISION, {**DECISION, "topics": ["nukes"]}]), 422
    )
    assert (err["code"], err["field"]) == ("UNKNOWN_TOPIC", "1.topics.0")


def test_consents_are_added_through_the_import_and_audited(api: ApiNode) -> None:
    consent = {
        "id": "jpn-consent-api-1",
        "originator": "JPN",
        "holder": "KOR",
        "recipients": ["USA"],
        "topics": ["dprk-missile"],
        "max_level": "HI",
        "valid_from": "2017-01-01",
    }
    head = api.ok("GET", "/audit/records?limit=1000")["records"][-1]["seq"]
    r = api.post("/consents", consent, who="legal-user")
    assert r.status_code == 201 and r.json() == {
        "changed": True,
        "added": {"consents": ["jpn-consent-api-1"]},
        "replaced": {},
    }
    assert consent["id"] in [c["id"] for c in api.ok("GET", "/consents", who="auditor-user")]
    kinds = [rec["kind"] for rec in api.ok("GET", f"/audit/records?after={head}")["records"]]
    assert kinds == ["consent", "registry-change"]
    again = api.post("/consents", consent, who="legal-user")
    assert again.status_code == 200 and again.json()["changed"] is False
    err = assert_api_error(
        api.post("/consents", {**consent, "max_level": "GOKUHI"}, who="legal-user"), 409
    )
    assert (err["code"], err["field"]) == ("CONSENT_EXISTS", "id")
    err = assert_api_error(
        api.post("/consents", {**consent, "id": "c-2", "holder": "XXX"}, who="legal-user"), 422
    )
    assert (err["code"], err["field"]) == ("IMPORT_REJECTED", "holder")


def test_an_event_recorded_changes_the_status_on_later_dates(api: ApiNode) -> None:
    before = api.ok("GET", "/agreements/kor-usa-gsomia-1987?at=2030-01-01")
    assert before["in_force"] is True
    api.ok(
        "POST",
        "/agreements/kor-usa-gsomia-1987/events",
        {"date": "2029-06-01", "kind": "suspended"},
        who="legal-user",
    )
    after = api.ok("GET", "/agreements/kor-usa-gsomia-1987?at=2030-01-01")
    assert (after["in_force"], after["status"]) == (False, "suspended")
    assert api.ok("GET", "/agreements/kor-usa-gsomia-1987?at=2029-05-31")["in_force"] is True
    err = assert_api_error(
        api.post(
            "/agreements/kor-usa-gsomia-1987/events",
            {"date": "2029-06-01", "kind": "suspended"},
            who="legal-user",
        ),
        409,
    )
    assert err["code"] == "EVENT_EXISTS"


def test_credentials_added_revoked_and_never_shown(api: ApiNode) -> None:
    created = api.ok(
        "POST",
        "/credentials",
        {"name": "kim", "kind": "user", "party": "kor", "clearance": "II", "roles": ["operator"]},
        who="operator-user",
    )
    secret = created.pop("secret")
    assert created == {"name": "kim", "kind": "user", "party": "KOR", "clearance": "II",
                       "groups": [], "roles": ["operator"], "revoked": False}  # fmt: skip
    assert api.call("GET", "/parties", None, headers=auth("kim", secret)).status_code == 200
    listed = api.ok("GET", "/credentials", who="operator-user")
    assert "secret" not in json.dumps(listed) and secret not in json.dumps(listed)
    err = assert_api_error(
        api.post(
            "/credentials",
            {"name": "kim", "kind": "user", "party": "KOR", "clearance": "III"},
            who="operator-user",
        ),
        409,
    )
    assert err["code"] == "CREDENTIAL_EXISTS"
    assert api.ok("DELETE", "/credentials/kim", who="operator-user") == {
        "name": "kim",
        "revoked": True,
    }
    assert_api_error(api.call("GET", "/parties", None, headers=auth("kim", secret)), 401)
    assert_api_error(api.call("DELETE", "/credentials/kim", "operator-user"), 404)
    err = assert_api_error(
        api.post(
            "/credentials",
            {"name": "x1", "kind": "user", "party": "KOR", "clearance": "TS"},
            who="operator-user",
        ),
        422,
    )
    assert (err["code"], err["field"]) == ("UNKNOWN_LEVEL", "clearance")


def test_an_order_through_its_whole_workflow(api: ApiNode) -> None:
    order = api.ok("POST", "/orders", ORDER, who="logistics-user")
    oid = order["id"]
    assert (order["status"], order["agreement"]) == ("requested", "kor-usa-mlsa-1988")

    def step(name: str, body: dict[str, object]) -> dict[str, object]:
        path = f"/orders/{oid}/{name}"
        return api.ok("POST", path, {"date": "2017-05-02", **body}, who="logistics-user")  # type: ignore[no-any-return]

    assert step("accept", {})["method_fixed"] is True
    err = assert_api_error(
        api.post(f"/orders/{oid}/deliver", {"signed_by": "logistics-user"}, who="logistics-user"),
        422,
    )
    assert err["code"] == "RULE_REFUSED"  # the orderer never signs the receipt
    err = assert_api_error(
        api.post(f"/orders/{oid}/deliver", {"signed_by": "park"}, who="logistics-user"), 422
    )
    assert "cannot record its receipt" in err["message"]  # nor records one in another's name
    delivered = api.ok(
        "POST", f"/orders/{oid}/deliver", {"date": "2017-05-02", "signed_by": "park"}, who=ALL_ROLES
    )
    assert delivered["signed_by"] == "park"
    assert step("invoice", {"reference": "INV-7"})["amounts"]["invoiced"] == {"USD": "125.00"}
    balances = api.ok("GET", "/ledger/balances", who="auditor-user")
    assert {"partner": "USA", "currency": "USD", "payable": "125.00"}.items() <= next(
        b for b in balances if b["partner"] == "USA"
    ).items()
    step("settle", {"method": "cash", "amount": "125.00", "currency": "USD"})
    for kind in ("order", "receipt", "invoice", "settlement"):
        step(
            "attach",
            {
                "kind": kind,
                "filename": f"{kind}.pdf",
                "content_base64": base64.b64encode(kind.encode()).decode(),
            },
        )
    closed = step("close", {})
    assert closed["status"] == "closed"
    shown = api.ok("GET", f"/orders/{oid}", who="auditor-user")
    assert [t["kind"] for t in shown["transitions"]][:5] == [
        "create",
        "accept",
        "deliver",
        "invoice",
        "settle",
    ]
    assert {t["by"] for t in shown["transitions"]} == {"logistics-user", ALL_ROLES}
    assert oid in [o["id"] for o in api.ok("GET", "/orders?status=closed", who="auditor-user")]
    err = assert_api_error(
        api.post(f"/orders/{oid}/cancel", {"reason": "late"}, who="logistics-user"), 409
    )
    assert err["code"] == "ORDER_STATE_CONFLICT"


def test_orders_the_agreements_do_not_cover_are_refused(api: ApiNode) -> None:
    weapons = {**ORDER, "lines": [{**ORDER["lines"][0], "category": "weapons"}]}  # type: ignore[dict-item]
    err = assert_api_error(api.post("/orders", weapons, who="logistics-user"), 422)
    assert err["code"] == "RULE_REFUSED" and "LOGISTICS_SCOPE" in err["message"]
    bad = {**ORDER, "lines": [{**ORDER["lines"][0], "currency": "US"}]}  # type: ignore[dict-item]
    err = assert_api_error(api.post("/orders", bad, who="logistics-user"), 422)
    assert (err["code"], err["field"]) == ("VALIDATION_FAILED", "lines.0.currency")
    assert_api_error(api.get("/orders/KOR-USA-nope", who="logistics-user"), 404, "NOT_FOUND")


def test_audit_records_page_by_page(api: ApiNode) -> None:
    first = api.ok("GET", "/audit/records?limit=2", who="auditor-user")
    assert [r["seq"] for r in first["records"]] == [1, 2] and first["next_after"] == 2
    second = api.ok(
        "GET", f"/audit/records?limit=2&after={first['next_after']}", who="auditor-user"
    )
    assert [r["seq"] for r in second["records"]] == [3, 4]
    everything = api.ok("GET", "/audit/records?limit=1000", who="auditor-user")
    assert everything["records"][0]["prev"] == "0" * 64
    verdict = api.ok("GET", "/audit/verify", who="auditor-user")
    assert verdict["ok"] is True and verdict["records"] >= len(everything["records"])


def test_an_item_release_table_and_who_may_see_the_item(api: ApiNode) -> None:
    item = visible_item(api)
    table = api.ok("GET", f"/items/{item}/releases", who="analyst-user")
    assert table["item"] == item and table["holder"] == "KOR" and table["at"] == "2017-06-01"
    parties = [r["party"] for r in table["releases"]]
    assert "KOR" not in parties and parties == sorted(parties)
    jpn = next(r for r in table["releases"] if r["party"] == "JPN")
    assert jpn["allowed"] and jpn["served"] and jpn["route"] == ["KOR", "JPN"]
    same = api.ok(
        "POST",
        "/releases",
        {"marking": {k: v for k, v in table["marking"].items() if k != "originator"}},
        who="analyst-user",
    )
    assert same["releases"] == table["releases"]
    # A user cleared below the item's level, without its groups, cannot tell it exists (R9).
    add_principal(
        api.store, "junior", "user", "KOR", "junior-secret", clearance="III", roles=("analyst",)
    )
    hidden = api.call(
        "GET", f"/items/{item}/releases", None, headers=auth("junior", "junior-secret")
    )
    missing = api.call(
        "GET",
        "/items/indicator--00000000-0000-4000-8000-000000000000/releases",
        None,
        headers=auth("junior", "junior-secret"),
    )
    assert_api_error(hidden, 404, "NOT_FOUND")
    assert_api_error(missing, 404, "NOT_FOUND")
    assert hidden.json()["error"]["message"].replace(item, "X") == missing.json()["error"][
        "message"
    ].replace("indicator--00000000-0000-4000-8000-000000000000", "X")


def test_whatif_stores_nothing(api: ApiNode) -> None:
    version = registry_repo.registry_version(api.store)
    got = api.ok("POST", "/whatif", WHATIF, who="legal-user")
    assert got["hypothetical"]["agreements"] == ["kor-jpn-gsomia-2011-hypothetical"]
    jpn_kor = next(p for p in got["pairs"] if (p["holder"], p["recipient"]) == ("JPN", "KOR"))
    assert jpn_kor["gained"] and not jpn_kor["lost"]
    assert registry_repo.registry_version(api.store) == version
    broken = {
        "records": {
            "consents": [
                {
                    "id": "c",
                    "originator": "KOR",
                    "holder": "XXX",
                    "recipients": ["JPN"],
                    "valid_from": "2011-01-01",
                }
            ]
        }
    }
    err = assert_api_error(api.post("/whatif", broken, who="legal-user"), 422)
    assert (err["code"], err["field"]) == ("IMPORT_REJECTED", "records.consents.0.holder")


def test_the_publish_preview_groups_objects_by_marking(api: ApiNode) -> None:
    item = visible_item(api)
    plain = {
        "type": "indicator",
        "id": "indicator--11111111-1111-4111-8111-111111111111",
        "spec_version": "2.1",
    }
    body = {"objects": [plain], "marking": {"level": "III", "topics": ["general-military"]}}
    got = api.ok("POST", "/preview", body, who="analyst-user")
    assert [g["objects"] for g in got["preview"]] == [[plain["id"]]]
    assert got["preview"][0]["marking"]["level"] == "III"
    err = assert_api_error(api.post("/preview", {"objects": [plain]}, who="analyst-user"), 422)
    assert (err["code"], err["field"]) == ("NO_RELEASE_MARKING", "objects.0")
    assert item  # the stored items' markings are known to the preview too


def test_the_secret_of_one_principal_opens_nothing_for_another(api: ApiNode) -> None:
    r = api.call("GET", "/parties", None, headers=auth("operator-user", API_SECRETS[ALL_ROLES]))
    assert_api_error(r, 401)
    r = api.call(
        "GET",
        "/parties",
        None,
        headers={"Authorization": f"Bearer {ALL_ROLES}:{API_SECRETS[ALL_ROLES]}"},
    )
    assert r.status_code == 200
    assert_api_error(api.call("GET", "/parties", None, headers={"Authorization": "Basic !!!"}), 401)
    assert new_order(api.store)  # the fixtures' helper works on this backend too


def test_a_credential_with_a_clearance_is_a_user_without_saying_kind(api: ApiNode) -> None:
    """As `accord credential add` infers the kind, so does the API: a clearance makes a user;
    neither kind nor clearance is 422 naming `kind` (before: `kind` was always required)."""
    r = api.call(
        "POST", "/credentials", json={"name": "kindless-user", "party": "KOR", "clearance": "III"}
    )
    assert r.status_code == 201, r.text[:300]
    assert r.json()["kind"] == "user" and r.json()["clearance"] == "III"
    r = api.call("POST", "/credentials", json={"name": "kindless", "party": "USA"})
    assert r.status_code == 422, r.text[:300]
    assert r.json()["error"]["field"] == "kind" and r.json()["error"]["code"] == "KIND_REQUIRED"


def test_the_publish_preview_finds_the_release_marking_beside_a_statement(api: ApiNode) -> None:
    """A copyright statement named before the release marking: the preview groups the object
    under its release marking (it once took the first marking named and found none)."""
    from accord.exchange import markings as mk
    from accord.policy.marking import Marking

    release = Marking.of("KOR", "III", ["general-military"])
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
        "created": "2017-06-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2015-2025, The MITRE Corporation."},
        "object_marking_refs": [mk.marking_id(release)],  # it travels under the same marking
    }
    obj = {
        "type": "indicator",
        "id": "indicator--22222222-2222-4222-8222-222222222222",
        "spec_version": "2.1",
        "object_marking_refs": [statement["id"], mk.marking_id(release)],
    }
    body = {"objects": [statement, mk.marking_definition(release), obj]}
    got = api.ok("POST", "/preview", body, who="analyst-user")
    (group,) = got["preview"]
    assert group["marking_id"] == mk.marking_id(release)
    assert group["objects"] == [statement["id"], obj["id"]]
