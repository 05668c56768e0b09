"""Orders and balances: the order list, one order with its history, and the ledger.

Thin views over `accord.logistics.service` and `accord.logistics.reports` (the CLI's `accord orders
list|show` and `accord ledger balances|ageing`). The ledger page draws the ageing of open amounts as
an inline SVG bar chart per currency (currencies are never converted), with the table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from accord.errors import InputError
from accord.logistics import money, reports, service
from accord.logistics.model import STATUSES
from accord.web.pages import Ctx, digits, page

BUCKET_COLOURS = {
    "current": "#2e7d32",
    "1-29": "#827717",
    "30-89": "#c77700",
    "90-179": "#d84315",
    "180-364": "#b71c1c",
    "365+": "#4a0000",
}
CHART_WIDTH = 720
LABEL_WIDTH = 190
BAR_HEIGHT = 24
BAR_GAP = 10


@dataclass(frozen=True)
class Segment:
    bucket: str
    x: float
    width: float
    colour: str
    amount: str


@dataclass(frozen=True)
class Bar:
    """One row of the chart: who, its segments, its total, and its vertical place."""

    label: str
    y: float
    segments: tuple[Segment, ...]
    total: str
    end: float


@dataclass(frozen=True)
class Chart:
    """The ageing chart of one currency."""

    currency: str
    bars: tuple[Bar, ...]
    height: float
    summary: str


def ageing_charts(rows: list[dict[str, Any]]) -> list[Chart]:
    """Returns one chart per currency from `reports.ageing` rows (minor units): one bar per
    (direction, partner), split by bucket, on a scale shared within the currency."""
    by_currency: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_currency.setdefault(r["currency"], []).append(r)
    charts = []
    span = CHART_WIDTH - LABEL_WIDTH - 140
    for cur in sorted(by_currency):
        group = by_currency[cur]
        top = max((r["total"] for r in group), default=0) or 1
        bars = []
        for i, r in enumerate(group):
            x = float(LABEL_WIDTH)
            segs = []
            for b in reports.BUCKET_NAMES:
                amount = int(r[b])
                if amount <= 0:
                    continue
                w = max(1.0, span * amount / top)
                segs.append(
                    Segment(
                        b,
                        round(x, 1),
                        round(w, 1),
                        BUCKET_COLOURS[b],
                        digits(money.money_text(amount, cur)),
                    )
                )
                x += w
            label = (
                f"{'owed to us by' if r['direction'] == 'receivable' else 'we owe'} {r['partner']}"
            )
            bars.append(
                Bar(
                    label,
                    i * (BAR_HEIGHT + BAR_GAP) + 8,
                    tuple(segs),
                    digits(money.money_text(int(r["total"]), cur)),
                    round(x, 1),
                )
            )
        overdue = sum(int(r["total"]) - int(r["current"]) for r in group)
        summary = (
            f"Open amounts in {cur} by days overdue: {len(group)} balance(s), "
            f"{digits(money.money_text(overdue, cur))} overdue."
        )
        charts.append(Chart(cur, tuple(bars), len(group) * (BAR_HEIGHT + BAR_GAP) + 16, summary))
    return charts


@page
def orders_page(ctx: Ctx) -> Response:
    """Orders, newest first, filtered by `status` (repeatable) and `party`."""
    statuses = ctx.params("status")
    for s in statuses:
        if s not in STATUSES:
            raise InputError(f"status: {s!r} is not one of {', '.join(STATUSES)}")
    party = ctx.param("party").upper()
    if party:
        ctx.world().party(party)
    rows = service.list_orders(ctx.node.store, statuses, party or None)
    for r in rows:
        r["open_text"] = ", ".join(
            digits(money.money_text(v, c)) for c, v in sorted(r["open"].items()) if v
        )
        r["partner"] = r["supplier"] if r["requester"] == ctx.node.party else r["requester"]
    me = ctx.node.party
    partners = sorted(
        {
            r["supplier"] if r["requester"] == me else r["requester"]
            for r in service.list_orders(ctx.node.store)
        }
    )
    return ctx.render(
        "orders.html",
        section="orders",
        rows=rows,
        statuses=STATUSES,
        chosen=statuses,
        party_filter=party,
        partners=partners,
    )


@page
def order_page(ctx: Ctx) -> Response:
    """One order: header, lines, amounts, documents and every transition."""
    state, transitions = service.get(ctx.node.store, str(ctx.request.path_params["order_id"]))
    data = service.order_json(state, transitions)
    return ctx.render(
        "order.html",
        section="orders",
        order=data,
        lines=data["lines"],
        transitions=transitions,
        amounts=data["amounts"],
        currencies=state.currencies(),
    )


@page
def ledger_page(ctx: Ctx) -> Response:
    """Balances with each partner (on `?at=`, default now) and the ageing of open amounts."""
    me = ctx.node.party
    at_text = ctx.param("at")
    at = ctx.date_param()
    balances = reports.present(
        reports.balances(ctx.node.store, me, None, at if at_text else None),
        reports.BALANCE_AMOUNTS,
    )
    raw = reports.ageing(ctx.node.store, me, at)
    ageing = reports.present(raw, reports.AGEING_AMOUNTS)
    return ctx.render(
        "ledger.html",
        section="ledger",
        at=at,
        balances=balances,
        ageing=ageing,
        buckets=reports.BUCKET_NAMES,
        colours=BUCKET_COLOURS,
        charts=ageing_charts(raw),
        width=CHART_WIDTH,
        bar_height=BAR_HEIGHT,
    )
