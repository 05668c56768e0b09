"""The new-order form: lines, purpose, settlement, and every problem at the field it concerns.

A logistics officer raises an order as the signed-in user through `accord.logistics.service.create`
(PRODUCT.md §3, R10–R11). The form is checked whole before anything is stored: malformed fields
first, then the rules as `accord.logistics.rules.choose_agreement` finds them, each problem keyed
by the field it concerns (R10 at the partner, R11 at the purpose or at the line it names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from accord.errors import InputError
from accord.i18n import _
from accord.logistics import money, service
from accord.logistics import rules as R
from accord.logistics.model import METHODS, Line
from accord.registry.model import CATEGORIES, PURPOSES
from accord.web.orders import require_logistics
from accord.web.pages import Ctx, page

MAX_LINES = 50


@dataclass
class LineRow:
    """One line of the form as typed, and its number among the lines kept."""

    index: int
    category: str = ""
    description: str = ""
    quantity: str = ""
    unit: str = ""
    unit_price: str = ""
    currency: str = ""

    def blank(self) -> bool:
        return not any((self.category, self.description, self.quantity, self.unit, self.unit_price))


@dataclass
class OrderForm:
    """The new-order form: its values, and the problems found per field id (all at once)."""

    side: str = "requester"
    partner: str = ""
    purpose: str = ""
    order_date: str = ""
    settlement: str = "cash"
    exercise: str = ""
    facility: str = ""
    fund: str = ""
    lines: list[LineRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: True when a rule (R10, R11) refused the order rather than a malformed field.
    refused: bool = False


def _read_form(ctx: Ctx) -> OrderForm:
    try:
        count = max(1, min(MAX_LINES, int(ctx.param("lines") or "1")))
    except ValueError:
        count = 1
    rows = [
        LineRow(
            i,
            ctx.param(f"line-{i}-category"),
            ctx.param(f"line-{i}-description"),
            ctx.param(f"line-{i}-quantity"),
            ctx.param(f"line-{i}-unit"),
            ctx.param(f"line-{i}-unit_price"),
            ctx.param(f"line-{i}-currency").upper(),
        )
        for i in range(1, count + 1)
    ]
    return OrderForm(
        side=ctx.param("side"),
        partner=ctx.param("partner").upper(),
        purpose=ctx.param("purpose"),
        order_date=ctx.param("order_date"),
        settlement=ctx.param("settlement"),
        exercise=ctx.param("exercise"),
        facility=ctx.param("facility"),
        fund=ctx.param("fund"),
        lines=rows,
    )


def _line(row: LineRow, no: int, errors: dict[str, str]) -> Line | None:
    """Returns the typed line as line `no`, or None with its problems added to `errors`."""
    key = f"line-{row.index}"
    if row.category not in CATEGORIES:
        errors[f"{key}-category"] = _("Choose a category.")
    quantity: Decimal | None = None
    try:
        quantity = money.parse_quantity(row.quantity, "quantity") if row.quantity else None
        if quantity is None:
            errors[f"{key}-quantity"] = _("Enter the quantity.")
        elif quantity <= 0:
            errors[f"{key}-quantity"] = _("The quantity must be more than zero.")
    except InputError:
        if row.quantity.startswith("-"):
            errors[f"{key}-quantity"] = _("The quantity must be more than zero.")
        else:
            errors[f"{key}-quantity"] = _(
                "Enter the quantity as a number (for example 40 or 12.5), at most six decimals."
            )
    if not row.unit:
        errors[f"{key}-unit"] = _("Enter the unit (for example L, meal, night).")
    code: str | None = None
    try:
        code = money.currency(row.currency)
    except InputError:
        errors[f"{key}-currency"] = _("Enter a currency code such as USD, KRW or JPY.")
    price: int | None = None
    if not row.unit_price:
        errors[f"{key}-unit_price"] = _("Enter the unit price.")
    elif code is not None:
        try:
            price = money.parse_amount(row.unit_price, code, "unit price")
            if price < 0:
                errors[f"{key}-unit_price"] = _("The unit price cannot be negative.")
        except InputError:
            errors[f"{key}-unit_price"] = _(
                "Enter the price as a number with at most %(places)s decimals for %(currency)s."
            ) % {"places": money.exponent(code), "currency": code}
    if any(k.startswith(f"{key}-") for k in errors):
        return None
    assert quantity is not None and price is not None and code is not None
    return Line(
        no=no,
        category=row.category,
        quantity=quantity,
        unit=row.unit,
        unit_price=price,
        currency=code,
        description=row.description,
    )


def _problem_text(p: R.Problem) -> str:
    num = R.RULE_NUMBERS.get(p.rule, "")
    return f"{num} {p.rule}: {p.message}" + (f" [{p.article}]" if p.article else "")


def validate(ctx: Ctx, form: OrderForm) -> dict[str, Any] | None:
    """Checks the whole form and returns the arguments of `service.create`, or None with every
    problem in `form.errors`, keyed by the field it concerns: malformed fields first, then the
    rules R10 (the partner: no agreement in force on the date) and R11 (the purpose, or the
    category of the line it names), as `rules.choose_agreement` finds them."""
    errors = form.errors
    me = ctx.node.party
    world = ctx.world()
    if form.side not in ("requester", "supplier"):
        errors["side"] = _("Choose whether %(party)s requests or supplies.") % {"party": me}
    if not form.partner:
        errors["partner"] = _("Choose the partner.")
    elif form.partner == me or form.partner not in world.parties:
        errors["partner"] = _("Choose another party than %(party)s.") % {"party": me}
    if form.purpose not in PURPOSES:
        errors["purpose"] = _("Choose a purpose.")
    day: date | None = None
    try:
        day = date.fromisoformat(form.order_date)
    except ValueError:
        errors["order_date"] = _("Enter the order date as YYYY-MM-DD.")
    if form.settlement not in METHODS:
        errors["settlement"] = _("Choose a settlement method.")
    registry = ctx.node.world()[1].registry
    if form.facility and form.facility not in {f.id for f in registry.facilities}:
        errors["facility"] = _("Choose a facility from the list, or none.")
    lines: list[Line] = []
    for row in form.lines:
        if row.blank():
            continue
        ln = _line(row, len(lines) + 1, errors)
        if ln is not None:
            lines.append(ln)
    if not any(not r.blank() for r in form.lines):
        errors["lines"] = _("Add at least one line.")
    if errors:
        return None
    assert day is not None
    requester, supplier = (me, form.partner) if form.side == "requester" else (form.partner, me)
    _ag, problems = R.choose_agreement(
        registry, requester, supplier, day, form.purpose, tuple(lines)
    )
    kept = [r for r in form.lines if not r.blank()]
    for p in problems:
        if p.line is not None and 0 < p.line <= len(kept):
            key = f"line-{kept[p.line - 1].index}-category"
        elif p.rule == R.LOGISTICS_AGREEMENT:
            key = "partner"
        else:
            key = "purpose"
        errors[key] = (errors[key] + " " if key in errors else "") + _problem_text(p)
        form.refused = True
    if errors:
        return None
    return {
        "requester": requester,
        "supplier": supplier,
        "purpose": form.purpose,
        "order_date": day,
        "settlement": form.settlement,
        "lines": tuple(lines),
        "exercise": form.exercise or None,
        "facility": form.facility or None,
        "fund": form.fund or None,
    }


def _render_form(ctx: Ctx, form: OrderForm, status: int = 200) -> Response:
    registry = ctx.node.world()[1].registry
    me = ctx.node.party
    return ctx.render(
        "order_new.html",
        status=status,
        section="orders",
        form=form,
        partners=sorted(
            (code for code in ctx.world().parties if code != me),
        ),
        party_names={c: p.name for c, p in ctx.world().parties.items()},
        purposes=PURPOSES,
        methods=METHODS,
        categories=[c for c in CATEGORIES if c != "weapons"],
        facilities=sorted(registry.facilities, key=lambda f: f.id),
        max_lines=MAX_LINES,
    )


@page
def new_order_page(ctx: Ctx) -> Response:
    """GET: the empty form. POST `action=add-line`: the same form with one more line. POST
    `action=create`: raises the order as the signed-in user and goes to it, or shows every
    problem next to its field (status 400 for malformed fields, 422 for a rule's refusal)."""
    require_logistics(ctx)
    if ctx.request.method == "GET":
        form = OrderForm(
            order_date=ctx.node.today().isoformat(),
            lines=[LineRow(i) for i in range(1, 4)],
        )
        return _render_form(ctx, form)
    form = _read_form(ctx)
    if ctx.param("action") == "add-line":
        if len(form.lines) < MAX_LINES:
            form.lines.append(LineRow(len(form.lines) + 1))
        return _render_form(ctx, form)
    args = validate(ctx, form)
    if args is None:
        return _render_form(ctx, form, status=422 if form.refused else 400)
    registry = ctx.node.world()[1].registry
    try:
        state = service.create(
            ctx.node.store, registry, by=ctx.user.name, node_party=ctx.node.party, **args
        )
    except (InputError, R.OrderRefused) as exc:
        form.errors["form"] = str(exc)
        return _render_form(ctx, form, status=exc.http_status)
    return ctx.redirect(f"/orders/{quote(state.id, safe='')}?done=create")


__all__ = ["new_order_page", "validate"]
