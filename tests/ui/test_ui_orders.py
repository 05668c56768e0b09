"""Orders in the browser, over plain HTTP against the live node: who may raise an order and take
its steps (the logistics role, as themselves), what everyone else gets (status, and nothing
stored), the new-order form's problems shown per field all at once, the actor recorded being the
session's user whatever the form says, documents downloaded with the order page's authority, and
the ledger's CSV and annual report."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from taxii_live import SECRETS, LiveNode, add_test_principals, basic, start_node
from ui_client import client, csrf_of, sign_in, signed_in
from ui_support import TODAY, add_orders

from accord.logistics import service
from accord.principals import add_principal, revoke_principal
from accord.store.audit_schema import audit_log
from backends import sqlite_store

pytestmark = pytest.mark.slow

#: Two logistics officers of the node (KOR): one raises orders, the other signs receipts.
OFFICERS = {"supply-officer": "supply-secret-1", "receiving-officer": "receiving-secret-1"}


def own_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A node of its own, as the UI suites' shared one is made: these tests raise orders, and the
    other suites count the shared node's orders."""
    url = sqlite_store(tmp_path_factory.mktemp("ui-orders-node") / "accord.db")
    node = start_node(url, as_of=TODAY)
    for name in ("analyst", "jpn-node"):
        revoke_principal(node.store, name)
    add_test_principals(node.store)
    add_orders(node)
    add_officers(node)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    yield from own_node(tmp_path_factory)


def add_officers(live: LiveNode) -> None:
    """Adds the two logistics officers to the node."""
    for name, secret in OFFICERS.items():
        add_principal(
            live.store, name, "user", "KOR", secret, clearance="III", roles=("logistics",)
        )
        SECRETS[name] = secret


@pytest.fixture(scope="module")
def officers(live: LiveNode) -> Iterator[dict[str, httpx.Client]]:
    clients = {name: client(live) for name in OFFICERS}
    for name, c in clients.items():
        signed_in(c, name)
    yield clients
    for c in clients.values():
        c.close()


def token(c: httpx.Client, path: str = "/ui/orders/new") -> str:
    r = c.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return csrf_of(r.text)


ORDER = {
    "side": "requester",
    "partner": "USA",
    "purpose": "exercise",
    "order_date": "2024-06-01",
    "settlement": "cash",
    "lines": "2",
    "line-1-category": "food",
    "line-1-description": "field rations",
    "line-1-quantity": "100",
    "line-1-unit": "meal",
    "line-1-unit_price": "12.50",
    "line-1-currency": "USD",
    "action": "create",
}


def create(c: httpx.Client, **changes: str) -> httpx.Response:
    return c.post("/ui/orders/new", data={**ORDER, **changes, "csrf": token(c)})


def order_id(r: httpx.Response) -> str:
    assert r.status_code == 303, (r.status_code, r.text[:800])
    m = re.match(r"/ui/orders/([^?]+)\?done=create", r.headers["location"])
    assert m, r.headers["location"]
    return m.group(1)


def step(c: httpx.Client, oid: str, name: str, **data: Any) -> httpx.Response:
    return c.post(f"/ui/orders/{oid}/{name}", data={**data, "csrf": token(c, f"/ui/orders/{oid}")})


def history(live: LiveNode, oid: str) -> list[tuple[str, str]]:
    _state, ts = service.get(live.store, oid)
    return [(t.kind, t.by) for t in ts]


def audit_steps(live: LiveNode, oid: str) -> list[tuple[str, str]]:
    with live.store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.body)
            .where(audit_log.c.kind == "order-step", audit_log.c.subject == oid)
            .order_by(audit_log.c.seq)
        ).all()
    return [(orjson.loads(r.body)["step"], r.actor) for r in rows]


def test_the_form_shows_every_problem_next_to_its_field(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    c = officers["supply-officer"]
    before = len(service.list_orders(live.store))
    r = create(
        c,
        partner="",
        purpose="",
        order_date="2024-13-40",
        **{"line-1-quantity": "lots", "line-1-currency": "XXX", "line-1-unit": ""},
    )
    assert r.status_code == 400
    for key in ("partner", "purpose", "order_date", "line-1-quantity", "line-1-unit",
                "line-1-currency"):  # fmt: skip
        assert f'id="err-{key}"' in r.text, key
        assert f'aria-describedby="err-{key}"' in r.text, key
    assert "6 problems to fix" in r.text
    assert len(service.list_orders(live.store)) == before


def test_r10_and_r11_refusals_are_shown_at_the_field_they_concern(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    c = officers["supply-officer"]
    before = len(service.list_orders(live.store))
    # R11: weapons are never provided; the purpose is shown at its field when not covered.
    r = create(
        c,
        lines="2",
        **{
            "line-2-category": "weapons",
            "line-2-quantity": "1",
            "line-2-unit": "rifle",
            "line-2-unit_price": "900",
            "line-2-currency": "USD",
        },
    )
    assert r.status_code == 422
    err = re.search(r'id="err-line-2-category">([^<]+)<', r.text)
    assert err and "R11 LOGISTICS_SCOPE" in err.group(1) and "weapons" in err.group(1)
    assert 'id="err-line-1-category"' not in r.text
    # R10: no logistics agreement with China: at the partner field.
    r = create(c, partner="CHN")
    assert r.status_code == 422
    err = re.search(r'id="err-partner">([^<]+)<', r.text)
    assert err and "R10 LOGISTICS_AGREEMENT" in err.group(1)
    assert len(service.list_orders(live.store)) == before


def test_add_a_line_keeps_what_was_typed(officers: dict[str, httpx.Client]) -> None:
    c = officers["supply-officer"]
    r = c.post("/ui/orders/new", data={**ORDER, "lines": "1", "action": "add-line",
                                       "csrf": token(c)})  # fmt: skip
    assert r.status_code == 200
    assert 'name="line-2-category"' in r.text and 'value="field rations"' in r.text


def test_the_actor_is_the_session_user_not_a_form_field(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    """Fields named `by` or `signed_by` are ignored: the order, the receipt and the audit records
    name the signed-in users. The user who raised the order cannot sign its receipt."""
    supply, receiving = officers["supply-officer"], officers["receiving-officer"]
    oid = order_id(create(supply, by="chief", signed_by="chief"))
    assert step(supply, oid, "accept", by="chief").status_code == 303
    r = step(supply, oid, "deliver", **{"received-1": "100", "signed_by": "receiving-officer"})
    assert r.status_code == 422 and "separation of duties" in r.text
    r = step(receiving, oid, "deliver", **{"received-1": "90", "signed_by": "chief",
                                           "by": "chief"})  # fmt: skip
    assert r.status_code == 303
    state, _ts = service.get(live.store, oid)
    assert state.signed_by == "receiving-officer"
    assert history(live, oid) == [
        ("create", "supply-officer"),
        ("accept", "supply-officer"),
        ("deliver", "receiving-officer"),
    ]
    assert audit_steps(live, oid) == history(live, oid)
    page = receiving.get(f"/ui/orders/{oid}").text
    assert "recorded the receipt, signed by receiving-officer" in page
    assert "90 of 100 meal received" in page


@pytest.mark.parametrize("who", ["analyst", "clerk", "chief"])
def test_other_roles_cannot_act(
    officers: dict[str, httpx.Client], live: LiveNode, who: str
) -> None:
    oid = order_id(create(officers["supply-officer"]))
    with client(live) as c:
        signed_in(c, who)
        assert c.get("/ui/orders/new").status_code == 403
        page = c.get(f"/ui/orders/{oid}")
        assert page.status_code == 200 and "data-step-form" not in page.text
        t = csrf_of(page.text)
        r = c.post("/ui/orders/new", data={**ORDER, "csrf": t})
        assert r.status_code == 403
        for name, data in (("accept", {}), ("cancel", {"reason": "x"}), ("close", {})):
            r = c.post(f"/ui/orders/{oid}/{name}", data={**data, "csrf": t})
            assert r.status_code == 403, (who, name, r.status_code)
    assert history(live, oid) == [("create", "supply-officer")]


def test_no_credentials_partners_and_foreign_users_cannot_act(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    oid = order_id(create(officers["supply-officer"]))
    t = token(officers["supply-officer"], f"/ui/orders/{oid}")
    with client(live) as c:
        # No session: a GET goes to sign-in, a POST is refused, with or without a token.
        assert c.get("/ui/orders/new").status_code == 303
        assert c.post(f"/ui/orders/{oid}/accept", data={"csrf": t}).status_code == 403
        assert c.post("/ui/orders/new", data={**ORDER, "csrf": t}).status_code == 403
        # A partner node's credential or a foreign user: no session, nor over HTTP auth.
        for who in ("usa-node", "gbr-user"):
            assert sign_in(c, who).status_code in (400, 401, 403)
            h = {"Authorization": basic(who, SECRETS[who])}
            r = c.post(f"/ui/orders/{oid}/accept", data={"csrf": t}, headers=h)
            assert r.status_code == 403, who
        # The management API refuses the partner too (it is for the node's people).
        r = c.post(
            f"/api/v1/orders/{oid}/accept",
            json={},
            headers={"Authorization": basic("usa-node", SECRETS["usa-node"])},
        )
        assert r.status_code == 403
    assert history(live, oid) == [("create", "supply-officer")]
    assert audit_steps(live, oid) == [("create", "supply-officer")]


def test_another_sessions_token_is_refused(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    supply, receiving = officers["supply-officer"], officers["receiving-officer"]
    oid = order_id(create(supply))
    r = supply.post(f"/ui/orders/{oid}/accept", data={"csrf": token(receiving)})
    assert r.status_code == 403 and "security token" in r.text
    assert history(live, oid) == [("create", "supply-officer")]


def test_documents_download_with_the_order_pages_authority(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    supply = officers["supply-officer"]
    oid = order_id(create(supply))
    t = token(supply, f"/ui/orders/{oid}")
    r = supply.post(
        f"/ui/orders/{oid}/attach",
        data={"csrf": t, "kind": "order", "date": "2024-06-03"},
        files={"file": ("order form.pdf", b"%PDF-1.4 order form", "application/pdf")},
    )
    assert r.status_code == 303, (r.status_code, r.text[:500])
    state, _ = service.get(live.store, oid)
    ((kind, sha, name),) = state.documents
    assert (kind, name) == ("order", "order form.pdf")
    url = f"/ui/orders/{oid}/documents/{sha}?kind=order"
    assert f'href="{url}"' in supply.get(f"/ui/orders/{oid}").text.replace("&amp;", "&")
    got = supply.get(url)
    assert got.status_code == 200 and got.content == b"%PDF-1.4 order form"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert supply.get(f"/ui/orders/{oid}/documents/{'0' * 64}").status_code == 404
    with client(live) as anon:
        assert anon.get(url).status_code == 303  # to sign-in, no bytes
        assert b"order form" not in anon.get(url).content
    # A form without the token stores nothing.
    r = supply.post(
        f"/ui/orders/{oid}/attach",
        data={"kind": "receipt"},
        files={"file": ("r.pdf", b"receipt", "application/pdf")},
    )
    assert r.status_code == 403
    assert len(service.get(live.store, oid)[0].documents) == 1


def test_orders_list_reads_requester_then_supplier(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    page = officers["supply-officer"].get("/ui/orders").text
    row = next(r for r in service.list_orders(live.store) if r["requester"] != r["supplier"])
    cell = re.search(
        rf'data-order="{re.escape(row["id"])}".*?<td class="parties"[^>]*>([^<]+)</td>',
        page,
        re.S,
    )
    assert cell and cell.group(1) == f"{row['requester']} ← {row['supplier']}"
    assert row["id"].startswith(f"{row['requester']}-{row['supplier']}-")
    assert "Requester ← supplier" in page and 'id="new-order"' in page


def test_ledger_csv_and_annual_report(officers: dict[str, httpx.Client], live: LiveNode) -> None:
    c = officers["supply-officer"]
    r = c.get("/ui/ledger/balances.csv?at=2024-06-03")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and set(rows[0]) == {"partner", "currency", "receivable", "payable", "net"}
    r = c.get("/ui/ledger/ageing.csv?at=2024-06-03")
    assert r.status_code == 200 and r.text.startswith("direction,partner,currency,current")
    r = c.get("/ui/ledger/report.csv?year=2022")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert ("AUS", "transfer") in {(x["partner"], x["direction"]) for x in rows}
    page = c.get("/ui/ledger/report?year=2022")
    assert page.status_code == 200 and 'data-partner="AUS"' in page.text
    assert c.get("/ui/ledger/report?year=twenty").status_code == 400
    assert c.get("/ui/ledger/other.csv").status_code == 404
    with client(live) as anon:
        assert anon.get("/ui/ledger/report.csv?year=2023").status_code == 303


def test_an_order_between_other_parties_is_not_found(
    officers: dict[str, httpx.Client], live: LiveNode
) -> None:
    """An order this node's party is not a party to (one imported, say) is a 404 for everyone
    here: its page, its documents and its steps, and nothing is stored."""
    from datetime import date

    from accord.registry import repository as registry_repo

    reg = registry_repo.load(live.store)
    lines = service.parse_lines(["food:10:meal:9:USD"])
    other = service.create(
        live.store, reg, requester="JPN", supplier="USA", purpose="exercise",
        order_date=date(2024, 5, 1), settlement="cash", lines=lines, by="jpn-officer",
    )  # fmt: skip
    c = officers["supply-officer"]
    assert c.get(f"/ui/orders/{other.id}").status_code == 404
    assert c.get(f"/ui/orders/{other.id}/documents/{'0' * 64}").status_code == 404
    r = c.post(f"/ui/orders/{other.id}/accept", data={"csrf": token(c)})
    assert r.status_code == 404
    assert history(live, other.id) == [("create", "jpn-officer")]
