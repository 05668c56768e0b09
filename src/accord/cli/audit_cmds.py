"""Audit commands: verify, disclosures, export, checkpoint, key; and the node's backup and restore."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from accord.cli.app import app, console, invocation, print_json
from accord.errors import InputError

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _runs(seqs: list[tuple[int, int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in seqs)


@audit_app.command("verify")
def verify_cmd(
    against_file: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A signed checkpoint (`audit checkpoint --json`) or an export (`audit export`) "
            "kept apart from the store: name the records the store lacks.",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Prove the chain unbroken, or name the first altered, missing or reordered record; name
    every restore from a backup; with --against, the records the store lacks. Exit 0 when
    intact, 1 when broken or when the store lacks records of the file."""
    from accord.audit import against, backup, checkpoints, log

    store = invocation().store
    verdict = log.verify(store)
    problems = checkpoints.verify_checkpoints(store) if verdict.ok else []
    restores = log.restores(store)
    found = against.compare(store, against_file) if against_file is not None else None
    ok = verdict.ok and not problems and (found is None or found.intact)
    if json:
        out: dict[str, object] = {
            **verdict.to_json(),
            "ok": ok,
            "checkpoint_problems": problems,
            "restores": [{**r.to_json(), "at": _when(r.at)} for r in restores],
        }
        if found is not None:
            c = found.to_json()
            out.update(intact=c.pop("intact"), missing=c.pop("missing"),
                       differs=c.pop("differs"), lacks=c.pop("lacks"), against=c)  # fmt: skip
        print_json(out)
        raise typer.Exit(0 if ok else 1)
    if not verdict.ok:
        console.print(f"[red]audit chain BROKEN[/] at record {verdict.first_bad}: {verdict.reason}")
    elif problems:
        console.print(f"[red]checkpoints do not verify[/]: {'; '.join(problems)}")
    else:
        console.print(f"audit chain intact: {verdict.records} records, head {verdict.head[:16]}…")
    for r in restores:
        console.print(
            f"record {r.seq}: {backup.message(r.from_seq)} on {_when(r.at)} "
            f"(records after {r.from_seq} that the store held before are not in this chain)"
        )
    if found is not None:
        for p in found.problems:
            console.print(f"[red]{against_file}[/]: {p}")
        lacks = found.lacks()
        if lacks:
            n = sum(b - a + 1 for a, b in lacks)
            console.print(
                f"[red]the store lacks {n} record(s) of {against_file}[/]: {_runs(lacks)} "
                f"({len(found.missing)} missing, {len(found.differs)} held with other content)"
            )
        elif not found.problems:
            console.print(
                f"every record of {against_file} is in the chain ({found.checked} checked)"
            )
        for note in found.notes:
            console.print(note)
    raise typer.Exit(0 if ok else 1)


@audit_app.command("disclosures")
def disclosures_cmd(item_id: str, json: JsonOpt = False) -> None:
    """Every party that received any version of an item: when, on which basis, at which level."""
    from accord.audit import log
    from accord.trust import receipts

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
    from accord.trust import receipts

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
    from accord.audit import log

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
    from accord.audit import checkpoints

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
    from accord.audit import checkpoints

    typer.echo(checkpoints.public_key_hex(invocation().store))


@app.command("backup")
def backup_cmd(
    out: Annotated[Path, typer.Argument(help="The backup file to write (a new file).")],
    json: JsonOpt = False,
) -> None:
    """Back up the whole store to one file while the node runs: a consistent snapshot with a
    signed checkpoint of its audit chain's head inside. The file holds the node's audit key and
    every item: keep it as you keep the store."""
    from accord.audit import backup

    made = backup.backup(invocation().store, out)
    if json:
        print_json(made.to_json())
        return
    cp = made.checkpoint
    signed = f", head {cp.hash[:16]}… signed" if cp else ""
    console.print(
        f"backed up to {made.out}: {made.records} audit records{signed} "
        f"({made.size / 1e6:.1f} MB in {made.seconds:.1f} s)"
    )


@app.command("restore")
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="A file `accord backup` wrote.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that is not empty.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Restore the store from a backup (every process of the node stopped). The chain records
    "restored from a backup at record N": the records after N are gone, and it says so.
    Refuses a store that is not empty unless --force."""
    from accord.audit import backup
    from accord.principals.authority import host_actor

    done = backup.restore(invocation().store, file, host_actor(), force=force)
    if json:
        print_json(done.to_json())
        return
    replaced = "" if done.replaced is None else f"; it replaced a chain of {done.replaced} records"
    console.print(
        f"{backup.message(done.records)} (record {done.seq} says so){replaced}. "
        "Run `accord audit verify --against` with the latest checkpoint or export kept apart "
        "to name what the restore lost."
    )
