"""Logistics commands: `accord orders …` (the order workflow, exchange and reconciliation) and
`accord ledger …` (balances, ageing, the annual report). Thin: all logic is in accord.logistics."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from accord.cli.app import app, console, invocation, parse_date, print_json
from accord.errors import InputError, Refused
from accord.logistics.model import DOCUMENT_KINDS, METHODS, STATUSES, OrderState

orders_app = typer.Typer(
    help="Mutual logistics support orders under ACSA/MLSA agreements (R10–R12).",
    no_args_is_help=True,
)
ledger_app = typer.Typer(
    help="Balances, ageing and the annual report of logistics orders.", no_args_is_help=True
)
app.add_typer(orders_app, name="orders")
app.add_typer(ledger_app, name="ledger")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Date of the step (YYYY-MM-DD).", show_default="today")
]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Who takes the step: must be you (another name is refused).",
        show_default="$ACCORD_USER, else the OS user name",
    ),
]
IdArg = Annotated[str, typer.Argument(help="The order id.")]
LineOpt = Annotated[
    list[str],
    typer.Option(
        "--line", help="CATEGORY:QUANTITY:UNIT:UNIT_PRICE:CURRENCY[:DESCRIPTION], repeatable."
    ),
]


def _caller() -> str:
    """Returns who is running the command: `$ACCORD_USER`, else the OS user name."""
    env = os.environ.get("ACCORD_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        raise InputError("--by: no acting person given and no user name found") from None


def _by(by: str | None) -> str:
    """Returns the person a step is recorded under: the one running the command. `--by` may
    name that person (as documented) but never someone else: separation of duties (R12) compares
    these names, so a typed name must not stand in for another person (InputError, exit 2)."""
    caller = _caller()
    if by and by.strip() != caller:
        raise InputError(
            f"--by {by!r}: steps are recorded under the person running the command ({caller}); "
            f"{by} takes a step by running it as themselves (ACCORD_USER={by})"
        )
    return caller


def _method(value: str, option: str) -> str:
    if value not in METHODS:
        raise InputError(f"{option}: {value!r} is not one of {', '.join(METHODS)}")
    return value


def _run(json: bool, op: Callable[[], OrderState]) -> None:
    """Runs one order operation and prints the order; a refusal with --json is printed as an
    object `{refused: true, rules, message, problems}` and exits 1."""
    from accord.logistics import service
    from accord.logistics.rules import OrderRefused

    try:
        state = op()
    except Refused as exc:
        if not json:
            raise
        problems = [p.to_json() for p in exc.problems] if isinstance(exc, OrderRefused) else []
        print_json({"refused": True, "rules": exc.rules, "message": str(exc), "problems": problems})
        raise typer.Exit(1) from None
    if json:
        print_json(service.order_json(state))
    else:
        _print_order(state)


def _print_order(s: OrderState) -> None:
    from accord.logistics import money

    o = s.order
    console.print(f"[bold]{o.id}[/]  {s.status}")
    console.print(
        f"{o.requester} requests from {o.supplier} under {o.agreement}"
        + (f" / {o.arrangement}" if o.arrangement else "")
        + f"; {o.purpose}"
        + (f" ({o.exercise})" if o.exercise else "")
        + f"; ordered {o.order_date.isoformat()}"
        + (f"; at {o.facility}" if o.facility else "")
        + (f"; fund {o.fund}" if o.fund else "")
    )
    fixed = "fixed" if s.method_fixed else "requested"
    due = f"; deadline {s.deadline.isoformat()}" if s.deadline else ""
    console.print(f"settlement: {s.method} ({fixed}){due}")
    table = Table()
    for col in ("#", "category", "description", "qty", "unit", "unit price", "amount", "received"):
        table.add_column(col)
    for ln in s.lines:
        table.add_row(
            str(ln.no),
            ln.category,
            ln.description,
            money.quantity_text(ln.quantity),
            ln.unit,
            money.money_text(ln.unit_price, ln.currency),
            money.money_text(ln.amount, ln.currency),
            money.quantity_text(s.received[ln.no]) if ln.no in s.received else "",
        )
    console.print(table)
    for cur, amount in s.open.items():
        console.print(
            f"{cur}: due {money.format_amount(s.due.get(cur, 0), cur)}, settled "
            f"{money.format_amount(s.settled.get(cur, 0), cur)}, open "
            f"{money.format_amount(amount, cur)}"
        )
    if s.documents:
        console.print("documents: " + ", ".join(f"{k} {h[:12]}… {n}" for k, h, n in s.documents))


@orders_app.command("create")
def create_cmd(
    requester: Annotated[str, typer.Option("--requester", help="Requesting party, e.g. KOR.")],
    supplier: Annotated[str, typer.Option("--supplier", help="Supplying party, e.g. USA.")],
    purpose: Annotated[str, typer.Option("--purpose", help="exercise, peacekeeping, …")],
    on: Annotated[str, typer.Option("--date", help="Order date (YYYY-MM-DD).")],
    settlement: Annotated[
        str, typer.Option("--settlement", help="cash, replacement-in-kind or equal-value-exchange.")
    ],
    line: LineOpt,
    facility: Annotated[str | None, typer.Option("--facility", help="Delivery facility.")] = None,
    exercise: Annotated[
        str | None, typer.Option("--exercise", help="Exercise or operation name.")
    ] = None,
    agreement: Annotated[
        str | None,
        typer.Option("--agreement", help="Agreement id.", show_default="the one in force"),
    ] = None,
    arrangement: Annotated[
        str | None, typer.Option("--arrangement", help="Implementing arrangement id.")
    ] = None,
    fund: Annotated[
        str | None, typer.Option("--fund", help="Appropriation / fund code for reports.")
    ] = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Raise an order; refused (exit 1) naming R10/R11 when no agreement covers it."""
    from accord.logistics import service

    n = invocation()
    lines = service.parse_lines(line)
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.create(
            n.store,
            n.registry(),
            requester=requester.strip().upper(),
            supplier=supplier.strip().upper(),
            purpose=purpose.strip().lower(),
            order_date=day,
            settlement=_method(settlement, "--settlement"),
            lines=lines,
            by=_by(by),
            agreement=agreement,
            arrangement=arrangement,
            facility=facility,
            exercise=exercise,
            fund=fund,
            node_party=n.party(),
        ),
    )


@orders_app.command("accept")
def accept_cmd(
    order_id: IdArg,
    settlement: Annotated[
        str | None,
        typer.Option("--settlement", help="Settlement method, if not the one requested."),
    ] = None,
    on: DateOpt = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Accept an order: fixes its settlement method and deadline rule (R12)."""
    from accord.logistics import service

    n = invocation()
    method = _method(settlement, "--settlement") if settlement else None
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.accept(n.store, n.registry(), order_id, by=_by(by), on=day, method=method),
    )


ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded with the step).")]


@orders_app.command("reject")
def reject_cmd(
    order_id: IdArg, reason: ReasonOpt, on: DateOpt = None, by: ByOpt = None, json: JsonOpt = False
) -> None:
    """Reject a requested order."""
    from accord.logistics import service

    n = invocation()
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.reject(n.store, n.registry(), order_id, reason=reason, by=_by(by), on=day),
    )


@orders_app.command("cancel")
def cancel_cmd(
    order_id: IdArg, reason: ReasonOpt, on: DateOpt = None, by: ByOpt = None, json: JsonOpt = False
) -> None:
    """Cancel an order that has not been delivered."""
    from accord.logistics import service

    n = invocation()
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.cancel(n.store, n.registry(), order_id, reason=reason, by=_by(by), on=day),
    )


@orders_app.command("amend")
def amend_cmd(
    order_id: IdArg,
    line: LineOpt,
    note: Annotated[str | None, typer.Option("--note", help="What the amendment is for.")] = None,
    on: DateOpt = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Replace an undelivered order's lines (all of them); an accepted order needs accepting again."""
    from accord.logistics import service

    n = invocation()
    lines = service.parse_lines(line)
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.amend(
            n.store, n.registry(), order_id, lines=lines, by=_by(by), on=day, note=note
        ),
    )


@orders_app.command("deliver")
def deliver_cmd(
    order_id: IdArg,
    signed_by: Annotated[str, typer.Option("--signed-by", help="Who signed the receipt.")],
    received: Annotated[
        list[str] | None,
        typer.Option(
            "--received",
            help="LINE-NO-or-CATEGORY:QTY actually received; lines not named arrived in full.",
        ),
    ] = None,
    on: DateOpt = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Record the signed receipt (never signed by the person who ordered)."""
    from accord.logistics import service

    n = invocation()
    got: dict[str, str] = {}
    for spec in received or []:
        key, sep, qty = spec.rpartition(":")
        if not sep or not key:
            raise InputError(f"--received {spec!r}: expected LINE-NO-or-CATEGORY:QTY")
        got[key] = qty
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.deliver(
            n.store, n.registry(), order_id, signed_by=signed_by, by=_by(by), received=got, on=day
        ),
    )


@orders_app.command("invoice")
def invoice_cmd(
    order_id: IdArg,
    amount: Annotated[
        list[str] | None,
        typer.Option("--amount", help="AMOUNT:CURRENCY billed.", show_default="the value received"),
    ] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="Invoice number.")] = None,
    on: DateOpt = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Record the supplier's invoice (cash deadlines run from its date)."""
    from accord.logistics import money, service

    n = invocation()
    amounts: dict[str, int] = {}
    for spec in amount or []:
        minor, cur = money.parse_money(spec)
        amounts[cur] = minor
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.invoice(
            n.store,
            n.registry(),
            order_id,
            by=_by(by),
            amounts=amounts,
            on=day,
            reference=reference,
        ),
    )


@orders_app.command("settle")
def settle_cmd(
    order_id: IdArg,
    method: Annotated[str, typer.Option("--method", help="The method fixed at acceptance.")],
    amount: Annotated[str, typer.Option("--amount", help="AMOUNT:CURRENCY, e.g. 1250.00:USD.")],
    note: Annotated[str | None, typer.Option("--note", help="Payment or goods reference.")] = None,
    on: DateOpt = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Record one settlement step: a payment, a replacement in kind or an equal-value exchange."""
    from accord.logistics import money, service

    n = invocation()
    minor, cur = money.parse_money(amount)
    m = _method(method, "--method")
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.settle(
            n.store,
            n.registry(),
            order_id,
            method=m,
            amount=minor,
            currency=cur,
            by=_by(by),
            on=day,
            note=note,
        ),
    )


@orders_app.command("attach")
def attach_cmd(
    order_id: IdArg,
    file: Annotated[Path, typer.Argument(help="The document file.")],
    kind: Annotated[str, typer.Option("--kind", help="order, receipt, invoice or settlement.")],
    on: DateOpt = None,
    by: ByOpt = None,
    json: JsonOpt = False,
) -> None:
    """Store a source document (its bytes and SHA-256) on the order."""
    from accord.logistics import service

    if kind not in DOCUMENT_KINDS:
        raise InputError(f"--kind: {kind!r} is not one of {', '.join(DOCUMENT_KINDS)}")
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: {exc.strerror}") from None
    n = invocation()
    day = parse_date(on, "--date")
    _run(
        json,
        lambda: service.attach(
            n.store,
            n.registry(),
            order_id,
            kind=kind,
            content=content,
            filename=file.name,
            by=_by(by),
            on=day,
        ),
    )


@orders_app.command("close")
def close_cmd(order_id: IdArg, on: DateOpt = None, by: ByOpt = None, json: JsonOpt = False) -> None:
    """Close an order: only with its receipt, its documents and full settlement (R12)."""
    from accord.logistics import service

    n = invocation()
    day = parse_date(on, "--date")
    _run(json, lambda: service.close(n.store, n.registry(), order_id, by=_by(by), on=day))


@orders_app.command("show")
def show_cmd(order_id: IdArg, json: JsonOpt = False) -> None:
    """Show an order with its lines, amounts, documents and every transition."""
    from accord.logistics import service

    state, transitions = service.get(invocation().store, order_id)
    if json:
        print_json(service.order_json(state, transitions))
        return
    _print_order(state)
    table = Table(title="Transitions", title_justify="left")
    for col in ("#", "date", "step", "by", "details"):
        table.add_column(col)
    for t in transitions:
        details = "" if t.kind == "create" else orjson.dumps(dict(t.data)).decode()
        table.add_row(str(t.seq), t.date.isoformat(), t.kind, t.by, details)
    console.print(table)


@orders_app.command("list")
def list_cmd(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only orders in this status.")
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="Only orders this party requests or supplies.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List orders, newest first, with their open amounts."""
    from accord.logistics import money, service

    for s in status or []:
        if s not in STATUSES:
            raise InputError(f"--status: {s!r} is not one of {', '.join(STATUSES)}")
    rows = service.list_orders(invocation().store, status or [], party.upper() if party else None)
    for r in rows:
        r["order_date"] = r["order_date"].isoformat()
        r["deadline"] = r["deadline"].isoformat() if r["deadline"] else None
        r["open"] = {c: money.format_amount(v, c) for c, v in sorted(r["open"].items())}
    if json:
        print_json(rows)
        return
    table = Table()
    for col in ("id", "date", "from → to", "purpose", "status", "method", "deadline", "open"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"],
            r["order_date"],
            f"{r['supplier']} → {r['requester']}",
            r["purpose"],
            r["status"],
            r["method"],
            r["deadline"] or "",
            " ".join(f"{v} {c}" for c, v in r["open"].items()),
        )
    console.print(table)
    console.print(f"{len(rows)} order(s)")


@orders_app.command("export")
def export_cmd(
    peer: Annotated[str | None, typer.Option("--peer", help="Only orders with this party.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Write orders with their transitions and documents as JSON for the other node."""
    from accord.logistics import exchange

    n = invocation()
    data = exchange.export(n.store, n.party(), peer.upper() if peer else None)
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")


def _read_export(file: Path) -> Any:
    try:
        return orjson.loads(file.read_bytes())
    except OSError as exc:
        raise InputError(f"{file}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{file}: not JSON: {exc}") from None


@orders_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A peer's `accord orders export`.")],
    json: JsonOpt = False,
) -> None:
    """Ingest a peer's export (idempotent); exit 1 when an order conflicts or is refused."""
    from accord.logistics import exchange

    n = invocation()
    result = exchange.import_data(n.store, n.registry(), _read_export(file))
    if json:
        print_json(result.to_json())
    else:
        console.print(
            f"{len(result.added_orders)} order(s) added, {result.appended} transition(s) "
            f"appended, {len(result.unchanged)} unchanged, {len(result.conflicts)} conflict(s)"
        )
        for c in result.conflicts:
            console.print(f"  {c['order']}: {c['reason']}")
    if result.conflicts:
        raise typer.Exit(1)


@orders_app.command("reconcile")
def reconcile_cmd(
    peer: Annotated[str, typer.Argument(help="The peer party, e.g. USA.")],
    file: Annotated[Path, typer.Option("--file", help="The peer's export.")],
    json: JsonOpt = False,
) -> None:
    """List every difference between our orders with PEER and its export; exit 1 if any."""
    from accord.logistics import exchange

    n = invocation()
    diffs = exchange.reconcile(n.store, peer.upper(), _read_export(file), n.party())
    if json:
        print_json({"peer": peer.upper(), "identical": not diffs, "differences": diffs})
    elif not diffs:
        console.print(f"identical: our orders with {peer.upper()} match its export")
    else:
        table = Table(title=f"Differences with {peer.upper()}", title_justify="left")
        for col in ("order", "what", "ours", "theirs"):
            table.add_column(col)
        for d in diffs:
            table.add_row(d["order"], d["what"], _cell(d["ours"]), _cell(d["theirs"]))
        console.print(table)
        console.print(f"{len(diffs)} difference(s)")
    if diffs:
        raise typer.Exit(1)


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def _pov_party() -> str:
    party = invocation().party()
    if not party:
        raise InputError("this node has no party: run `accord init --party CODE` first")
    return party


def _emit(
    rows: list[dict[str, Any]], columns: list[str], json: bool, csv: bool, title: str
) -> None:
    from accord.logistics import reports

    if json:
        print_json(rows)
    elif csv:
        sys.stdout.write(reports.to_csv(rows, columns))
    else:
        table = Table(title=title, title_justify="left")
        for col in columns:
            table.add_column(col)
        for r in rows:
            table.add_row(*(str(r[c]) for c in columns))
        console.print(table)


@ledger_app.command("balances")
def balances_cmd(
    party: Annotated[
        str | None, typer.Option("--party", help="Only the balance with this partner.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Balance on this date (YYYY-MM-DD).", show_default="now"),
    ] = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Receivables and payables per partner and currency, from this node's point of view."""
    from accord import clock
    from accord.logistics import reports

    me = _pov_party()
    day = parse_date(at) if at else clock.fixed(invocation().settings.date)
    rows = reports.present(
        reports.balances(invocation().store, me, party.upper() if party else None, day),
        reports.BALANCE_AMOUNTS,
    )
    cols = list(reports.BALANCE_COLUMNS)
    _emit(rows, cols, json, csv, f"Balances of {me}" + (f" on {day.isoformat()}" if day else ""))


@ledger_app.command("ageing")
def ageing_cmd(
    at: Annotated[
        str | None,
        typer.Option("--at", help="Count days overdue on this date.", show_default="today"),
    ] = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Open amounts by days overdue (current, 1-29, 30-89, 90-179, 180-364, 365+)."""
    from accord.logistics import reports

    me = _pov_party()
    day = parse_date(at)
    rows = reports.present(reports.ageing(invocation().store, me, day), reports.AGEING_AMOUNTS)
    cols = list(reports.AGEING_COLUMNS)
    _emit(rows, cols, json, csv, f"Ageing of {me} on {day.isoformat()}")


@ledger_app.command("report")
def report_cmd(
    year: Annotated[int, typer.Option("--year", help="Calendar year of the order dates.")],
    json: JsonOpt = False,
    csv: CsvOpt = False,
) -> None:
    """Annual report by partner, agreement and fund: acquisitions and transfers (domain.md §3.6)."""
    from accord.logistics import reports

    me = _pov_party()
    rows = reports.present(reports.annual(invocation().store, me, year), reports.ANNUAL_AMOUNTS)
    cols = list(reports.ANNUAL_COLUMNS)
    _emit(rows, cols, json, csv, f"Logistics report {year} of {me}")


@ledger_app.command("verify")
def verify_cmd(json: JsonOpt = False) -> None:
    """Replay every order's transitions and check the derived balances against them."""
    from accord.logistics import reports

    problems = reports.verify(invocation().store)
    if json:
        print_json({"ok": not problems, "problems": problems})
    elif problems:
        for p in problems:
            console.print(p)
    else:
        console.print("ok: every derived amount equals its transitions")
    if problems:
        raise typer.Exit(1)
