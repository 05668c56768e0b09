"""What the web interface suites share: Chromium's path and flags, the node's fixed date, where
screenshots go, and the logistics orders the fixture node is given."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from taxii_live import LiveNode

from accord.logistics import service
from accord.registry import repository as registry_repo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: The node's fixed "today": the Korea–Japan GSOMIA in force, its 2019 notes withdrawn.
TODAY = date(2024, 6, 3)
# The end-to-end tests write their screenshots outside the tracked tree, so that running the
# suite changes no tracked file; `scripts/screenshots` sets ACCORD_SCREENSHOTS to refresh the
# docs' copies on purpose.
SCREENSHOTS = Path(
    os.environ.get("ACCORD_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / f"accord-screenshots-{os.getuid()}"
)


def add_orders(live: LiveNode) -> dict[str, str]:
    """Raises a few orders in several states (dates before TODAY); returns their ids by role."""
    store = live.store
    reg = registry_repo.load(store)
    lines = service.parse_lines
    ids: dict[str, str] = {}

    def make(role: str, **kw: Any) -> str:
        state = service.create(store, reg, by="kim", node_party="KOR", **kw)
        ids[role] = state.id
        return state.id

    # KOR receives fuel from the US for an exercise, paid in cash: invoiced, now overdue.
    o = make("payable", requester="KOR", supplier="USA", purpose="exercise",
             order_date=date(2024, 3, 4), settlement="cash", exercise="Freedom Shield 24",
             lines=lines(["petroleum:50000:L:1.25:USD:JP-8 jet fuel", "transportation:4:trip:1800:USD:tanker trucks"]))  # fmt: skip
    service.accept(store, reg, o, by="usa-logistics", on=date(2024, 3, 5))
    service.deliver(store, reg, o, signed_by="lee", by="usa-logistics", on=date(2024, 3, 20))
    service.invoice(store, reg, o, by="usa-logistics", on=date(2024, 3, 25))
    # KOR supplies the US with food and billeting: invoiced recently, not yet due.
    o = make("receivable", requester="USA", supplier="KOR", purpose="exercise",
             order_date=date(2024, 5, 2), settlement="cash",
             lines=lines(["food:1200:meal:9500:KRW:field rations", "billeting:300:night:42000:KRW"]))  # fmt: skip
    service.accept(store, reg, o, by="park", on=date(2024, 5, 3))
    service.deliver(store, reg, o, signed_by="us-sgt-miller", by="park", on=date(2024, 5, 15))
    service.invoice(store, reg, o, by="park", on=date(2024, 5, 20))
    # KOR supplies Australia for disaster relief, to be replaced in kind: long overdue.
    o = make("in_kind", requester="AUS", supplier="KOR", purpose="disaster-relief",
             order_date=date(2022, 12, 20), settlement="replacement-in-kind",
             lines=lines(["medical:40:kit:310000:KRW:trauma kits", "food:8000:ration:900:KRW:emergency rations"]))  # fmt: skip
    service.accept(store, reg, o, by="park", on=date(2022, 12, 21))
    service.deliver(store, reg, o, signed_by="aus-capt-jones", by="park", on=date(2023, 1, 10))
    service.invoice(store, reg, o, by="park", on=date(2023, 1, 12))
    # A settled order with the US, and a request to the UK still waiting for an answer.
    o = make("settled", requester="KOR", supplier="USA", purpose="peacekeeping",
             order_date=date(2023, 9, 1), settlement="cash",
             lines=lines(["spare-parts:12:set:450.50:USD:generator parts"]))  # fmt: skip
    service.accept(store, reg, o, by="usa-logistics", on=date(2023, 9, 2))
    service.deliver(store, reg, o, signed_by="lee", by="usa-logistics", on=date(2023, 9, 10))
    service.invoice(store, reg, o, by="usa-logistics", on=date(2023, 9, 12))
    service.settle(store, reg, o, method="cash", amount=540600, currency="USD", by="kim",
                   on=date(2023, 10, 1))  # fmt: skip
    make("requested", requester="KOR", supplier="GBR", purpose="exercise",
         order_date=date(2024, 5, 28), settlement="cash",
         lines=lines(["communications:6:radio:2400:GBP:HF radios, on loan"]))  # fmt: skip
    return ids
