"""`accord backup`, `accord restore` and `accord audit verify --against`, as an operator types
them, on every backend: the restore is in the chain, and what it lost is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import Cli

from accord.audit import log
from accord.store import open_store


@pytest.fixture
def cli(store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    c = Cli(store_url, capsys, monkeypatch)
    assert c("demo", "--json")[0] == 0
    return c


def _append(url: str, n: int) -> None:
    store = open_store(url)
    try:
        for i in range(n):
            log.record(
                store, "release", "jpn-peer", "JPN", {"objects": [[f"indicator--{i}", "v", "1"]]}
            )
    finally:
        store.close()


def test_backup_restore_and_verify_against(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("backup", str(tmp_path / "b.db"), "--json")
    assert code == 0, err
    made = json.loads(out)
    assert made["out"] == str(tmp_path / "b.db")
    n = made["records"]
    assert n > 0 and made["checkpoint"]["seq"] == n
    assert set(made["checkpoint"]) >= {"seq", "hash", "signature", "public_key"}

    _append(cli.url, 118)  # releases recorded after the backup
    code, out, _ = cli("audit", "checkpoint", "--json")
    (tmp_path / "cp.json").write_text(out)
    assert cli("audit", "export", "-o", str(tmp_path / "audit.jsonl"))[0] == 0

    code, out, err = cli("restore", str(tmp_path / "b.db"))
    assert code == 1 and "not empty" in err and "--force" in err
    code, out, err = cli("restore", str(tmp_path / "b.db"), "--force", "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["records"] == n and done["restore_record"] == n + 1
    assert done["replaced"] == n + 118

    code, out, _ = cli("audit", "verify")
    assert code == 0 and "audit chain intact" in out
    assert f"record {n + 1}: restored from a backup at record {n} on " in out
    for kept in ("audit.jsonl", "cp.json"):
        code, out, _ = cli("audit", "verify", "--against", str(tmp_path / kept))
        assert code == 1
        assert f"the store lacks 118 record(s) of {tmp_path / kept}: {n + 1}–{n + 118}" in out
        code, out, _ = cli("audit", "verify", "--against", str(tmp_path / kept), "--json")
        assert code == 1
        found = json.loads(out)
        assert found["intact"] is False and found["ok"] is False
        assert found["lacks"] == [[n + 1, n + 118]]
        assert found["differs"] == [n + 1] and found["missing"] == list(range(n + 2, n + 119))
        assert found["restores"][0]["from_seq"] == n
    # Against a backup's own checkpoint (signed inside it), the store is whole.
    (tmp_path / "own.json").write_text(json.dumps(made["checkpoint"]))
    code, out, _ = cli("audit", "verify", "--against", str(tmp_path / "own.json"), "--json")
    assert code == 0 and json.loads(out)["intact"] is True


def test_restore_refuses_a_file_that_is_not_a_backup(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "x.db").write_text("nothing")
    code, _, err = cli("restore", str(tmp_path / "x.db"), "--force")
    assert code == 2 and "not a backup" in err
    code, _, err = cli("restore", str(tmp_path / "none.db"))
    assert code == 2 and "no backup at" in err
    code, _, err = cli("audit", "verify", "--against", str(tmp_path / "x.db"))
    assert code == 2
