"""Who may create which credential (accord.principals.authority; docs/security.md "Credential
authority"; issue cases 9 and 15): no one grants more than they hold, partner credentials come
from the node's host only, the audit record names the actor's credential.

The API tests run on both stores against a live KOR node as every kind of principal
(principals_live); the CLI tests run `accord credential add` in this process on both stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from api_live import ApiNode
from cli_runner import Cli
from principals_live import EVERYONE, api

from accord.store import open_store
from accord.store.audit_schema import audit_log
from backends import BACKENDS, drop_pg_database, make_pg_database


@pytest.fixture(scope="module")
def node(security_node: ApiNode) -> ApiNode:
    """The module's node with every kind of principal (conftest `security_node`)."""
    return security_node


def credential_records(url_or_store: Any, name: str) -> list[tuple[str, dict[str, Any]]]:
    store = open_store(url_or_store) if isinstance(url_or_store, str) else url_or_store
    with store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.body)
            .where(audit_log.c.kind == "credential", audit_log.c.subject == name)
            .order_by(audit_log.c.seq)
        ).all()
    return [(str(a), json.loads(b)) for a, b in rows]


# What each attempt asks for; every one exceeds a Level III operator without groups.
BEYOND = {
    "level-I-every-group": {"kind": "user", "party": "KOR", "clearance": "I",
                            "groups": ["dprk", "military", "cyber"]},
    "a-group": {"kind": "user", "party": "KOR", "clearance": "III", "groups": ["dprk"]},
    "a-role": {"kind": "user", "party": "KOR", "clearance": "III", "roles": ["auditor"]},
    "new-party-partner": {"kind": "partner", "party": "GBR"},
    "foreign-user": {"kind": "user", "party": "JPN", "clearance": "HI"},
}  # fmt: skip


def test_no_principal_grants_beyond_its_own_authority(node: ApiNode) -> None:
    """POST /api/v1/credentials as every principal with requests beyond a Level III operator:
    401 without credentials, 403 for everyone else (partners, users without the operator role,
    the Level III operator for each excess), and nothing is created; a Level I operator holding
    every group may create the Level I user but not a partner credential (host only).

    Fails on eff1280: the Level III operator gets 201 for a Level I user with every group and for
    a partner credential of a new party, and that user reads Level I (case 9)."""
    for who in EVERYONE:
        for label, ask in BEYOND.items():
            name = f"x-{label}-{who or 'anon'}"[:90]
            r = api(node, "POST", "/credentials", who, json={"name": name, **ask})
            if who is None:
                assert r.status_code == 401, (label, r.text[:200])
                continue
            if who == "operator-user" and label in ("level-I-every-group", "a-group"):
                assert r.status_code == 201, (who, label, r.text[:200])
                continue
            if who == "operator-user" and label == "foreign-user":
                assert r.status_code == 403 and "KOR" in r.json()["error"]["message"]
                continue
            assert r.status_code == 403, (who, label, r.status_code, r.text[:200])
            assert r.json()["error"]["code"] == "FORBIDDEN"
            assert not credential_records(node.store, name), (who, label)


def test_an_operator_grants_within_its_authority_and_is_named(node: ApiNode) -> None:
    """A Level III operator creates a Level III operator (it holds the role), which in turn
    cannot exceed Level III; the audit records name the creating credentials, not "operator".

    Fails on eff1280: the second operator may create a Level I user."""
    r = api(node, "POST", "/credentials", "l3-operator",
            json={"name": "l3-deputy", "kind": "user", "party": "KOR", "clearance": "III",
                  "roles": ["operator"], "secret": "l3-deputy-secret"})  # fmt: skip
    assert r.status_code == 201, r.text[:300]
    assert credential_records(node.store, "l3-deputy")[0][0] == "l3-operator"
    deputy = {"Authorization": "Basic bDMtZGVwdXR5OmwzLWRlcHV0eS1zZWNyZXQ="}
    r = node.live.http.post(
        "/api/v1/credentials",
        headers=deputy,
        json={"name": "l3-escalated", "kind": "user", "party": "KOR", "clearance": "I"},
    )
    assert r.status_code == 403, r.text[:300]
    assert "clearance" in r.json()["error"]["message"]


def test_no_partner_credential_for_the_nodes_own_party_on_the_api(node: ApiNode) -> None:
    """A partner credential for this node's own party is refused on the API (422) even to an
    operator holding everything; a national user needs a clearance (422).

    Fails on eff1280: the partner credential for KOR is created (201) (case 15)."""
    r = api(node, "POST", "/credentials", "api-root-7f3a",
            json={"name": "kor-as-partner", "kind": "partner", "party": "KOR"})  # fmt: skip
    assert r.status_code == 422, r.text[:300]
    assert "own party" in r.json()["error"]["message"]
    r = api(node, "POST", "/credentials", "api-root-7f3a",
            json={"name": "no-clearance", "kind": "user", "party": "KOR", "roles": ["legal"]})  # fmt: skip
    assert r.status_code == 422


@pytest.fixture(params=BACKENDS)
def cli(
    request: pytest.FixtureRequest,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Cli]:
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'accord.db'}", None
    else:
        url, name = make_pg_database()
    c = Cli(url, capsys, monkeypatch)
    assert c("demo", "--json")[0] == 0
    try:
        yield c
    finally:
        open_store(url).close()
        if name:
            drop_pg_database(name)


def test_cli_needs_a_clearance_or_an_explicit_partner_kind(cli: Cli) -> None:
    """`accord credential add legal-officer --party KOR --role legal` (no --clearance) exits 2
    with a line naming --clearance and --kind partner; `--kind partner --party KOR` exits 2
    (this node's own party); a user with --clearance and a partner of another party are created
    and their audit records name the host account (cli:USER).

    Fails on eff1280: the first command silently creates a partner credential for KOR (case 15)."""
    code, _, err = cli("credential", "add", "legal-officer", "--party", "KOR", "--role", "legal")
    assert code == 2, err
    assert "--clearance" in err and "--kind partner" in err and err.count("\n") == 1
    code, _, err = cli("credential", "add", "kor-peer", "--party", "KOR", "--kind", "partner")
    assert code == 2 and "own party" in err, err
    assert not credential_records(cli.url, "legal-officer")
    assert not credential_records(cli.url, "kor-peer")
    code, _, err = cli(
        "credential",
        "add",
        "legal-officer",
        "--party",
        "KOR",
        "--clearance",
        "II",
        "--role",
        "legal",
    )
    assert code == 0, err
    code, _, err = cli("credential", "add", "gbr-peer", "--party", "GBR", "--kind", "partner")
    assert code == 0, err
    for name in ("legal-officer", "gbr-peer"):
        actor, body = credential_records(cli.url, name)[0]
        assert actor.startswith("cli:") and body["action"] == "add", (name, actor)
