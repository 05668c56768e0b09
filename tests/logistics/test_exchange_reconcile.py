"""Two nodes, KOR and USA, each with its own store, hold the same orders: export → import is
idempotent, each side's later steps travel to the other, and reconciliation finds a record that
was deliberately made to diverge."""

from __future__ import annotations

from datetime import date

import orjson
import sqlalchemy as sa

from accord.logistics import exchange
from accord.logistics import service as S
from accord.registry.model import Registry
from accord.registry.service import import_registry
from accord.store import Store
from accord.store.schema import order_transitions

D = date(2024, 5, 2)


def _wire(data: dict[str, object]) -> object:
    """What a file carries: JSON bytes, read back."""
    return orjson.loads(orjson.dumps(data))


def test_orders_travel_between_nodes_and_reconcile(
    store: Store, peer_store: Store, world: Registry
) -> None:
    kor, usa = store, peer_store
    import_registry(kor, world, actor="test")
    import_registry(usa, world, actor="test")
    # KOR raises two orders; USA holds nothing yet.
    o1 = S.create(
        kor,
        world,
        requester="KOR",
        supplier="USA",
        purpose="exercise",
        order_date=D,
        settlement="cash",
        lines=S.parse_lines(["food:100:meal:12.50:USD"]),
        by="kim",
    )
    o2 = S.create(
        kor,
        world,
        requester="KOR",
        supplier="USA",
        purpose="disaster-relief",
        order_date=D,
        settlement="replacement-in-kind",
        lines=S.parse_lines(["petroleum:5000:l:1450:KRW"]),
        by="kim",
    )
    S.create(
        kor,
        world,
        requester="KOR",
        supplier="CAN",
        purpose="exercise",
        order_date=D,
        settlement="cash",
        lines=S.parse_lines(["food:1:t:1:CAD"]),
        by="kim",
    )
    out = _wire(exchange.export(kor, "KOR", peer="USA"))
    assert {o["id"] for o in out["orders"]} == {o1.id, o2.id}  # type: ignore[index]
    # Before import, USA misses both.
    diffs = exchange.reconcile(usa, "KOR", out, "USA")
    assert {(d["order"], d["what"]) for d in diffs} == {
        (o1.id, "missing here"),
        (o2.id, "missing here"),
    }
    first = exchange.import_data(usa, world, out)
    assert sorted(first.added_orders) == sorted([o1.id, o2.id]) and first.appended == 2
    again = exchange.import_data(usa, world, out)
    assert again.added_orders == [] and again.appended == 0 and len(again.unchanged) == 2
    assert again.conflicts == []
    # USA accepts, KOR signs the receipt, the invoice, a partial payment, documents.
    S.accept(usa, world, o1.id, by="smith", on=D)
    exchange.import_data(kor, world, _wire(exchange.export(usa, "USA", peer="KOR")))
    S.deliver(kor, world, o1.id, signed_by="park", by="park", on=date(2024, 5, 3))
    S.attach(
        kor,
        world,
        o1.id,
        kind="receipt",
        content=b"signed receipt",
        filename="r.pdf",
        by="park",
        on=date(2024, 5, 3),
    )
    exchange.import_data(usa, world, _wire(exchange.export(kor, "KOR", peer="USA")))
    S.invoice(usa, world, o1.id, by="smith", on=date(2024, 5, 4))
    exchange.import_data(kor, world, _wire(exchange.export(usa, "USA", peer="KOR")))
    S.settle(
        kor,
        world,
        o1.id,
        method="cash",
        amount=50000,
        currency="USD",
        by="lee",
        on=date(2024, 5, 20),
    )
    exchange.import_data(usa, world, _wire(exchange.export(kor, "KOR", peer="USA")))
    # Both sides now hold identical records; the document bytes travelled with their hash.
    assert (
        exchange.reconcile(kor, "USA", _wire(exchange.export(usa, "USA", peer="KOR")), "KOR") == []
    )
    assert (
        exchange.reconcile(usa, "KOR", _wire(exchange.export(kor, "KOR", peer="USA")), "USA") == []
    )
    assert S.get(usa, o1.id)[0].open == {"USD": 75000} == S.get(kor, o1.id)[0].open
    assert S.get(usa, o1.id)[0].document_kinds() == {"receipt"}

    # Diverge USA's record behind the ledger's back: the payment it holds is a different amount,
    # and a later step exists only at KOR.
    with usa.begin() as conn:
        body = conn.execute(
            sa.select(order_transitions.c.body).where(
                order_transitions.c.order_id == o1.id, order_transitions.c.kind == "settle"
            )
        ).scalar_one()
        data = orjson.loads(body)
        data["data"]["amount"] = "400.00"
        conn.execute(
            sa.update(order_transitions)
            .where(order_transitions.c.order_id == o1.id, order_transitions.c.kind == "settle")
            .values(body=orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode())
        )
    S.settle(
        kor,
        world,
        o1.id,
        method="cash",
        amount=75000,
        currency="USD",
        by="lee",
        on=date(2024, 5, 21),
    )
    diffs = exchange.reconcile(kor, "USA", _wire(exchange.export(usa, "USA", peer="KOR")), "KOR")
    found = {(d["order"], d["what"], str(d["ours"]), str(d["theirs"])) for d in diffs}
    assert (o1.id, "transition 6.data.amount", "500.00", "400.00") in found
    assert (o1.id, "transition 7 missing at peer", "settle", "None") in found
    assert (o1.id, "amounts.settled.USD", "1250.00", "400.00") in found
    assert (o1.id, "amounts.status", "settled", "invoiced") in found
    assert all(d["order"] == o1.id for d in diffs)  # o2 is identical on both sides
    # Importing the diverged record is refused as a conflict and changes nothing at KOR.
    before = S.get(kor, o1.id)
    res = exchange.import_data(kor, world, _wire(exchange.export(usa, "USA", peer="KOR")))
    assert [c["order"] for c in res.conflicts] == [o1.id]
    assert S.get(kor, o1.id) == before


def test_import_rechecks_every_step_against_the_local_registry(
    store: Store, peer_store: Store, world: Registry
) -> None:
    import_registry(store, world, actor="test")
    o = S.create(
        store,
        world,
        requester="KOR",
        supplier="USA",
        purpose="exercise",
        order_date=D,
        settlement="cash",
        lines=S.parse_lines(["food:1:t:1:USD"]),
        by="kim",
    )
    # The peer's registry has no Korea–US logistics agreement: R10 refuses the import.
    narrow = world.model_copy(update={"agreements": world.agreements[1:]})
    import_registry(peer_store, narrow, actor="test")
    res = exchange.import_data(peer_store, narrow, _wire(exchange.export(store, "KOR")))
    assert [c["order"] for c in res.conflicts] == [o.id]
    assert "LOGISTICS_AGREEMENT" in res.conflicts[0]["reason"]
    assert S.list_orders(peer_store) == []
