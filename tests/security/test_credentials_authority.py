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

from accord.principals import add_principal, authenticate
from accord.store import open_store
from accord.store.audit_schema import audit_log
from accord.store.exchange_schema import principals as principals_table
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


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
        url, name = sqlite_store(tmp_path / "accord.db"), None
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


# Credentials an attempt to revoke or unlock must leave alone: each lies beyond a Level III
# operator without groups (and the partner's beyond every operator: host only).
VICTIMS = {
    "v-level-i": {"kind": "user", "party": "KOR", "clearance": "I", "groups": ("dprk",)},
    "v-group": {"kind": "user", "party": "KOR", "clearance": "III", "groups": ("dprk",)},
    "v-role": {"kind": "user", "party": "KOR", "clearance": "III", "roles": ("auditor",)},
    "v-partner": {"kind": "partner", "party": "USA"},
}


def _add_victims(node: ApiNode, suffix: str) -> dict[str, str]:
    """Adds the victims under names ending in `suffix`; returns name → secret."""
    made = {}
    for base, spec in VICTIMS.items():
        name, secret = f"{base}-{suffix}", f"{base}-{suffix}-secret"
        add_principal(node.store, name, secret=secret, **spec)  # type: ignore[arg-type]
        made[name] = secret
    return made


@pytest.mark.parametrize("action", ["revoke", "unlock"])
def test_no_principal_revokes_or_unlocks_beyond_its_own_authority(
    node: ApiNode, action: str
) -> None:
    """DELETE /api/v1/credentials/NAME and POST …/NAME/unlock as every principal, against a Level
    I user, users holding a group or a role the operator lacks, and a partner node: 401 without
    credentials, 403 for everyone else (partners and users without the operator role; the
    Level III operator for each; every operator for the partner node; the Level I operator for
    the role it lacks); every victim still authenticates. The Level III operator may revoke
    and unlock a user within its authority, and the audit record names it.

    Fails on eff1280: the Level III operator revokes the Level I user and the partner node
    (200): a low operator can cut off its superiors and the partners (no authority check)."""
    victims = _add_victims(node, action)
    for who in EVERYONE:
        for name in victims:
            path = f"/credentials/{name}" + ("/unlock" if action == "unlock" else "")
            r = api(node, "DELETE" if action == "revoke" else "POST", path, who)
            if who is None:
                assert r.status_code == 401, (name, r.text[:200])
                continue
            allowed = who == "operator-user" and ("v-level-i" in name or "v-group" in name)
            if allowed and action == "unlock":
                assert r.status_code == 200, (who, name, r.text[:200])
                continue
            if allowed:
                # Revoking is allowed there; put it back for the others' attempts.
                assert r.status_code == 200, (who, name, r.text[:200])
                base = name.rsplit("-", 1)[0]
                spec = VICTIMS[base]
                with node.store.begin() as conn:
                    conn.execute(sa.delete(principals_table).where(principals_table.c.name == name))
                add_principal(node.store, name, secret=victims[name], **spec)  # type: ignore[arg-type]
                continue
            assert r.status_code == 403, (who, name, r.status_code, r.text[:200])
            assert r.json()["error"]["code"] == "FORBIDDEN"
    for name, secret in victims.items():
        assert authenticate(node.store, name, secret).name == name
    within = f"v-within-{action}"
    add_principal(node.store, within, "user", "KOR", f"{within}-secret", clearance="III")
    path = f"/credentials/{within}" + ("/unlock" if action == "unlock" else "")
    r = api(node, "DELETE" if action == "revoke" else "POST", path, "l3-operator")
    assert r.status_code == 200, r.text[:300]
    records = credential_records(node.store, within)
    assert records[-1] == ("l3-operator", records[-1][1]) and records[-1][1]["action"] == action
