"""`accord credential` and `accord publish`, as an operator and an analyst run them."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from cli_runner import Cli

from accord.exchange.collections import count_objects
from accord.exchange.marking_rows import marking_index
from accord.principals import authenticate
from accord.store import open_store

INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--6b3f5f7e-2c1d-4b8e-9a55-7e1f0c2d3a4b",
    "created": "2016-12-01T00:00:00.000Z",
    "modified": "2016-12-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '203.0.113.7']",
    "pattern_type": "stix",
    "valid_from": "2016-12-01T00:00:00Z",
}


@pytest.fixture
def cli(store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    c = Cli(store_url, capsys, monkeypatch)
    assert c("demo", "--json")[0] == 0
    return c


def test_credential_secret_from_stdin_is_hashed_and_works(cli: Cli) -> None:
    code, out, err = cli(
        "credential",
        "add",
        "jpn-peer",
        "--party",
        "JPN",
        "--kind",
        "partner",
        "--json",
        stdin="a-long-secret\n",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "partner" and data["party"] == "JPN" and "secret" not in data
    store = open_store(cli.url)
    assert authenticate(store, "jpn-peer", "a-long-secret").party == "JPN"
    code, out, _ = cli("credential", "list", "--json")
    assert "a-long-secret" not in out
    assert {r["name"]: r["revoked"] for r in json.loads(out)}["jpn-peer"] is False


def test_credential_generated_secret_is_printed_once(cli: Cli) -> None:
    code, out, _ = cli(
        "credential",
        "add",
        "ops",
        "--party",
        "KOR",
        "--clearance",
        "II",
        "--group",
        "dprk",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "user" and data["clearance"] == "II" and data["groups"] == ["dprk"]
    secret = data["secret"]
    assert len(secret) >= 20
    assert authenticate(open_store(cli.url), "ops", secret).clearance == "II"


def test_revoked_credential_stops_working(cli: Cli) -> None:
    cli("credential", "add", "tmp", "--party", "USA", "--kind", "partner", stdin="tmp-secret-123\n")
    assert cli("credential", "revoke", "tmp")[0] == 0
    from accord.errors import Unauthenticated

    with pytest.raises(Unauthenticated):
        authenticate(open_store(cli.url), "tmp", "tmp-secret-123")
    code, _, err = cli("credential", "revoke", "tmp")
    assert code == 2 and "no live credential" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--party", "XXX"], "'XXX' is not a known party", id="unknown-party"),
        pytest.param(
            ["--party", "KOR", "--clearance", "TS"],
            "'TS' is not a level of KOR",
            id="clearance-not-in-scheme",
        ),
        pytest.param(
            ["--party", "JPN", "--kind", "partner", "--group", "x"],
            "--clearance, --group and --role are for users",
            id="group-on-partner",
        ),
        pytest.param(
            ["--party", "KOR", "--clearance", "II", "--role", "king"],
            "'king' is not a role",
            id="bad-role",
        ),
    ],
)
def test_credential_bad_input_exits_2(cli: Cli, args: list[str], message: str) -> None:
    code, _, err = cli("credential", "add", "someone", *args, stdin="some-secret-1\n")
    assert code == 2 and message in err


def write_objects(tmp_path: Path, objects: list[dict[str, object]], shape: str = "bundle") -> Path:
    p = tmp_path / "items.json"
    if shape == "bundle":
        data: object = {
            "type": "bundle",
            "id": "bundle--0b5b3a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "objects": objects,
        }
    elif shape == "envelope":
        data = {"objects": objects}
    else:
        data = objects
    p.write_bytes(orjson.dumps(data))
    return p


@pytest.mark.parametrize(
    ("at", "jpn_allowed", "jpn_rules"),
    [
        pytest.param("2016-11-22", False, {"IN_FORCE"}, id="before-gsomia"),
        pytest.param("2016-11-23", True, set(), id="gsomia-in-force"),
    ],
)
def test_publish_dry_run_previews_who_can_receive(
    cli: Cli, tmp_path: Path, at: str, jpn_allowed: bool, jpn_rules: set[str]
) -> None:
    path = write_objects(tmp_path, [INDICATOR])
    code, out, err = cli(
        "publish",
        str(path),
        "--level",
        "II",
        "--topic",
        "general-military",
        "--dry-run",
        "--at",
        at,
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["published"] is None
    (group,) = data["preview"]
    assert group["objects"] == [INDICATOR["id"]]
    by_party = {r["party"]: r for r in group["recipients"]}
    assert by_party["JPN"]["allowed"] is jpn_allowed
    assert jpn_rules <= set(by_party["JPN"]["rules"])
    assert by_party["USA"]["allowed"] is True and by_party["USA"]["recipient_level"] == "S"
    assert by_party["CHN"]["allowed"] is False
    assert count_objects(open_store(cli.url)) == 0  # nothing published


@pytest.mark.parametrize("shape", ["bundle", "envelope", "list"])
def test_publish_stores_objects_with_the_described_marking(
    cli: Cli, tmp_path: Path, shape: str
) -> None:
    path = write_objects(tmp_path, [INDICATOR], shape)
    code, out, err = cli(
        "publish",
        str(path),
        "--level",
        "III",
        "--topic",
        "dprk-missile",
        "--rel-to",
        "USA",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["published"]["success_count"] == 2  # the marking-definition and the indicator
    recipients = {r["party"]: r["allowed"] for r in data["preview"][0]["recipients"]}
    assert recipients["USA"] is True and recipients["JPN"] is False  # REL TO USA only (R5)
    store = open_store(cli.url)
    assert count_objects(store) == 3  # and the signed provenance of the indicator
    index = marking_index(store)
    assert any(m.rel_to == frozenset({"USA"}) and m.level == "III" for m in index.by_row.values())


def test_publish_without_marking_or_level_exits_2(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("publish", str(write_objects(tmp_path, [INDICATOR])))
    assert code == 2 and "carries no release marking" in err


def test_publish_refuses_unknown_level_and_topic(cli: Cli, tmp_path: Path) -> None:
    path = write_objects(tmp_path, [INDICATOR])
    code, _, err = cli("publish", str(path), "--level", "TS")
    assert code == 2 and "'TS' is not a level of KOR" in err
    code, _, err = cli("publish", str(path), "--level", "II", "--topic", "gossip")
    assert code == 2 and "'gossip' is not a known topic" in err


def test_publish_bad_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = cli("publish", str(bad), "--level", "II")
    assert code == 2 and "not valid JSON" in err


def test_serve_on_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """Before: "accord node of KOR on http://…" was printed, then uvicorn's `[Errno 98] address
    already in use`, and the exit code was 3 (undocumented). Now nothing claims the node is up:
    one line on stderr naming the address, exit 1 (a failure, README's exit-code table)."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [str(Path(sys.executable).with_name("accord")), "serve", "--port", str(port)],
            env={**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stdout == "" and out.stderr.count("\n") == 1
    assert f"127.0.0.1:{port}" in out.stderr and "in use" in out.stderr


def test_publish_dry_run_says_under_which_agreement_or_which_rules(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The human preview's last column names the agreements a party receives under, or the rules
    that refuse it (before: agreement ids under a column headed "rules")."""
    monkeypatch.setenv("COLUMNS", "200")
    path = write_objects(tmp_path, [INDICATOR])
    args = ["publish", str(path), "--level", "II", "--topic", "general-military", "--dry-run"]
    code, out, err = cli(*args, "--at", "2016-06-01")
    assert code == 0, err
    assert "why" in out and '"rules"' not in out
    rows = {ln.split()[1]: ln for ln in out.splitlines() if ln.startswith("│ ")}
    assert "under kor-usa-gsomia-1987" in rows["USA"]
    assert "refused by" in rows["JPN"] and "IN_FORCE" in rows["JPN"]


def test_publish_names_need_to_know_groups_so_national_users_can_read_it(
    cli: Cli, tmp_path: Path
) -> None:
    """R9: clearance alone never grants access. A KOR II item published with `--group military`
    is seen by a KOR II user of that group and by no one cleared but outside it; without a group
    it would reach no national user at all (only partners)."""
    from datetime import date

    from accord.policy.access import User, may_access
    from accord.policy.world import World
    from accord.registry import repository as registry_repo

    path = write_objects(tmp_path, [INDICATOR])
    code, out, err = cli(
        "publish", str(path), "--level", "II", "--topic", "dprk-missile",
        "--group", "Military", "--group", "dprk,military", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["preview"][0]["marking"]["groups"] == ["dprk", "military"]
    store = open_store(cli.url)
    world = World(registry_repo.load(store))
    (marking,) = [m for m in marking_index(store).by_row.values() if m.level == "II"]
    today = date(2024, 6, 3)
    member = User("kim", "KOR", "II", frozenset({"military"}), "KOR")
    outsider = User("lee", "KOR", "I", frozenset({"cyber"}), "KOR")
    assert may_access(member, marking, today, world=world).allowed
    assert not may_access(outsider, marking, today, world=world).allowed
    code, _, err = cli("publish", str(path), "--group", "military")
    assert code == 2 and "--group" in err


# ---- STIX 2.0 content: refused, or upgraded with --stix20 ---------------------------------------

#: A STIX 2.0 malware and the 2.0 indicator that detects it, as a 2.0 producer writes them: no
#: spec_version, the classification in `labels`, no pattern_type, no is_family.
MALWARE_20 = {
    "type": "malware",
    "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
    "created": "2016-04-06T20:07:09.000Z",
    "modified": "2016-04-06T20:07:09.000Z",
    "name": "Poison Ivy",
    "labels": ["remote-access-trojan"],
    "x_acme_family_id": 42,
}
INDICATOR_20 = {
    "type": "indicator",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2016-04-06T20:03:48.000Z",
    "modified": "2016-04-06T20:03:48.000Z",
    "labels": ["malicious-activity"],
    "pattern": "[ipv4-addr:value = '198.51.100.3']",
    "valid_from": "2016-01-01T00:00:00Z",
}


def write_stix20_bundle(tmp_path: Path, objects: list[dict[str, object]]) -> Path:
    p = tmp_path / "stix20.json"
    bundle = {
        "type": "bundle",
        "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
        "spec_version": "2.0",
        "objects": objects,
    }
    p.write_bytes(orjson.dumps(bundle))
    return p


@pytest.mark.parametrize("shape", ["bundle20", "list"])
def test_publish_refuses_stix20_naming_it_and_the_option(
    cli: Cli, tmp_path: Path, shape: str
) -> None:
    objects: list[dict[str, object]] = [MALWARE_20, INDICATOR_20]
    path = (
        write_stix20_bundle(tmp_path, objects)
        if shape == "bundle20"
        else write_objects(tmp_path, objects, "list")
    )
    code, out, err = cli("publish", str(path), "--level", "II", "--topic", "dprk-missile")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "STIX 2.0" in err and "--stix20" in err and MALWARE_20["id"] in err
    assert ("a STIX 2.0 bundle" in err) is (shape == "bundle20")
    assert count_objects(open_store(cli.url)) == 0


def test_publish_stix20_upgrades_then_publishes_listing_each_change(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_stix20_bundle(tmp_path, [MALWARE_20, INDICATOR_20])
    args = ["publish", str(path), "--stix20", "--level", "II", "--topic", "dprk-missile"]
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    data = json.loads(out)
    m, i = MALWARE_20["id"], INDICATOR_20["id"]
    assert data["upgraded"] == {
        "count": 2,
        "changes": [
            f'{m}: spec_version "2.1" added',
            f"{m}: labels moved to malware_types",
            f"{m}: is_family true added",
            f'{i}: spec_version "2.1" added',
            f"{i}: labels moved to indicator_types",
            f'{i}: pattern_type "stix" added',
            f'{i}: pattern_version "2.0" added',
        ],
    }
    assert data["published"] == {"success_count": 3, "failure_count": 0, "failures": []}
    store = open_store(cli.url)
    assert count_objects(store) == 4  # the two objects, their marking-definition, provenance


def test_publish_stix20_text_lists_the_first_changes_and_how_many_more(
    cli: Cli, tmp_path: Path
) -> None:
    many = [
        {**INDICATOR_20, "id": f"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd{n:02d}"}
        for n in range(6)
    ]  # 4 changes each: 24
    path = write_stix20_bundle(tmp_path, many)
    args = ["publish", str(path), "--stix20", "--level", "II", "--topic", "dprk-missile"]
    code, out, err = cli(*args, "--dry-run")
    assert code == 0, err
    assert "STIX 2.0 → 2.1: 6 object(s) upgraded, 24 change(s)" in out
    shown = [ln for ln in out.splitlines() if ln.startswith("  indicator--")]
    assert len(shown) == 20 and shown[0].endswith('spec_version "2.1" added')
    assert "… 4 more (--json lists them all)" in out
    assert "dry run: nothing published" in out


def test_publish_stix20_of_stix21_content_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = write_objects(tmp_path, [INDICATOR])
    args = ["publish", str(path), "--stix20", "--level", "II", "--topic", "dprk-missile"]
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    assert json.loads(out)["upgraded"] == {"count": 0, "changes": []}


def test_publish_stix20_that_cannot_be_upgraded_faithfully_exits_2(
    cli: Cli, tmp_path: Path
) -> None:
    both = {**MALWARE_20, "malware_types": ["backdoor"]}
    path = write_stix20_bundle(tmp_path, [INDICATOR_20, both])
    code, _, err = cli("publish", str(path), "--stix20", "--level", "II", "--topic", "dprk-missile")
    assert code == 2 and err.count("\n") == 1
    assert MALWARE_20["id"] in err and "labels and malware_types" in err
    assert count_objects(open_store(cli.url)) == 0
