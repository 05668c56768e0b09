"""Federation commands: peer add|list|remove, sync."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from accord.cli.app import app, console, invocation, print_json
from accord.errors import InputError

if TYPE_CHECKING:
    from accord.exchange.foreign import MarkingMap
    from accord.federation.peers import Peer
    from accord.policy import World

peer_app = typer.Typer(
    help="Partner nodes this node pushes to and pulls from.", no_args_is_help=True
)
app.add_typer(peer_app, name="peer")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@peer_app.command("add")
def peer_add(
    name: str,
    party: Annotated[str, typer.Option("--party", help="The peer's party.")],
    url: Annotated[
        str, typer.Option("--url", help="The peer's base URL, e.g. https://jpn.example:8000")
    ],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="The credential name this node presents to the peer (optional with "
            "--client-cert).",
        ),
    ] = None,
    api_root: Annotated[
        str | None,
        typer.Option(
            "--api-root",
            help="The peer's API root (its name or URL).",
            show_default="the discovery's default, or the only one",
        ),
    ] = None,
    pull_from: Annotated[
        str | None,
        typer.Option(
            "--pull-from",
            help="The collection to read (id, alias or title).",
            show_default="an accord node's items and inbox, else the one the credential may read",
        ),
    ] = None,
    push_to: Annotated[
        str | None,
        typer.Option(
            "--push-to",
            help="The collection to write to (id, alias or title).",
            show_default="an accord node's inbox, else the one the credential may write",
        ),
    ] = None,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="Push what is releasable to it.")
    ] = True,
    pull: Annotated[
        bool, typer.Option("--pull/--no-pull", help="Pull its view of this node.")
    ] = True,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="FOREIGN=ORIGINATOR LEVEL TOPIC (repeatable): the release marking content under "
            "the foreign marking FOREIGN (a TLP name, a definition's name or id) becomes, for a "
            "peer that is not an accord node, e.g. 'TLP:GREEN=USA U general-military'.",
        ),
    ] = None,
    stix20: Annotated[
        bool,
        typer.Option(
            "--stix20", help="The peer serves STIX 2.0: upgrade its content to 2.1 on the way in."
        ),
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The peer's public key (what its `accord key show` prints): pinned for its "
            "party, to verify the items it originates and its receipts.",
        ),
    ] = None,
    client_cert: Annotated[
        str | None,
        typer.Option(
            "--client-cert",
            help="This node's client certificate (PEM) for mutual TLS: a peer that binds this "
            "node's credential to it needs no secret, and none is sent.",
        ),
    ] = None,
    client_key: Annotated[
        str | None,
        typer.Option(
            "--client-key",
            help="The private key (PEM, unencrypted) of --client-cert; only its path is kept.",
        ),
    ] = None,
    ca: Annotated[
        str | None,
        typer.Option(
            "--ca",
            help="The CA (PEM) the peer's server certificate must chain to.",
            show_default="the CAs httpx trusts",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Add a peer: an accord node or any TAXII 2.1 server, by its base or discovery URL (TAXII
    discovery finds the API root and collections). Its secret is read from standard input, or
    from ACCORD_PEER_PASSWORD; with --client-cert and --client-key this node may present its
    certificate instead (mutual TLS), and then a secret is optional."""
    from accord.federation.discovery import resolve
    from accord.federation.peers import add_peer, check_new_name, require_secret
    from accord.federation.transport import absolute, tls_context
    from accord.principals.authority import host_actor
    from accord.trust import keys

    n = invocation()
    code = party.strip().upper()
    if code not in {p.code for p in n.registry().parties}:
        raise InputError(f"--party: {code!r} is not a known party")
    if (client_cert is None) != (client_key is None):
        raise InputError("--client-cert and --client-key go together")
    if user is None and client_cert is None:
        raise InputError("--user: name the credential this node presents to the peer")
    secret = os.environ.get("ACCORD_PEER_PASSWORD", "")
    if not secret and not sys.stdin.isatty():
        secret = sys.stdin.readline().strip()
    require_secret(secret, client_cert)
    public = None if key is None else keys.parse_key(key)
    verify = tls_context(*map(absolute, (client_cert, client_key, ca)))
    table = _marking_map(n.node().world()[1], mapping or [])
    check_new_name(n.store, name)
    found = resolve(url, user or "", secret, api_root, pull_from, push_to, verify=verify)
    if found.kind == "accord" and (table.entries or stix20):
        raise InputError(
            "--map and --stix20 are for peers that are not accord nodes: "
            f"{found.url} is an accord node, whose items carry release markings"
        )
    peer = add_peer(
        n.store, name, code, url, user or "", secret, api_root, push, pull, resolved=found,
        markings=table, stix20=stix20, client_cert=client_cert, client_key=client_key, ca=ca,
    )  # fmt: skip
    if public is not None:
        with n.store.begin() as conn:
            keys.pin(conn, code, public, host_actor())
    if json:
        data = peer.to_json()
        if public is not None:
            data["key"] = {"public_key": public, "fingerprint": keys.fingerprint(public)}
        print_json(data)
    else:
        console.print(
            f"peer {name} ({code}) at {peer.url} added: push {peer.push}, pull {peer.pull}"
        )
        if public is not None:
            console.print(f"  {code}'s key {keys.fingerprint(public)} pinned")
        console.print(f"  {_where(peer)}")


def _marking_map(world: World, entries: list[str]) -> MarkingMap:
    """Returns the `--map` entries as a table, each marking checked against the registry."""
    from accord.exchange.foreign import MarkingMap, parse_entry

    parsed = []
    for text in entries:
        foreign_name, marking = parse_entry(text)
        try:
            world.check_marking(marking)
        except InputError as exc:
            raise InputError(f"--map {text!r}: {exc}") from None
        parsed.append((foreign_name, marking))
    return MarkingMap.of(parsed)


def _where(peer: Peer) -> str:
    """Says what discovery resolved for `peer`: its kind and the collections read and written."""
    kind = {
        "accord": "an accord node",
        "taxii": "a TAXII 2.1 server",
        None: "not resolved (it did not answer when added): an accord node assumed",
    }.get(peer.kind, str(peer.kind))
    reads = ", ".join(peer.pull_from) or "nothing"
    return f"{kind}; reads {reads}; writes to {peer.push_to or 'nothing'}"


@peer_app.command("list")
def peer_list(json: JsonOpt = False) -> None:
    """List peers (never their secrets)."""
    from accord.federation.peers import list_peers

    peers = list_peers(invocation().store)
    if json:
        print_json([p.to_json() for p in peers])
        return
    table = Table()
    for col in ("name", "party", "url", "user", "push", "pull"):
        table.add_column(col)
    for p in peers:
        table.add_row(p.name, p.party, p.url, p.user, str(p.push), str(p.pull))
    console.print(table)


@peer_app.command("show")
def peer_show(name: str, json: JsonOpt = False) -> None:
    """Show a peer, where sync stands with it (its cursors), the signed checkpoint of its audit
    chain held (and a fork found) and whether a sync holds it now."""
    from accord.exchange.stix import format_us
    from accord.federation import chains
    from accord.federation.peers import cursors, get_peer, holder

    store = invocation().store
    peer = get_peer(store, name)
    held = holder(store, name)
    kept = chains.held(store, name)
    checkpoint = None
    if kept is not None:
        checkpoint = {**kept[0].to_json(), "at": format_us(kept[0].at), "fork": kept[1]}
    shown = [
        {
            "direction": c.direction,
            "collection": c.collection,
            "position": format_us(c.position),
            "updated_at": format_us(c.updated_at),
        }
        for c in cursors(store, name)
    ]
    syncing = None if held is None else {"by": held[0], "until": format_us(int(held[1] * 1e6))}
    if json:
        print_json(
            {**peer.to_json(), "cursors": shown, "syncing": syncing, "audit_checkpoint": checkpoint}
        )
        return
    console.print(
        f"peer {peer.name} ({peer.party}) at {peer.url}, API root /{peer.api_root}/, "
        f"as {peer.user}: push {peer.push}, pull {peer.pull}"
    )
    console.print(f"  {_where(peer)}")
    if peer.client_cert:
        console.print(f"  presents the client certificate {peer.client_cert}")
    if peer.ca:
        console.print(f"  its server certificate must chain to {peer.ca}")
    if not peer.accord:
        console.print(f"  content is STIX {'2.0, upgraded to 2.1' if peer.stix20 else '2.1'}")
        for foreign_name, target in peer.markings.to_json().items():
            console.print(f"  marking {foreign_name} → {target}")
    for c in shown:
        console.print(
            f"  {c['direction']} {c['collection']}: up to {c['position']} (moved {c['updated_at']})"
        )
    if not shown:
        console.print("  never synchronised")
    if kept is not None:
        cp, fork = kept
        console.print(f"  its audit chain signed at record {cp.seq}: {cp.hash[:16]}…")
        if fork:
            console.print(f"  [red]{fork}[/]")
    if held is not None:
        console.print(f"  a sync holds it now: process {held[0]}")


@peer_app.command("remove")
def peer_remove(name: str, json: JsonOpt = False) -> None:
    """Remove a peer and its sync cursors."""
    from accord.federation.peers import remove_peer

    remove_peer(invocation().store, name)
    if json:
        print_json({"name": name, "removed": True})
    else:
        console.print(f"peer {name} removed")


def _since(value: str) -> int:
    """Returns `--since` (a date, or an RFC 3339 UTC timestamp) as microseconds since the epoch."""
    from accord.exchange.stix import parse_timestamp_us

    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            us = int(day.timestamp()) * 1_000_000
        else:
            us = parse_timestamp_us(value, "--since")
    except (ValueError, InputError):
        raise InputError(
            f"--since: {value[:60]!r} is not a date (YYYY-MM-DD) or a UTC timestamp "
            "(YYYY-MM-DDTHH:MM:SS[.ffffff]Z)"
        ) from None
    if us < 0:
        raise InputError(f"--since: {value!r} is before 1970, when nothing was added yet")
    return us


@app.command("sync")
def sync_cmd(
    peer: Annotated[str | None, typer.Argument(help="One peer.", show_default="every peer")] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Send to and read from PEER again what was already sent or read (everything, "
            "or what was added after --since); the receiver keeps one copy of each version.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="With --again: only what was added after this date or UTC timestamp.",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Push to and pull from peers now. Exit 1 when any peer could not be synchronised."""
    from accord.exchange.stix import format_us
    from accord.federation.peers import list_peers
    from accord.federation.sync import sync_peer
    from accord.server import settle_collector

    if again and peer is None:
        raise InputError("--again needs a PEER: it sends again to one peer what it already has")
    if since is not None and not again:
        raise InputError("--since goes with --again")
    position = _since(since) if since is not None else 0
    n = invocation()
    live = n.node()
    # A sync stores pages while it fetches the next: checkpoints go to a thread of their own.
    n.store.checkpoint_in_background()
    settle_collector()  # pages of 1,000 objects parsed one after another (accord.server)
    peers = [p for p in list_peers(n.store) if peer is None or p.name == peer]
    if peer is not None and not peers:
        raise InputError(f"no peer named {peer!r}")
    reports = []
    with Progress(console=console, transient=True, disable=json) as bar:
        for p in peers:
            task = bar.add_task(f"{p.name}", total=None)

            def advance(_direction: str, count: int, task: TaskID = task) -> None:
                bar.advance(task, count)

            reports.append(sync_peer(live, p, progress=advance, again=position if again else None))
    if json:
        print_json([r.to_json() for r in reports])
    else:
        for r in reports:
            if r.again is not None:
                start, moved = r.again
                console.print(
                    f"{r.peer}: sent and read again what was added after {format_us(start)}"
                    + "".join(
                        f"; {m.direction} {m.collection} back from {format_us(m.before)}"
                        for m in moved
                    )
                )
            state = "[green]ok[/]" if not r.errors else f"[red]failed[/]: {'; '.join(r.errors)}"
            console.print(
                f"{r.peer}: pushed {r.pushed} (refused {r.push_refused}), "
                f"pulled {r.pulled} (refused {r.pull_refused}) — {state}"
            )
    raise typer.Exit(0 if all(not r.errors for r in reports) else 1)


notice_app = typer.Typer(
    help="The originator's rights after release: reclassify, destroy, report a compromise.",
    no_args_is_help=True,
)
app.add_typer(notice_app, name="notice")


def _show(data: dict[str, object], json: bool) -> None:
    if json:
        print_json(data)
        return
    for k, v in data.items():
        console.print(f"{k}: {v}")


@notice_app.command("reclassify")
def notice_reclassify(
    item: str,
    level: Annotated[str, typer.Option("--level", help="The new level, in this node's scheme.")],
    json: JsonOpt = False,
) -> None:
    """Re-mark one of this node's items and notify every party it was released to."""
    from accord.federation import notices as sending

    _show(
        sending.send_originator_notice(
            invocation().node(), "reclassification", item, new_level=level
        ),
        json,
    )


@notice_app.command("destroy")
def notice_destroy(item: str, json: JsonOpt = False) -> None:
    """Ask every party one of this node's items was released to, to destroy it."""
    from accord.federation import notices as sending

    _show(sending.send_originator_notice(invocation().node(), "destruction", item), json)


@notice_app.command("compromise")
def notice_compromise(
    item: str,
    description: Annotated[
        str, typer.Option("--description", help="What was lost or compromised, how.")
    ],
    json: JsonOpt = False,
) -> None:
    """Report the loss or compromise of a held item to its originator's node, at once."""
    from accord.federation import notices as sending

    _show(sending.report_compromise(invocation().node(), item, description), json)


@notice_app.command("list")
def notice_list(json: JsonOpt = False) -> None:
    """Every reclassification, destruction and compromise recorded at this node."""
    from accord.exchange import notices

    rows = notices.notices(invocation().store)
    if json:
        print_json(rows)
        return
    table = Table()
    for col in ("record", "kind", "item", "by", "details"):
        table.add_column(col)
    for r in rows:
        details = {k: v for k, v in r.items() if k not in ("seq", "at", "kind", "actor", "item")}
        table.add_row(str(r["seq"]), str(r["kind"]), str(r["item"]), str(r["actor"]), str(details))
    console.print(table)
