"""`accord publish` is a write like any other: it leaves its receipt in the audit trail, naming the
host account that ran it (PRODUCT.md §7 "Every write is audited with its actor")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import Cli
from taxii_live import indicator

from accord.audit import log as audit
from accord.store import open_store


def test_accord_publish_is_audited_with_its_actor(
    store_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Case 17. Fails on eff1280: the items were stored and released, and the audit trail gained
    no record (publishing through the UI or TAXII wrote one)."""
    cli = Cli(store_url, capsys, monkeypatch)
    obj = indicator(marking=None)
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--x", "objects": [obj]}))
    code, out, err = cli(
        "publish", str(path), "--level", "II", "--topic", "dprk-missile", "--json",
        env={"ACCORD_USER": "kim"},
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["published"]["success_count"] == 2
    store = open_store(store_url)
    try:
        receipts = [r for r in audit.export(store) if r["kind"] == "receipt"]
    finally:
        store.close()
    mine = [r for r in receipts if any(o[0] == obj["id"] for o in r["body"]["objects"])]
    assert len(mine) == 1 and mine[0]["actor"] == "cli:kim"
