"""Audit commands: verify, disclosures, export, checkpoint, key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from accord.audit import checkpoints, log
from accord.cli.app import app, console, invocation, print_json
from accord.errors import InputError
from accord.trust import receipts

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
    store = invocation().store
    rows = receipts.with_receipts(store, item_id, log.disclosures(store, item_id))
    if json:
        print_json([{**r, "at": _when(int(r["at"])), "receipt": _receipt(r)} for r in rows])
        return
    table = Table(title=f"Disclosures of {item_id}", title_justify="left")
    for col in ("when", "party", "principal", "version", "basis", "route", "level", "records",
                "receipt"):  # fmt: skip
        table.add_column(col)
    for r in rows:
        got = _receipt(r)
        receipt = "" if got is None else f"{got['at']}{'' if got['verified'] else ' (unverified)'}"
        table.add_row(_when(int(r["at"])), str(r["party"]), str(r["principal"]), str(r["version"]),
                      ", ".join(r["basis"]), "→".join(r["route"]), str(r["level"] or ""),
                      ", ".join(str(n) for n in r["records"]), receipt)  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} release(s)")


def _receipt(row: dict[str, Any]) -> dict[str, Any] | None:
    got = row.get("receipt")
    return None if got is None else {**got, "at": _when(int(got["at"]))}


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> int:
    """Returns `--older-than` (e.g. 90s, 30m, 1h, 2d) in microseconds."""
    value = text.strip().lower()
    if len(value) < 2 or value[-1] not in _UNITS or not value[:-1].isdigit():
        raise InputError(f"--older-than: {text[:20]!r} is not a duration such as 30m, 1h or 2d")
    return int(value[:-1]) * _UNITS[value[-1]] * 1_000_000


@audit_app.command("receipts")
def receipts_cmd(
    missing: Annotated[
        bool, typer.Option("--missing", help="List releases no signed receipt came back for.")
    ] = False,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Only releases at least this old (30m, 1h, 2d)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Receipts: which releases of item versions the receiving nodes have signed for."""
    if not missing:
        raise InputError("say what to list: --missing (releases still without a receipt)")
    age = 0 if older_than is None else _duration(older_than)
    rows = receipts.missing(invocation().store, age)
    if json:
        print_json([{**r, "at": _when(int(r["at"]))} for r in rows])
        return
    table = Table(title="Releases without a receipt", title_justify="left")
    for col in ("when", "party", "item", "version", "channel"):
        table.add_column(col)
    for r in rows:
        table.add_row(_when(int(r["at"])), r["party"], r["item"], r["version"], str(r["channel"]))
    console.print(table)
    console.print(f"{len(rows)} release(s) without a receipt")


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
