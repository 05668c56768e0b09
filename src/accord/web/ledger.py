"""Orders and balances: the order list, the ledger, its CSV downloads and the annual report.

Thin views over `accord.logistics.service` and `accord.logistics.reports` (the CLI's `accord orders
list` and `accord ledger balances|ageing|report`, whose CSV columns the downloads share); one
order and its steps are `accord.web.orders`. The ledger page draws the ageing of open amounts as
an inline SVG bar chart per currency (currencies are never converted), with the table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from accord.errors import InputError, NotFound
from accord.i18n import N_, _
from accord.i18n import number_text as digits
from accord.logistics import money, reports, service
from accord.logistics.model import STATUSES, OrderState
from accord.registry.model import parse_duration
from accord.web.pages import Ctx, page

BUCKET_COLOURS = {
    "current": "#2e7d32",
    "1-29": "#827717",
    "30-89": "#c77700",
    "90-179": "#d84315",
    "180-364": "#b71c1c",
    "365+": "#4a0000",
}
#: The ledger's words for its codes (translated where shown).
DIRECTIONS = {"receivable": N_("receivable"), "payable": N_("payable")}
DOCUMENT_KINDS = {
    "order": N_("order"),
    "receipt": N_("receipt"),
    "invoice": N_("invoice"),
    "settlement": N_("settlement"),
}
#: The rows of an order's amounts table: key of `order_json`'s amounts, and its words.
AMOUNT_ROWS = (
    ("ordered", N_("ordered")),
    ("delivered", N_("delivered")),
    ("invoiced", N_("invoiced")),
    ("settled", N_("settled")),
    ("open", N_("open")),
)
#: A duration's count in words, by unit (`30d`, `6m`, `1y`, as R12's periods are written).
PERIOD_UNITS = {"d": N_("%(n)sd"), "m": N_("%(n)sm"), "y": N_("%(n)sy")}
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


def bucket_heading(bucket: str) -> str:
    """Returns an ageing bucket's column heading: `current`, or its range of days (`30-89`)."""
    return _("current") if bucket == "current" else bucket


def bucket_legend(bucket: str) -> str:
    """Returns an ageing bucket's name in the legend: `current`, or `30-89 days`."""
    return _("current") if bucket == "current" else _("%(range)s days") % {"range": bucket}


def direction(code: str) -> str:
    text = DIRECTIONS.get(code)
    return _(text) if text is not None else code


def period_text(period: str) -> str:
    """Returns an R12 period (`30d`, `1y`) in the reader's language (as written, in English)."""
    try:
        count, unit = parse_duration(period)
    except ValueError:
        return period
    form = PERIOD_UNITS.get(unit)
    return _(form) % {"n": count} if form is not None else period


def deadline_rule(state: OrderState) -> str | None:
    """Returns how the settlement deadline is counted (`30d after invoice`), or None before an
    acceptance fixes it."""
    if not state.anchor:
        return None
    period = period_text(state.period or "")
    if state.anchor == "invoice":
        return _("%(period)s after invoice") % {"period": period}
    if state.anchor == "delivery":
        return _("%(period)s after delivery") % {"period": period}
    return f"{state.period} after {state.anchor}"


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
            if r["direction"] == "receivable":
                label = _("owed to us by %(partner)s") % {"partner": r["partner"]}
            else:
                label = _("we owe %(partner)s") % {"partner": r["partner"]}
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
        summary = _(
            "Open amounts in %(currency)s by days overdue: %(count)s balance(s), "
            "%(overdue)s overdue."
        ) % {
            "currency": cur,
            "count": digits(len(group)),
            "overdue": digits(money.money_text(overdue, cur)),
        }
        charts.append(Chart(cur, tuple(bars), len(group) * (BAR_HEIGHT + BAR_GAP) + 16, summary))
    return charts


@page
def orders_page(ctx: Ctx) -> Response:
    """Orders, newest first, filtered by `status` (repeatable) and `party`."""
    statuses = ctx.params("status")
    for s in statuses:
        if s not in STATUSES:
            raise InputError(
                _("status: %(value)s is not one of %(choices)s")
                % {"value": repr(s), "choices": ", ".join(STATUSES)}
            )
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
        may_create="logistics" in ctx.user.roles,
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
        bucket_headings={b: bucket_heading(b) for b in reports.BUCKET_NAMES},
        bucket_legends={b: bucket_legend(b) for b in reports.BUCKET_NAMES},
        directions={code: direction(code) for code in DIRECTIONS},
        colours=BUCKET_COLOURS,
        charts=ageing_charts(raw),
        width=CHART_WIDTH,
        bar_height=BAR_HEIGHT,
    )


def _year(ctx: Ctx) -> int:
    text = ctx.param("year") or str(ctx.node.today().year)
    if not text.isdigit() or not 1900 <= int(text) <= 2999:
        raise InputError(_("year: %(value)s is not a year") % {"value": repr(text[:10])})
    return int(text)


def report_rows(ctx: Ctx, report: str) -> tuple[list[dict[str, Any]], tuple[str, ...], str]:
    """Returns the rows, CSV columns and file name of a ledger report (`balances` on `?at=`,
    `ageing` on `?at=`, `report` for `?year=`): the same rows as `accord ledger … --csv`."""
    me = ctx.node.party
    if report == "balances":
        at_text = ctx.param("at")
        at = ctx.date_param()
        raw = reports.balances(ctx.node.store, me, None, at if at_text else None)
        rows = reports.present(raw, reports.BALANCE_AMOUNTS)
        return rows, reports.BALANCE_COLUMNS, f"balances-{me}-{at.isoformat()}.csv"
    if report == "ageing":
        at = ctx.date_param()
        rows = reports.present(reports.ageing(ctx.node.store, me, at), reports.AGEING_AMOUNTS)
        return rows, reports.AGEING_COLUMNS, f"ageing-{me}-{at.isoformat()}.csv"
    if report == "report":
        year = _year(ctx)
        rows = reports.present(reports.annual(ctx.node.store, me, year), reports.ANNUAL_AMOUNTS)
        return rows, reports.ANNUAL_COLUMNS, f"logistics-report-{me}-{year}.csv"
    raise NotFound(_("%(name)s is not a report of the ledger") % {"name": repr(report[:40])})


@page
def ledger_csv(ctx: Ctx) -> Response:
    """One ledger report as CSV (UTF-8, a header row), downloaded as a file."""
    rows, columns, name = report_rows(ctx, str(ctx.request.path_params["report"]))
    return Response(
        reports.to_csv(rows, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page
def annual_page(ctx: Ctx) -> Response:
    """The annual report for `?year=` (default this year): acquisitions and transfers by partner,
    agreement, fund and currency (domain.md §3.6), with its CSV."""
    year = _year(ctx)
    rows, _columns, _name = report_rows(ctx, "report")
    return ctx.render(
        "ledger_report.html",
        section="ledger",
        year=year,
        rows=rows,
        years=list(range(ctx.node.today().year, ctx.node.today().year - 15, -1)),
        directions={"acquisition": _("acquisition"), "transfer": _("transfer")},
    )
