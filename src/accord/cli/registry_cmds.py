"""Registry commands: init, demo, import, export, parties, agreements, notes, consents."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from accord.cli.app import (
    agreements_app,
    app,
    consents_app,
    console,
    invocation,
    notes_app,
    parse_date,
    parties_app,
    print_json,
)
from accord.errors import InputError, NotFound

if TYPE_CHECKING:
    from accord.registry import lifecycle
    from accord.registry.model import Agreement, Registry
    from accord.registry.repository import Changes

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="The date (YYYY-MM-DD).", show_default="today")
]


def _changes_text(changes: Changes) -> str:
    if changes.empty:
        return "no change: the store already holds these records"
    parts = []
    for label, group in (("added", changes.added), ("replaced", changes.replaced)):
        for kind, keys in group.items():
            parts.append(f"{len(keys)} {kind} {label}")
    return ", ".join(parts)


def _changes_json(changes: Changes) -> dict[str, Any]:
    return {"changed": not changes.empty, "added": changes.added, "replaced": changes.replaced}


@app.command("init")
def init_cmd(
    party: Annotated[str, typer.Option("--party", help="This node's party, e.g. KOR.")] = "KOR",
    json: JsonOpt = False,
) -> None:
    """Create or migrate the store and record this node's party."""
    from accord.registry import service

    n = invocation()
    code = party.strip().upper()
    service.init_node(n.store, code)
    empty = not n.registry().parties
    hint = (
        "the registry is empty: load the demonstration scenario with `accord demo`, or your "
        "own records with `accord import FILE`"
        if empty
        else None
    )
    if json:
        print_json({"party": code, "store": n.store.url, "registry_empty": empty, "next": hint})
    else:
        console.print(f"accord node for [bold]{code}[/] ready at {n.store.url}")
        if hint:
            console.print(f"Next: {hint}.")


@app.command("demo")
def demo_cmd(at: AtOpt = None, json: JsonOpt = False) -> None:
    """Load the demonstration scenario (idempotent) and print the agreement network on a date."""
    from accord.cli.node_cmds import host_user
    from accord.registry import service

    n = invocation()
    day = parse_date(at)
    changes = service.load_demo(n.store, actor=host_user())
    registry = n.registry()
    party = n.party()
    rows = _agreement_rows(registry, [], None, day, True)
    if json:
        print_json(
            {
                "party": party,
                "at": day.isoformat(),
                "loaded": _changes_json(changes),
                "agreements": rows,
            }
        )
        return
    console.print(f"Demonstration scenario: {_changes_text(changes)}.")
    console.print(f"This node: [bold]{party}[/]   store: {n.store.url}")
    _network_table(registry, rows, day)


def _network_table(registry: Registry, rows: list[dict[str, Any]], day: date) -> None:
    from accord.registry import lifecycle

    by_id = {a.id: a for a in registry.agreements}
    kinds = sorted({r["kind"] for r in rows})
    for kind in kinds:
        table = Table(title=f"{kind} — in force on {day.isoformat()}", title_justify="left")
        for col in ("parties", "agreement", "since", "status"):
            table.add_column(col, overflow="fold")
        for row in sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["parties"]):
            ag = by_id[row["id"]]
            since = lifecycle.force_date(ag)
            parties = "–".join(row["parties"]) + (f" via {ag.hub}" if ag.hub else "")
            table.add_row(
                parties,
                row["id"] + (" *" if ag.illustrative else ""),
                since.isoformat() if since else "",
                row["status"],
            )
        console.print(table)
    per_kind = {k: sum(1 for r in rows if r["kind"] == k) for k in kinds}
    summary = ", ".join(f"{v} {k}" for k, v in per_kind.items())
    console.print(
        f"{len(rows)} agreements in force ({summary}) among {len(registry.parties)} parties.\n"
        "* illustrative: a fact the public record leaves uncertain (see the scenario's sources)."
    )


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A registry file, YAML or JSON.")],
    json: JsonOpt = False,
) -> None:
    """Import a registry file, all or nothing; re-importing the same file changes nothing.

    The audit trail records the change under `cli:` and $ACCORD_USER, else the OS user."""
    from accord.cli.node_cmds import host_user
    from accord.registry import service

    changes = service.import_file(invocation().store, file, actor=host_user())
    if json:
        print_json(_changes_json(changes))
    else:
        console.print(f"{file}: {_changes_text(changes)}")


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    only: Annotated[
        list[str] | None, typer.Option("--only", help="parties, agreements, notes or consents.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Write the registry (or parts of it) as YAML or JSON that `accord import` reads back."""
    from accord.registry import files

    registry = invocation().registry()
    if only:
        registry = files.select(registry, only)
    text = files.dump(registry, fmt)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")


@parties_app.command("list")
def parties_list(json: JsonOpt = False) -> None:
    """List the parties and their classification levels."""
    registry = invocation().registry()
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "kind": p.kind.value,
            "levels": list(p.level_codes()),
            "illustrative": p.illustrative,
        }
        for p in registry.parties
    ]
    if json:
        print_json(rows)
        return
    table = Table()
    for col in ("code", "name", "kind", "levels (highest first)"):
        table.add_column(col)
    for p in registry.parties:
        name = p.name + (" *" if p.illustrative else "")
        table.add_row(p.code, name, p.kind.value, " ".join(p.level_codes()))
    console.print(table)


@parties_app.command("show")
def parties_show(code: str, json: JsonOpt = False) -> None:
    """Show one party and its national classification scheme."""
    registry = invocation().registry()
    party = next((p for p in registry.parties if p.code == code.upper()), None)
    if party is None:
        raise NotFound(f"{code!r} is not a known party")
    data = party.model_dump(mode="json")
    if json:
        print_json(data)
        return
    console.print(f"[bold]{party.code}[/] {party.name} ({party.kind.value})")
    for lv in party.levels:
        console.print(f"  {lv.code:<8} {lv.name}")
    if party.sources:
        console.print("sources: " + ", ".join(s.ref for s in party.sources))
    if party.note:
        console.print(party.note, markup=False)


def _agreement_rows(
    registry: Registry, parties: list[str], kind: str | None, day: date, only_in_force: bool
) -> list[dict[str, Any]]:
    from accord.registry import lifecycle
    from accord.registry.model import AgreementKind

    known = {p.code for p in registry.parties}
    wanted = [p.strip().upper() for p in parties]
    for p in wanted:
        if p not in known:
            empty = (
                ""
                if known
                else " (the registry is empty: run `accord demo` or `accord import FILE`)"
            )
            raise InputError(f"--party: {p!r} is not a known party{empty}")
    if kind is not None and kind not in {k.value for k in AgreementKind}:
        raise InputError(
            f"--kind: {kind!r} is not an agreement kind ({', '.join(k.value for k in AgreementKind)})"
        )
    found = lifecycle.on_date(
        registry.agreements, day, parties=wanted, kind=kind, in_force_only=only_in_force
    )
    return [_row(ag, st, st in lifecycle.IN_FORCE_STATES) for ag, st in found]


def _row(ag: Agreement, st: lifecycle.Status, force: bool) -> dict[str, Any]:
    return {
        "id": ag.id,
        "title": ag.title,
        "kind": ag.kind.value,
        "legal_form": ag.legal_form.value,
        "parties": sorted(ag.parties),
        "hub": ag.hub,
        "status": st.value,
        "in_force": force,
        "illustrative": ag.illustrative,
    }


@agreements_app.command("list")
def agreements_list(
    party: Annotated[
        list[str] | None, typer.Option("--party", help="Only agreements binding this party.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="information-security, …")] = None,
    at: AtOpt = None,
    in_force: Annotated[bool, typer.Option("--in-force", help="Only those in force.")] = False,
    json: JsonOpt = False,
) -> None:
    """List agreements with their status on a date; two --party options mean binding both."""
    day = parse_date(at)
    registry = invocation().registry()
    rows = _agreement_rows(registry, party or [], kind, day, in_force)
    if json:
        print_json(rows)
        return
    table = Table(title=f"Agreements on {day.isoformat()}", title_justify="left")
    for col in ("id", "kind", "form", "parties", "status"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["kind"], r["legal_form"], " ".join(r["parties"]), r["status"])
    console.print(table)
    console.print(f"{len(rows)} agreement(s)")


def agreement_detail(ag: Agreement, day: date) -> dict[str, Any]:
    """Returns the agreement as JSON data with its timeline and its next renewal deadline."""
    from accord.registry import lifecycle, precision

    st = lifecycle.status(ag, day)
    deadline = lifecycle.next_renewal_deadline(ag, day)
    data = ag.model_dump(mode="json", exclude_defaults=True)
    data.update(
        status=st.value,
        in_force=st in lifecycle.IN_FORCE_STATES,
        at=day.isoformat(),
        parties=sorted(ag.parties),
        equivalence=[dict(r) for r in ag.equivalence],
        timeline=[
            {
                "date": s.event.date.isoformat(),
                "kind": s.event.kind.value,
                "status": s.status.value,
                "effective": s.event.effective.isoformat() if s.event.effective else None,
                "notes": list(s.event.notes),
                "summary": s.event.summary,
                "precision": s.event.precision,
                "when": precision.phrase(s.event),
                "proven": precision.proven(s.event).isoformat(),
                "sources": [
                    src.model_dump(mode="json", exclude_none=True) for src in s.event.sources
                ],
                "illustrative": s.event.illustrative,
                "derived": s.derived,
            }
            for s in lifecycle.timeline(ag)
        ],
        next_renewal_deadline=deadline.isoformat() if deadline else None,
    )
    return data


def _since(ag: Agreement, day: date) -> str:
    """`; in force by 2016-12-31 (S11)`: since when, as exactly as the record says, with its
    sources; empty when the agreement is not in force on `day`."""
    from accord.registry import lifecycle, precision
    from accord.registry.model import EventKind

    if not lifecycle.in_force(ag, day):
        return ""
    entry = [
        e
        for e in lifecycle.ordered_events(ag)
        if e.kind is EventKind.ENTERED_INTO_FORCE and precision.proven(e) <= day
    ]
    if not entry:
        return ""
    ev = entry[-1]
    when = precision.phrase(ev)
    since = when if ev.precision == "by" else f"since {when}"
    cited = precision.cited(ev)
    return f"; in force {since}" + (f" {cited}" if cited else "")


@agreements_app.command("show")
def agreements_show(agreement_id: str, at: AtOpt = None, json: JsonOpt = False) -> None:
    """Show an agreement: parties, scope, equivalence table, timeline, next renewal deadline."""
    day = parse_date(at)
    registry = invocation().registry()
    ag = next((a for a in registry.agreements if a.id == agreement_id), None)
    if ag is None:
        raise NotFound(f"{agreement_id!r} is not a known agreement")
    data = agreement_detail(ag, day)
    if json:
        print_json(data)
        return
    console.print(f"[bold]{ag.title}[/]  ({ag.id})")
    console.print(
        f"{ag.kind.value}, {ag.legal_form.value}; parties {' – '.join(ag.parties)}"
        + (f"; hub {ag.hub}" if ag.hub else "")
    )
    scope = ag.scope
    topics = "all" if scope.topics == "all" else ", ".join(scope.topics)
    purposes = "all" if scope.purposes == "all" else ", ".join(scope.purposes)
    console.print(
        f"scope: topics {topics}; purposes {purposes}"
        + (f"; categories {', '.join(scope.categories)}" if scope.categories else "")
    )
    console.print(f"status on {day.isoformat()}: [bold]{data['status']}[/]{_since(ag, day)}")
    if ag.equivalence:
        eq = Table(title="Level equivalence", title_justify="left")
        for p in ag.parties:
            eq.add_column(p)
        for row in ag.equivalence:
            eq.add_row(*[row.get(p, "—") for p in ag.parties])
        console.print(eq)
    tl = Table(title="Timeline", title_justify="left")
    for col in ("date (sources)", "event", "status after"):
        tl.add_column(col, overflow="fold")
    for step in data["timeline"]:
        label = step["kind"] + (f" (effective {step['effective']})" if step["effective"] else "")
        refs = ", ".join(src["ref"] for src in step["sources"])
        when = step["when"] + (f" ({refs})" if refs else "")
        if step["illustrative"]:
            when += " inferred"
        tl.add_row(when, label, step["status"])
    console.print(tl)
    # The diplomatic notes each event rests on, below the table: ids are never cut to fit.
    for step in data["timeline"]:
        if step["notes"]:
            console.print(f"notes of {step['date']} {step['kind']}: {', '.join(step['notes'])}")
    deadline = data["next_renewal_deadline"]
    console.print(f"next renewal deadline: {deadline or 'none (does not renew, or not in force)'}")


@notes_app.command("list")
def notes_list(json: JsonOpt = False) -> None:
    """List diplomatic notes."""
    registry = invocation().registry()
    rows = [n.model_dump(mode="json", exclude_defaults=True) for n in registry.notes]
    if json:
        print_json(rows)
        return
    table = Table()
    for col in ("id", "date", "from", "to", "kind", "summary"):
        table.add_column(col)
    for n in registry.notes:
        table.add_row(n.id, n.date.isoformat(), n.sender, n.recipient, n.kind.value, n.summary)
    console.print(table)


@consents_app.command("list")
def consents_list(json: JsonOpt = False) -> None:
    """List originators' consents."""
    registry = invocation().registry()
    rows = [c.model_dump(mode="json", exclude_defaults=True) for c in registry.consents]
    if json:
        print_json(rows)
        return
    table = Table()
    for col in ("id", "originator", "holder", "to", "topics", "max level", "valid"):
        table.add_column(col)
    for c in registry.consents:
        to = " ".join(c.recipients) or f"members of {c.arrangement}"
        topics = "all" if c.topics == "all" else " ".join(c.topics)
        valid = f"{c.valid_from.isoformat()} – {c.valid_until.isoformat() if c.valid_until else ''}"
        table.add_row(c.id, c.originator, c.holder, to, topics, c.max_level or "any", valid)
    console.print(table)
