"""`accord key show|rotate|list` and pinning a partner's key with `--key`, as an operator runs
them: the forms partners exchange, bad keys refused in one line, rotation keeping what the old key
signed verifiable."""

from __future__ import annotations

import json

import pytest
from cli_runner import Cli

from accord.audit import checkpoints
from accord.store import open_store
from accord.trust import keys


@pytest.fixture
def cli(store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    c = Cli(store_url, capsys, monkeypatch)
    assert c("demo", "--json")[0] == 0
    return c


def _show(cli: Cli) -> dict[str, str]:
    code, out, err = cli("key", "show", "--json")
    assert code == 0, err
    data: dict[str, str] = json.loads(out)
    return data


def test_key_show_prints_the_public_key_and_its_fingerprint(cli: Cli) -> None:
    data = _show(cli)
    assert len(data["public_key"]) == 64 and data["fingerprint"].startswith("sha256:")
    assert data["fingerprint"] == keys.fingerprint(data["public_key"])
    # The same key signs the audit checkpoints: partners pin one key per nation.
    assert data["public_key"] == checkpoints.public_key_hex(open_store(cli.url))
    code, out, _ = cli("key", "show")
    assert code == 0 and data["public_key"] in out and data["fingerprint"] in out


def test_a_partners_key_is_pinned_with_its_credential(cli: Cli) -> None:
    other = _show(cli)["public_key"]  # any valid key: this node's own, as a partner would send
    code, out, err = cli(
        "credential", "add", "jpn-signed", "--party", "JPN", "--kind", "partner",
        "--key", other, "--json", stdin="a-long-secret-value\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["key"]["fingerprint"] == keys.fingerprint(other)
    code, out, _ = cli("key", "list", "--json")
    pinned = {(k["party"], k["public_key"]) for k in json.loads(out)}
    assert ("JPN", other) in pinned


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "partner", "--key", "not-a-key"], "64 hexadecimal characters"),
        (["--kind", "partner", "--key", "00" * 31], "64 hexadecimal characters"),
        (["--clearance", "HI", "--key", "11" * 32], "--key: a key is pinned for a partner"),
    ],
    ids=["not-hex", "short", "user"],
)
def test_a_bad_key_is_named_and_nothing_is_added(cli: Cli, args: list[str], message: str) -> None:
    code, _, err = cli("credential", "add", "x-node", "--party", "JPN", *args, stdin="s3cret-xyz\n")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert "x-node" not in cli("credential", "list")[1]


def test_rotation_makes_a_new_key_and_keeps_old_checkpoints_verifiable(cli: Cli) -> None:
    before = _show(cli)
    store = open_store(cli.url)
    cp = checkpoints.checkpoint(store)
    assert cp is not None
    code, out, err = cli("key", "rotate", "--json")
    assert code == 0, err
    rotated = json.loads(out)
    assert rotated["old"]["public_key"] == before["public_key"]
    after = _show(cli)
    assert after["public_key"] == rotated["public_key"] != before["public_key"]
    assert checkpoints.check_signature(cp)  # signed by the old key, still verifiable
    (announcement,) = keys.announcements(store)
    assert announcement["x_old_key"] == before["public_key"]
    assert announcement["x_new_key"] == after["public_key"]
    own = {k["public_key"]: k for k in json.loads(cli("key", "list", "--json")[1])}
    assert own[before["public_key"]]["retired_at"] is not None
    assert own[after["public_key"]]["retired_at"] is None
