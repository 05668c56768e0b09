"""Node identity commands: accord key show|rotate|list."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.app import app, console, invocation, print_json

key_app = typer.Typer(
    help="This node's signing key, and the keys of other nations it has pinned.",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@key_app.command("show")
def key_show(json: JsonOpt = False) -> None:
    """Print this node's public key and fingerprint: the text partners pin with --key."""
    from accord.trust import keys

    n = invocation()
    public = keys.public_hex(keys.node_key(n.store))
    data = {"party": n.party(), "public_key": public, "fingerprint": keys.fingerprint(public)}
    if json:
        print_json(data)
        return
    console.print(f"public_key  {public}")
    console.print(f"fingerprint {data['fingerprint']}")


@key_app.command("rotate")
def key_rotate(json: JsonOpt = False) -> None:
    """Make a new signing key; the next sync announces it to every peer, signed by the old one.
    What the old key signed stays verifiable."""
    from accord.principals.authority import host_actor
    from accord.trust import keys

    n = invocation()
    announcement = keys.rotate(n.store, n.party() or "", host_actor())
    data = {
        "old": {
            "public_key": announcement["x_old_key"],
            "fingerprint": keys.fingerprint(announcement["x_old_key"]),
        },
        "public_key": announcement["x_new_key"],
        "fingerprint": keys.fingerprint(announcement["x_new_key"]),
    }
    if json:
        print_json(data)
        return
    console.print(f"new key {data['fingerprint']} (replaces {data['old']['fingerprint']})")
    console.print("the next sync announces it to every peer, signed by the old key")


@key_app.command("list")
def key_list(json: JsonOpt = False) -> None:
    """List the keys pinned per party (and this node's retired ones)."""
    from accord.trust import keys

    found = [k.to_json() for ks in keys.pinned(invocation().store).values() for k in ks]
    if json:
        print_json(found)
        return
    table = Table()
    for col in ("party", "fingerprint", "source", "retired"):
        table.add_column(col)
    for k in found:
        table.add_row(
            str(k["party"]),
            str(k["fingerprint"]),
            str(k["source"]),
            "yes" if k["retired_at"] else "",
        )
    console.print(table)
