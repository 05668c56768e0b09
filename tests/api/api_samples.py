"""A valid request for every endpoint of the management API, built fresh for each call (a new
credential to revoke, a new order in the state the step needs), so that an allowed role gets a 2xx.
Shared by the role-table test and the error-form tests."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

from api_live import ApiNode

from accord.exchange.collections import list_collections
from accord.exchange.marking_rows import marking_index
from accord.exchange.queries import Query, page
from accord.logistics import service as orders
from accord.principals import add_principal
from accord.registry import repository as registry_repo
from accord.store import Store

_n = itertools.count(1)
ORDER_DAY = date(2017, 5, 2)

ORDER = {
    "requester": "KOR",
    "supplier": "USA",
    "purpose": "exercise",
    "order_date": "2017-05-01",
    "settlement": "cash",
    "lines": [
        {
            "category": "food",
            "quantity": "10",
            "unit": "box",
            "unit_price": "12.50",
            "currency": "USD",
        }
    ],
}
MARKING = {"level": "II", "topics": ["dprk-missile"]}
DECISION = {"originator": "KOR", "level": "II", "topics": ["dprk-nuclear"], "to": "JPN"}
WHATIF = {
    "records": {
        "agreements": [
            {
                "id": "kor-jpn-gsomia-2011-hypothetical",
                "title": "A Korea–Japan GSOMIA concluded in 2011",
                "kind": "information-security",
                "parties": ["KOR", "JPN"],
                "equivalence": [{"KOR": "II", "JPN": "GOKUHI"}, {"KOR": "III", "JPN": "HI"}],
                "events": [{"date": "2011-01-06", "kind": "entered-into-force"}],
            }
        ]
    },
    "at": "2012-06-29",
    "parties": ["KOR"],
}


def new_order(store: Store, upto: str = "requested") -> str:
    """Creates an order (by `clerk-x`) and drives it to the state `upto`; returns its id."""
    registry = registry_repo.load(store)
    lines = orders.parse_lines(["food:10:box:12.50:USD"])
    s = orders.create(
        store,
        registry,
        requester="KOR",
        supplier="USA",
        purpose="exercise",
        order_date=date(2017, 5, 1),
        settlement="cash",
        lines=lines,
        by="clerk-x",
    )
    oid = s.id
    steps = ["accepted", "delivered", "invoiced", "settled", "documented"]
    for step in steps[: steps.index(upto) + 1] if upto in steps else []:
        if step == "accepted":
            orders.accept(store, registry, oid, by="supplier-x", on=ORDER_DAY)
        elif step == "delivered":
            orders.deliver(store, registry, oid, signed_by="park", by="park", on=ORDER_DAY)
        elif step == "invoiced":
            orders.invoice(store, registry, oid, by="supplier-x", on=ORDER_DAY)
        elif step == "settled":
            orders.settle(
                store,
                registry,
                oid,
                method="cash",
                amount=12500,
                currency="USD",
                by="lee",
                on=ORDER_DAY,
            )
        elif step == "documented":
            for kind in ("order", "receipt", "invoice", "settlement"):
                orders.attach(
                    store,
                    registry,
                    oid,
                    kind=kind,
                    content=b"x",
                    filename=kind,
                    by="lee",
                    on=ORDER_DAY,
                )
    return oid


def visible_item(api: ApiNode) -> str:
    """Returns the id of a KOR sample item every role user (cleared I, all groups) may see."""
    items = next(c for c in list_collections(api.store, "kor") if c.kind == "items")
    rows, _ = page(api.store, items.key, None, Query(), None, 1000)
    index = marking_index(api.store)
    for r in rows:
        m = index.by_row[r.marking]
        if m.originator == "KOR" and m.level in ("II", "III"):
            return r.stix_id
    raise AssertionError("no KOR sample item")


Sample = Callable[[ApiNode], tuple[str, Any]]


def _throwaway_credential(api: ApiNode) -> str:
    """A national user every operator has authority over (Level III, no group, no role)."""
    name = f"throwaway-{next(_n)}"
    add_principal(api.store, name, "user", "KOR", "throwaway-secret", clearance="III")
    return name


SAMPLES: dict[str, Sample] = {
    "GET /openapi.json": lambda a: ("/openapi.json", None),
    "GET /docs": lambda a: ("/docs", None),
    "GET /parties": lambda a: ("/parties", None),
    "GET /parties/{code}": lambda a: ("/parties/KOR", None),
    "GET /agreements": lambda a: ("/agreements?party=KOR&in_force=true", None),
    "GET /agreements/{agreement_id}": lambda a: ("/agreements/kor-jpn-gsomia-2016", None),
    "GET /agreements/{agreement_id}/events": lambda a: (
        "/agreements/kor-jpn-gsomia-2016/events",
        None,
    ),
    "POST /agreements/{agreement_id}/events": lambda a: (
        "/agreements/kor-jpn-gsomia-2016/events",
        {"date": "2017-01-01", "kind": "amended", "summary": f"amendment {next(_n)}"},
    ),
    "GET /notes": lambda a: ("/notes", None),
    "POST /notes": lambda a: (
        "/notes",
        {"id": f"note-{next(_n)}", "date": "2017-01-01", "sender": "KOR", "recipient": "JPN"},
    ),
    "GET /consents": lambda a: ("/consents", None),
    "POST /consents": lambda a: (
        "/consents",
        {
            "id": f"consent-{next(_n)}",
            "originator": "JPN",
            "holder": "KOR",
            "recipients": ["USA"],
            "topics": ["dprk-missile"],
            "valid_from": "2017-01-01",
        },
    ),
    "GET /credentials": lambda a: ("/credentials", None),
    "POST /credentials": lambda a: (
        "/credentials",
        {"name": f"new-{next(_n)}", "kind": "user", "party": "KOR", "clearance": "III"},
    ),
    "DELETE /credentials/{name}": lambda a: (f"/credentials/{_throwaway_credential(a)}", None),
    "POST /credentials/{name}/unlock": lambda a: (
        f"/credentials/{_throwaway_credential(a)}/unlock",
        None,
    ),
    "POST /decisions": lambda a: ("/decisions", DECISION),
    "GET /changes": lambda a: ("/changes?since=2019-01-01", None),
    "GET /items/{item_id}/releases": lambda a: (f"/items/{visible_item(a)}/releases", None),
    "POST /releases": lambda a: ("/releases", {"marking": MARKING}),
    "POST /whatif": lambda a: ("/whatif", WHATIF),
    "POST /preview": lambda a: ("/preview", {"marking": MARKING}),
    "GET /audit/verify": lambda a: ("/audit/verify", None),
    "GET /audit/disclosures/{item_id}": lambda a: (f"/audit/disclosures/{visible_item(a)}", None),
    "GET /audit/records": lambda a: ("/audit/records?limit=5", None),
    "GET /orders": lambda a: ("/orders", None),
    "GET /orders/{order_id}": lambda a: (f"/orders/{new_order(a.store)}", None),
    "POST /orders": lambda a: ("/orders", ORDER),
    "POST /orders/{order_id}/accept": lambda a: (
        f"/orders/{new_order(a.store)}/accept",
        {"date": "2017-05-02"},
    ),
    "POST /orders/{order_id}/reject": lambda a: (
        f"/orders/{new_order(a.store)}/reject",
        {"reason": "no stock"},
    ),
    "POST /orders/{order_id}/cancel": lambda a: (
        f"/orders/{new_order(a.store)}/cancel",
        {"reason": "not needed"},
    ),
    "POST /orders/{order_id}/amend": lambda a: (
        f"/orders/{new_order(a.store)}/amend",
        {"lines": [{**ORDER["lines"][0], "quantity": "12"}], "date": "2017-05-02"},  # type: ignore[dict-item]
    ),
    "POST /orders/{order_id}/deliver": lambda a: (
        f"/orders/{new_order(a.store, 'accepted')}/deliver",
        {"signed_by": "park", "date": "2017-05-03"},
    ),
    "POST /orders/{order_id}/invoice": lambda a: (
        f"/orders/{new_order(a.store, 'delivered')}/invoice",
        {"reference": "INV-1", "date": "2017-05-03"},
    ),
    "POST /orders/{order_id}/settle": lambda a: (
        f"/orders/{new_order(a.store, 'invoiced')}/settle",
        {"method": "cash", "amount": "125.00", "currency": "USD", "date": "2017-05-03"},
    ),
    "POST /orders/{order_id}/attach": lambda a: (
        f"/orders/{new_order(a.store)}/attach",
        {
            "kind": "order",
            "filename": "order.pdf",
            "content_base64": base64.b64encode(b"%PDF").decode(),
        },
    ),
    "POST /orders/{order_id}/close": lambda a: (
        f"/orders/{new_order(a.store, 'documented')}/close",
        {"date": "2017-05-04"},
    ),
    "GET /ledger/balances": lambda a: ("/ledger/balances", None),
    "GET /ledger/ageing": lambda a: ("/ledger/ageing?at=2018-01-01", None),
    "GET /ledger/report": lambda a: ("/ledger/report?year=2017", None),
}
