"""Audit commands: verify, disclosures, export, checkpoint, key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from accord.audit import checkpoints, log
from accord.cli.app import app, console, invocation, print_json

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@audit_app.command("verify")
def verify_cmd(json: JsonOpt = False) -> None:
    """Prove the chain unbroken, or name the first altered, missing or reordered record.
    Exit 0 when intact, 1 when broken."""
    store = invocation().store
    verdict = log.verify(store)
    problems = checkpoints.verify_checkpoints(store) if verdict.ok else []
    ok = verdict.ok and not problems
    if json:
        print_json({**verdict.to_json(), "ok": ok, "checkpoint_problems": problems})
    elif ok:
        console.print(f"audit chain intact: {verdict.records} records, head {verdict.head[:16]}…")
    else:
        console.print(
            f"[red]audit chain BROKEN[/] at record {verdict.first_bad}: {verdict.reason}"
            if not verdict.ok
            else f"[red]checkpoints do not verify[/]: {'; '.join(problems)}"
        )
    raise typer.Exit(0 if ok else 1)


@audit_app.command("disclosures")
def disclosures_cmd(item_id: str, json: JsonOpt = False) -> None:
    """Every party that received any version of an item: when, on which basis, at which level."""
    rows = log.disclosures(invocation().store, item_id)
    if json:
        print_json([{**r, "at": _when(int(r["at"]))} for r in rows])
        return
    table = Table(title=f"Disclosures of {item_id}", title_justify="left")
    for col in ("when", "party", "principal", "version", "basis", "route", "level", "records"):
        table.add_column(col)
    for r in rows:
        table.add_row(_when(int(r["at"])), str(r["party"]), str(r["principal"]), str(r["version"]),
                      ", ".join(r["basis"]), "→".join(r["route"]), str(r["level"] or ""),
                      ", ".join(str(n) for n in r["records"]))  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} release(s)")


@audit_app.command("export")
def export_cmd(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write.", show_default="stdout")
    ] = None,
) -> None:
    """Write the whole log as JSON lines, oldest first."""
    lines = (orjson.dumps(r).decode() + "\n" for r in log.export(invocation().store))
    if output is None:
        for line in lines:
            typer.echo(line, nl=False)
    else:
        with output.open("w", encoding="utf-8") as fh:
            fh.writelines(lines)


@audit_app.command("checkpoint")
def checkpoint_cmd(json: JsonOpt = False) -> None:
    """Sign the current head of the chain with the node's Ed25519 key."""
    cp = checkpoints.checkpoint(invocation().store)
    if json:
        print_json(cp.to_json() if cp else None)
    elif cp is None:
        console.print("nothing new to checkpoint")
    else:
        console.print(f"checkpoint at record {cp.seq}: {cp.hash[:16]}… signed")


@audit_app.command("key")
def key_cmd() -> None:
    """Print the node's audit public key (hex), for partners that keep its checkpoints."""
    typer.echo(checkpoints.public_key_hex(invocation().store))
