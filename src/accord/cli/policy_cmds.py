"""Releasability commands: `accord check` (explain one decision), `accord whatif` (diff a
hypothetical world against the registry) and `accord changes` (what the moves of agreements did
to releases). All read the node's registry and never write."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from accord.cli.app import DEFAULT_PURPOSE, app, console, invocation, parse_date, print_json

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="The date (YYYY-MM-DD).", show_default="today")
]


def _party(code: str) -> str:
    return code.strip().upper()


@app.command("check")
def check_cmd(
    originator: Annotated[str, typer.Option("--originator", help="The originator, e.g. KOR.")],
    level: Annotated[str, typer.Option("--level", help="Level in the originator's scheme.")],
    to: Annotated[str, typer.Option("--to", help="The recipient party.")],
    topic: Annotated[
        list[str], typer.Option("--topic", help="A topic of the item (repeat for several).")
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="What the item is given for (R4).")
    ] = DEFAULT_PURPOSE,
    rel_to: Annotated[
        list[str] | None, typer.Option("--rel-to", help="REL TO party (repeat); none = no list.")
    ] = None,
    noforn: Annotated[bool, typer.Option("--noforn", help="NOFORN: no foreign release.")] = False,
    orcon: Annotated[
        bool, typer.Option("--orcon", help="ORCON: onward release needs a per-item consent.")
    ] = False,
    item: Annotated[
        str | None,
        typer.Option("--item", help="Item or marking id (matched by per-item consents)."),
    ] = None,
    holder: Annotated[
        str | None,
        typer.Option("--holder", help="The releasing party.", show_default="the originator"),
    ] = None,
    at: AtOpt = None,
    json: JsonOpt = False,
) -> None:
    """Decide and explain whether an item may be released to a party (rules R1–R8)."""
    from accord.policy import Marking, World, decide

    day = parse_date(at)
    marking = Marking.of(
        _party(originator),
        level.strip().upper(),
        [t.strip().lower() for t in topic],
        purpose.strip().lower(),
        rel_to=None if not rel_to else [_party(p) for p in rel_to],
        noforn=noforn,
        orcon=orcon,
        id=item,
    )
    world = World(invocation().registry())
    d = decide(marking, _party(to), day, None if holder is None else _party(holder), world=world)
    if json:
        print_json(d.to_json())
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("item", marking.label())
    grid.add_row("release", f"{d.holder} → {d.recipient} on {day.isoformat()}")
    grid.add_row("failed" if not d.allowed else "satisfied", ", ".join(r.value for r in d.rules))
    grid.add_row("route", " → ".join(d.route) if d.route else "—")
    grid.add_row("recipient level", d.recipient_level or "—")
    grid.add_row("basis" if d.allowed else "considered", ", ".join(d.basis) or "—")
    if d.recorded_consent is not None:
        rc = d.recorded_consent
        grid.add_row("records consent", f"{rc.originator} → {rc.holder} to {rc.recipient}")
    grid.add_row("explanation", d.explanation)
    title = "[bold green]ALLOWED[/]" if d.allowed else "[bold red]DENIED[/]"
    console.print(Panel(grid, title=title, title_align="left"))


@app.command("whatif")
def whatif_cmd(
    scenario: Annotated[
        Path, typer.Argument(help="Hypothetical registry additions, in the import format.")
    ],
    at: AtOpt = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Purpose of the markings compared.")
    ] = DEFAULT_PURPOSE,
    party: Annotated[
        list[str] | None, typer.Option("--party", help="Only pairs involving this party.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Show what would become (or stop being) releasable, which routes would stop needing the
    hub, and which logistics orders would become possible or impossible, if the file's records
    were real. Nothing is stored."""
    from accord.logistics.whatif import support_diff
    from accord.policy import World, diff, marking_universe
    from accord.policy.whatif import summarise
    from accord.registry import files

    day = parse_date(at)
    part, lines = files.read_file(scenario)
    real = World(invocation().registry())
    hypo = real.with_additions(part, lines)
    markings = marking_universe(hypo, purpose.strip().lower())
    result = diff(real, hypo, markings, day)
    only = {_party(p) for p in party or ()}
    for code in sorted(only):
        hypo.party(code)
    pairs = [p for p in result.pairs if not only or only & {p.holder, p.recipient}]
    support = [
        s
        for s in support_diff(real.registry, hypo.registry, day)
        if not only or only & set(s.parties)
    ]
    added = {
        "agreements": [a.id for a in part.agreements],
        "consents": [c.id for c in part.consents],
        "notes": [n.id for n in part.notes],
        "parties": [p.code for p in part.parties],
    }
    if json:
        out = result.to_json()
        out["pairs"] = [p.to_json() for p in pairs]
        out["hypothetical"] = added
        out["purpose"] = purpose
        out["logistics"] = [s.to_json() for s in support]
        print_json(out)
        return
    records = ", ".join(i for ids in added.values() for i in ids) or "nothing"
    console.print(
        f"What if [bold]{records}[/] were real, on {day.isoformat()} "
        f"({result.markings} markings: every party × level × topic, purpose {purpose})"
    )
    if support:
        orders = Table(title="Logistics orders", title_justify="left")
        for col in ("parties", "orders", "categories gained", "categories lost", "agreements"):
            orders.add_column(col, overflow="fold")
        for s in support:
            orders.add_row(
                " – ".join(s.parties),
                {"possible": "become possible", "impossible": "become impossible"}.get(
                    s.change, "change scope"
                ),
                ", ".join(s.gained) or "—",
                ", ".join(s.lost) or "—",
                f"{', '.join(s.before) or 'none'} → {', '.join(s.after) or 'none'}",
            )
        console.print(orders)
    if not pairs:
        console.print("No change: the same markings flow, by the same routes.")
        return
    table = Table(title_justify="left")
    for col in ("originator → recipient", "becomes releasable", "stops", "no longer via hub"):
        table.add_column(col)
    for p in pairs:
        table.add_row(
            f"{p.holder} → {p.recipient}",
            summarise(hypo, p.gained) or "—",
            summarise(hypo, p.lost) or "—",
            summarise(hypo, p.unhubbed) or "—",
        )
    console.print(table)


@app.command("changes")
def changes_cmd(
    since: Annotated[
        str | None,
        typer.Option("--since", help="From this date (YYYY-MM-DD).", show_default="90 days ago"),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this date (YYYY-MM-DD).")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List the notices, suspensions, terminations and expiries of information agreements since
    a date, each with what it did to releases on the day it took effect (the what-if diff; the
    same list as GET /api/v1/changes)."""
    from datetime import timedelta

    from accord.errors import InputError
    from accord.policy import World
    from accord.policy import changes as moves

    start = (
        parse_date(since, "--since")
        if since is not None
        else parse_date(None) - timedelta(days=moves.WINDOW)
    )
    end = parse_date(until, "--until") if until is not None else None
    if end is not None and end < start:
        raise InputError("--until is before --since")
    found = moves.changes(World(invocation().registry()), start, end)
    if json:
        print_json([c.to_json() for c in found])
        return
    if not found:
        console.print(f"No agreement moved since {start.isoformat()}.")
        return
    table = Table(title_justify="left")
    for col in ("agreement", "event", "date", "takes effect", "status then", "stops", "via hub"):
        table.add_column(col)
    for c in found:
        table.add_row(
            c.agreement,
            c.event,
            c.date.isoformat(),
            c.effective.isoformat(),
            c.status,
            str(c.stopped),
            str(c.rerouted) + (" (route change)" if c.route_change else ""),
        )
    console.print(table)
