"""Orders in the browser: raise one, take each step of its workflow, download its documents.

Thin forms over `accord.logistics.service` (the CLI's `accord orders …` and the API's
`/orders`), which validates every step (R10–R12 and the workflow, PRODUCT.md §3) and records it
in the audit trail. What this module adds is who may act, decided from the session only:

- reading an order and downloading its documents: a signed-in user of this node, on an order to
  which the node's party is a party (otherwise 404, as if it did not exist);
- taking a step: the same, with the logistics role (403 otherwise; PRODUCT.md §1);
- the actor of every step is the signed-in user, never a form field. The receipt is signed by the
  user who records it, so separation of duties (R12: who ordered never signs the receipt) holds
  on the person signed in.

A refused or malformed step re-shows the page with the reason next to the form that caused it and
stores nothing (the service raises before writing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.responses import Response

from accord.errors import Forbidden, InputError, NotFound
from accord.i18n import N_, _
from accord.i18n import number_text as digits
from accord.labels import category as category_word
from accord.labels import method as method_word
from accord.logistics import ledger as order_ledger
from accord.logistics import machine, money, service
from accord.logistics import rules as R
from accord.logistics.model import DOCUMENT_KINDS, METHODS, Line, OrderState, Transition
from accord.registry.model import CATEGORIES, PURPOSES
from accord.web import ledger as ledger_views
from accord.web.pages import Ctx, page, upload_page

#: The role that takes order steps (PRODUCT.md §1: the logistics officer).
LOGISTICS = "logistics"
#: The steps offered on the order page, in workflow order.
STEPS = ("accept", "reject", "deliver", "invoice", "settle", "attach", "close", "cancel")
#: The heading of each step's form on the order page (what the officer is about to do).
STEP_TITLES = {
    "accept": N_("Accept the request"),
    "reject": N_("Reject the request"),
    "deliver": N_("Record the receipt"),
    "invoice": N_("Record the invoice"),
    "settle": N_("Record a settlement"),
    "attach": N_("Attach a document"),
    "close": N_("Close the order"),
    "cancel": N_("Cancel the order"),
}
MAX_LINES = 50
#: A document's largest size from the browser (bytes); the API allows the same order of size.
MAX_DOCUMENT = 6 * 1024 * 1024


def may_act(ctx: Ctx) -> bool:
    """True when the signed-in user takes order steps (the logistics role)."""
    return LOGISTICS in ctx.user.roles


def require_logistics(ctx: Ctx) -> None:
    """Raises Forbidden (403) unless the signed-in user has the logistics role."""
    if not may_act(ctx):
        raise Forbidden(_("Only logistics officers raise orders and take their steps."))


def load_order(ctx: Ctx, order_id: str) -> tuple[OrderState, list[Transition]]:
    """Returns the order and its history when this node's party is its requester or supplier;
    NotFound (404) otherwise, the same answer as for an order that does not exist."""
    state, transitions = service.get(ctx.node.store, order_id)
    if ctx.node.party not in (state.order.requester, state.order.supplier):
        raise NotFound(_("%(id)s is not a known order") % {"id": repr(order_id)})
    return state, transitions


# ---- the new order form ------------------------------------------------------------------------


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
        ruled = any(
            R.LOGISTICS_AGREEMENT in e or R.LOGISTICS_SCOPE in e for e in form.errors.values()
        )
        return _render_form(ctx, form, status=422 if ruled else 400)
    registry = ctx.node.world()[1].registry
    try:
        state = service.create(
            ctx.node.store, registry, by=ctx.user.name, node_party=ctx.node.party, **args
        )
    except (InputError, R.OrderRefused) as exc:
        form.errors["form"] = str(exc)
        return _render_form(ctx, form, status=exc.http_status)
    return ctx.redirect(f"/orders/{quote(state.id, safe='')}?done=create")


# ---- the order page and its steps --------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One step of the history as read: when, what, by whom, in a sentence, and the document it
    attached (kind, sha256, file name) if any."""

    seq: int
    date: date
    kind: str
    by: str
    text: str
    notes: tuple[str, ...] = ()
    document: tuple[str, str, str] | None = None


def _amounts_text(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    return ", ".join(f"{digits(str(v))} {c}" for c, v in sorted(raw.items()))


def event(t: Transition, lines: dict[int, Line]) -> Event:
    """Returns one transition as a sentence in the reader's language (the history's row)."""
    d = t.data
    notes: list[str] = []
    doc = None
    if t.kind == "create":
        text = _("raised the order")
    elif t.kind == "accept":
        method = str(d.get("method", ""))
        text = _("accepted it: settlement by %(method)s") % {"method": method_word(method)}
        anchor, period = str(d.get("anchor", "")), str(d.get("period", ""))
        if anchor == "invoice":
            notes.append(
                _("due %(period)s after invoice") % {"period": ledger_views.period_text(period)}
            )
        elif anchor == "delivery":
            notes.append(
                _("due %(period)s after delivery") % {"period": ledger_views.period_text(period)}
            )
    elif t.kind in ("reject", "cancel"):
        words = {"reject": _("rejected it"), "cancel": _("cancelled it")}
        text = words[t.kind]
        notes.append(_("Reason: %(reason)s") % {"reason": d.get("reason", "")})
    elif t.kind == "amend":
        text = _("amended the lines")
        if d.get("note"):
            notes.append(str(d["note"]))
    elif t.kind == "deliver":
        text = _("recorded the receipt, signed by %(signer)s") % {"signer": d.get("signed_by", "")}
        received = d.get("received")
        for key, qty in sorted((received or {}).items(), key=lambda kv: int(kv[0])):
            ln = lines.get(int(key))
            if ln is None:
                continue
            notes.append(
                _("line %(no)s (%(category)s): %(received)s of %(ordered)s %(unit)s received")
                % {
                    "no": key,
                    "category": category_word(ln.category),
                    "received": digits(str(qty)),
                    "ordered": digits(money.quantity_text(ln.quantity)),
                    "unit": ln.unit,
                }
            )
    elif t.kind == "invoice":
        text = _("recorded the invoice: %(amounts)s") % {"amounts": _amounts_text(d.get("amounts"))}
        if d.get("reference"):
            notes.append(_("Reference: %(reference)s") % {"reference": d["reference"]})
    elif t.kind == "settle":
        text = _("recorded a settlement of %(amount)s %(currency)s by %(method)s") % {
            "amount": digits(str(d.get("amount", ""))),
            "currency": d.get("currency", ""),
            "method": method_word(str(d.get("method", ""))),
        }
        if d.get("note"):
            notes.append(str(d["note"]))
    elif t.kind == "attach":
        kind = str(d.get("kind", ""))
        text = _("attached the %(kind)s document") % {
            "kind": _(ledger_views.DOCUMENT_KINDS[kind])
            if kind in ledger_views.DOCUMENT_KINDS
            else kind
        }
        doc = (kind, str(d.get("sha256", "")), str(d.get("filename", "")))
    elif t.kind == "close":
        text = _("closed the order")
    else:
        text = t.kind
    return Event(t.seq, t.date, t.kind, t.by, text, tuple(notes), doc)


def _steps(state: OrderState) -> list[str]:
    """Returns the steps the order's state allows, in workflow order."""
    return [s for s in STEPS if state.status in machine.ALLOWED[s]]


def render_order(
    ctx: Ctx,
    state: OrderState,
    transitions: list[Transition],
    *,
    status: int = 200,
    failed: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """Renders the order page: header, amounts, lines, documents, the history as a timeline and,
    for a logistics officer, a form per step the order's state allows. `failed`/`error` put a
    refused step's reason next to its form, with the values typed (`values`)."""
    data = service.order_json(state, transitions)
    lines = {ln.no: ln for ln in state.lines}
    acting = may_act(ctx)
    return ctx.render(
        "order.html",
        status=status,
        section="orders",
        order=data,
        lines=data["lines"],
        events=[event(t, lines) for t in transitions],
        amounts=data["amounts"],
        amount_rows=ledger_views.AMOUNT_ROWS,
        currencies=state.currencies(),
        ordered_on=state.order.order_date,
        deadline=state.deadline,
        deadline_rule=ledger_views.deadline_rule(state),
        document_kinds=ledger_views.DOCUMENT_KINDS,
        acting=acting,
        steps=_steps(state) if acting else [],
        step_titles={k: _(v) for k, v in STEP_TITLES.items()},
        orderer=ctx.user.name in state.orderers,
        methods=METHODS,
        kinds=DOCUMENT_KINDS,
        missing_kinds=[k for k in DOCUMENT_KINDS if k not in state.document_kinds()],
        open_amounts={c: money.format_amount(v, c) for c, v in state.open.items() if v > 0},
        delivered={c: money.format_amount(v, c) for c, v in sorted(state.delivered.items())},
        failed=failed,
        error=error,
        values=values or {},
        done=ctx.param("done") if ctx.request.method == "GET" else "",
    )


@page
def order_page(ctx: Ctx) -> Response:
    """One order: header, lines, amounts, documents, its history as a timeline and the steps the
    signed-in user may take."""
    state, transitions = load_order(ctx, str(ctx.request.path_params["order_id"]))
    return render_order(ctx, state, transitions)


def _day(ctx: Ctx) -> date:
    text = ctx.param("date")
    if not text:
        return ctx.node.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(_("Enter the date as YYYY-MM-DD.")) from None


def _amount(ctx: Ctx, name: str, currency: str) -> int:
    text = ctx.param(name)
    try:
        return money.parse_amount(text, currency, name)
    except InputError:
        raise InputError(
            _("Enter the amount in %(currency)s as a number with at most %(places)s decimals.")
            % {"currency": currency, "places": money.exponent(currency)}
        ) from None


def _take(ctx: Ctx, state: OrderState, step: str) -> OrderState:
    """Takes `step` on the order as the signed-in user with the form's values; raises the
    service's refusal (nothing stored) or InputError for a malformed field."""
    store, registry = ctx.node.store, ctx.node.world()[1].registry
    oid, by, on = state.order.id, ctx.user.name, _day(ctx)
    if step == "accept":
        method = ctx.param("settlement") or None
        if method is not None and method not in METHODS:
            raise InputError(_("Choose a settlement method."))
        return service.accept(store, registry, oid, by=by, on=on, method=method)
    if step in ("reject", "cancel"):
        reason = ctx.param("reason")
        if not reason:
            raise InputError(_("Give the reason."))
        op = service.reject if step == "reject" else service.cancel
        return op(store, registry, oid, reason=reason[:200], by=by, on=on)
    if step == "deliver":
        received = {}
        for ln in state.lines:
            text = ctx.param(f"received-{ln.no}")
            if not text:
                raise InputError(_("Enter the quantity received on every line."))
            received[str(ln.no)] = text
        # The receipt is signed by the user recording it: never a typed name.
        return service.deliver(store, registry, oid, signed_by=by, by=by, received=received, on=on)
    if step == "invoice":
        amounts = {c: _amount(ctx, f"amount-{c}", c) for c in sorted(state.delivered)}
        return service.invoice(
            store,
            registry,
            oid,
            by=by,
            amounts=amounts,
            on=on,
            reference=ctx.param("reference")[:200] or None,
        )
    if step == "settle":
        currency = ctx.param("currency")
        if currency not in state.open:
            raise InputError(_("Choose a currency that is open on this order."))
        return service.settle(
            store,
            registry,
            oid,
            method=state.method,
            amount=_amount(ctx, "amount", currency),
            currency=currency,
            by=by,
            on=on,
            note=ctx.param("note")[:200] or None,
        )
    if step == "attach":
        kind = ctx.param("kind")
        if kind not in DOCUMENT_KINDS:
            raise InputError(_("Choose the kind of document."))
        upload = ctx.form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InputError(_("Choose the file to attach."))
        content = upload.file.read(MAX_DOCUMENT + 1)
        if not content:
            raise InputError(_("The file is empty."))
        if len(content) > MAX_DOCUMENT:
            raise InputError(
                _("The file is larger than %(size)s MB.") % {"size": MAX_DOCUMENT // 1024 // 1024}
            )
        name = re.sub(r"[\x00-\x1f/\\]", "_", upload.filename)[-200:]
        return service.attach(
            store, registry, oid, kind=kind, content=content, filename=name, by=by, on=on
        )
    if step == "close":
        return service.close(store, registry, oid, by=by, on=on)
    raise NotFound(_("%(step)s is not a step of an order") % {"step": repr(step)})


@upload_page
def step_action(ctx: Ctx) -> Response:
    """POST one step (`/orders/{id}/{step}`): 403 without the logistics role, 404 for an order
    that is not this node's, otherwise the step as the signed-in user, then back to the order;
    a refusal re-shows the order with the reason at the step's form (400, 409 or 422)."""
    require_logistics(ctx)
    state, transitions = load_order(ctx, str(ctx.request.path_params["order_id"]))
    step = str(ctx.request.path_params["step"])
    if step not in STEPS:
        raise NotFound(_("%(step)s is not a step of an order") % {"step": repr(step)})
    try:
        after = _take(ctx, state, step)
    except (InputError, R.OrderRefused) as exc:
        if isinstance(exc, NotFound):
            raise
        values = {k: v for k, v in ctx.form.items() if isinstance(v, str) and k != "csrf"}
        return render_order(
            ctx,
            state,
            transitions,
            status=exc.http_status,
            failed=step,
            error=str(exc),
            values=values,
        )
    return ctx.redirect(f"/orders/{quote(after.order.id, safe='')}?done={step}")


@page
def document_download(ctx: Ctx) -> Response:
    """GET one attached document (by its SHA-256), with the order page's authority: the bytes
    as an attachment, never rendered by the browser (`nosniff`, octet-stream)."""
    order_id = str(ctx.request.path_params["order_id"])
    sha = str(ctx.request.path_params["sha256"]).lower()
    load_order(ctx, order_id)
    with ctx.node.store.read() as conn:
        docs = order_ledger.load_documents(conn, order_id)
    kind = ctx.param("kind")
    doc = next((d for d in docs if d.sha256 == sha and (not kind or d.kind == kind)), None)
    if doc is None:
        raise NotFound(_("This order has no such document."))
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", doc.filename) or "document"
    return Response(
        doc.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(doc.filename, safe='')}",
        },
    )


__all__ = ["document_download", "new_order_page", "order_page", "step_action"]
