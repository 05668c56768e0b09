"""The web disclosures page shows, for each release, whether the receiving node signed a receipt
for it — as `accord audit disclosures --json` and the API do (accord.trust.receipts)."""

from __future__ import annotations

import time

from taxii_live import LiveNode
from ui_client import client, signed_in

from accord.audit import log as audit
from accord.exchange.signatures import record_receipt


def test_the_disclosures_page_shows_the_receipt_of_a_release(live: LiveNode) -> None:
    # Japan's node reads Korea's items: each version it receives is a release.
    page = live.json(live.coll() + "objects/", "jpn-node")
    item = next(o for o in page["objects"] if o["type"] == "indicator")
    releases = [d for d in audit.disclosures(live.store, item["id"]) if d["party"] == "JPN"]
    assert releases
    with client(live) as c:
        signed_in(c, "chief")
        before = c.get(f"/ui/audit/disclosures?item={item['id']}").text
        assert "none yet" in before
        now = time.time_ns() // 1000
        receipt = {
            "id": "x-accord-receipt--00000000-0000-4000-8000-000000000001",
            "receiver": "JPN",
            "sender": "KOR",
            "at": now,
            "entries": [[item["id"], str(releases[0]["version"]), "0" * 64, "KOR II"]],
        }
        with live.store.begin() as conn:
            record_receipt(conn, receipt, verified=False, added=now)
        after = c.get(f"/ui/audit/disclosures?item={item['id']}").text
        assert "(unverified)" in after
        assert after.count("none yet") == before.count("none yet") - 1
