"""Publishing is a write like any other, on every surface: it leaves its receipt in the audit
trail, naming the writer; for `accord publish`, the host account that ran it (PRODUCT.md §7
"Every write is audited with its actor")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Cli
from principals_live import headers
from taxii_live import TAXII, LiveNode, indicator

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


def _receipts(live: LiveNode, object_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in audit.export(live.store)
        if r["kind"] == "receipt" and any(o[0] == object_id for o in r["body"]["objects"])
    ]


def test_every_surface_that_publishes_leaves_its_receipt_with_its_actor(live: LiveNode) -> None:
    """TAXII Add Objects and the web publish page, beside `accord publish` above: one service
    (`accord.exchange.publishing`) stores the objects and writes their receipt in the same
    transaction, naming the signed-in principal (PRODUCT.md §7)."""
    from ui_client import client, signed_in

    sent = indicator(name="published over TAXII")
    r = live.http.post(
        f"/{live.api_root}/collections/items/objects/",
        content=json.dumps({"objects": [sent]}),
        headers={"Content-Type": TAXII, "Accept": TAXII, **headers("analyst")},
    )
    assert r.status_code == 202 and r.json()["success_count"] >= 1, r.text[:300]
    (receipt,) = _receipts(live, sent["id"])
    assert receipt["actor"] == "analyst"

    typed = indicator(marking=None, name="published on the web page")
    with client(live) as c:
        token = signed_in(c, "analyst")
        page = c.post(
            "/ui/publish",
            data={
                "csrf": token,
                "action": "publish",
                "stix": json.dumps(typed),
                "level": "III",
                "topic": "general-military",
                "groups": "military",
            },
        )
    assert page.status_code in (200, 303), page.text[:300]
    (receipt,) = _receipts(live, typed["id"])
    assert receipt["actor"] == "analyst"
