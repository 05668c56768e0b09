"""Orders in the browser: one order, each step of its workflow, its documents (the new-order
form is `accord.web.order_form`).

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
from dataclasses import dataclass
from datetime import date
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


__all__ = ["document_download", "order_page", "require_logistics", "step_action"]
