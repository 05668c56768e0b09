"""Node commands: serve, credential add|list|revoke|unlock, publish."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from accord.cli.app import (
    DEFAULT_PURPOSE,
    Invocation,
    app,
    console,
    invocation,
    parse_date,
    print_json,
)
from accord.errors import AccordError, InputError
from accord.settings import SETTINGS

if TYPE_CHECKING:
    from accord.exchange import stix20
    from accord.exchange.collections import Collection
    from accord.policy.marking import Marking
    from accord.policy.world import World

credential_app = typer.Typer(help="Credentials of partner nodes and users.", no_args_is_help=True)
app.add_typer(credential_app, name="credential")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _setting_default(name: str) -> str:
    """`--help`'s default of an option that overrides a setting: the setting, else its default."""
    setting = next(s for s in SETTINGS if s.name == name)
    return f"{setting.env}, else {setting.default}"


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to bind.", show_default=_setting_default("host")),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port.", show_default=_setting_default("port"))
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="Worker processes.", show_default=_setting_default("workers")
        ),
    ] = None,
    certfile: Annotated[
        Path | None, typer.Option("--certfile", help="TLS certificate (PEM).")
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option("--keyfile", help="TLS private key (PEM).")
    ] = None,
    client_ca: Annotated[
        Path | None,
        typer.Option(
            "--client-ca",
            help="CA certificates (PEM): ask clients for a certificate and verify it against "
            "them (mutual TLS; a partner credential bound to its node's certificate needs no "
            "password). ACCORD_CLIENT_CERTS=required refuses clients without one.",
        ),
    ] = None,
) -> None:
    """Run the node: TAXII 2.1 at /taxii2/. An empty store gets the demonstration scenario, sample
    items and two demonstration credentials, printed once."""
    import uvicorn

    from accord.node import node_config
    from accord.server import prepare
    from accord.tls import serve_options  # uvicorn's protocols load only where a server runs

    n = invocation()
    s = n.settings
    _port_free(host or str(s.host), port if port is not None else int(s.port))
    party, first = prepare(n.store, s)
    config = node_config(s, party)
    overrides = {
        "host": host,
        "port": port,
        "workers": workers,
        "certfile": certfile,
        "keyfile": keyfile,
        "client_ca": client_ca,
    }
    for k, v in overrides.items():
        if v is not None:
            os.environ["ACCORD_" + k.upper()] = str(v)
    bind_host = host or str(s.host)
    bind_port = port if port is not None else int(s.port)
    n_workers = workers if workers is not None else int(s.workers)
    cert = certfile or (Path(str(s.certfile)) if s.certfile else None)
    key = keyfile or (Path(str(s.keyfile)) if s.keyfile else None)
    ca = client_ca or (Path(str(s.client_ca)) if s.client_ca else None)
    tls = serve_options(
        str(cert) if cert else None,
        str(key) if key else None,
        str(ca) if ca else None,
        str(s.client_certs),
    )
    if n_workers < 1:
        raise InputError("--workers must be at least 1")
    scheme = "https" if cert else "http"
    mutual = f", client certificates {s.client_certs} (CA {ca})" if ca else ""
    if first.loaded:
        console.print(
            f"New store: demonstration scenario loaded, {first.samples} sample objects published."
        )
    for name, what, secret in first.credentials:
        console.print(f"  credential [bold]{name}[/] ({what}): {secret}")
    console.print(
        f"accord node of [bold]{party}[/] on {scheme}://{bind_host}:{bind_port}/taxii2/ "
        f"(API root /{config.api_root}/, store {n.store.url}, {n_workers} worker(s){mutual})"
    )
    uvicorn.run(
        "accord.server:app_factory",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=n_workers,
        **tls,
        log_level="warning",
        timeout_graceful_shutdown=30,
    )


def _port_free(host: str, port: int) -> None:
    """Raises AccordError (exit 1, one line) when `host:port` cannot be bound — before anything
    says the node is up (the server binds the same way, SO_REUSEADDR on)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise AccordError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                "(another server uses it? choose another with --port or ACCORD_PORT)"
            ) from None


@credential_app.command("add")
def credential_add(
    name: str,
    party: Annotated[
        str, typer.Option("--party", help="The partner's party, or the user's nationality.")
    ],
    clearance: Annotated[
        str | None,
        typer.Option("--clearance", help="A user's clearance (a level of its party's scheme)."),
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="A need-to-know group (users).")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="operator, legal, analyst, logistics, auditor."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="partner (another nation's node) or user (with --clearance)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="A partner's public key (what its `accord key show` prints): pinned for its "
            "party, to verify the items it originates and its receipts.",
        ),
    ] = None,
    cert_fingerprint: Annotated[
        str | None,
        typer.Option(
            "--cert-fingerprint",
            help="A partner node's client certificate, by SHA-256 fingerprint (`openssl x509 "
            "-noout -fingerprint -sha256`): it authenticates by that certificate alone, with no "
            "secret (mutual TLS: accord serve --client-ca).",
        ),
    ] = None,
    cert_subject: Annotated[
        str | None,
        typer.Option(
            "--cert-subject",
            help="As --cert-fingerprint, by subject (RFC 4514, e.g. 'CN=jpn-node,O=Japan'): "
            "any certificate the client CA issues with it, renewals included.",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Add a credential: a user (--clearance) or another nation's node (--kind partner). The
    secret is read from standard input; with none, one is generated and printed once. Only its
    salted slow hash is stored. A partner node's credential bound to its client certificate
    (--cert-fingerprint or --cert-subject) has no secret: its node authenticates by the
    certificate alone and no password crosses the wire. Run on the node's host, the root of
    trust: the only place partner credentials are created; the audit record names the host
    account."""
    from accord.policy.world import World
    from accord.principals.authority import grant, host_actor
    from accord.trust import keys

    n = invocation()
    code = party.strip().upper()
    registry = n.registry()
    known = {p.code: p for p in registry.parties}
    if code not in known:
        raise InputError(f"--party: {code!r} is not a known party")
    if kind is None and clearance is None:
        raise InputError(
            "--clearance is required for a user (or --kind partner for a partner node's credential)"
        )
    kind = kind or "user"
    if kind == "partner" and (clearance is not None or group or role):
        raise InputError("--clearance, --group and --role are for users, not partner nodes")
    if kind == "user" and clearance is None:
        raise InputError("--clearance is required for a user")
    if kind == "user" and clearance not in known[code].level_codes():
        raise InputError(
            f"--clearance: {clearance!r} is not a level of {code} ({', '.join(known[code].level_codes())})"
        )
    if key is not None and kind != "partner":
        raise InputError("--key: a key is pinned for a partner node (--kind partner)")
    public = None if key is None else keys.parse_key(key)
    bound = cert_fingerprint is not None or cert_subject is not None
    if bound and kind != "partner":
        raise InputError("--cert-fingerprint and --cert-subject bind a partner node's credential")
    secret = None
    if not bound and not sys.stdin.isatty():
        text = sys.stdin.readline().strip()
        secret = text or None
    # The node's host is the root of trust (accord.principals.authority): by=None.
    principal, secret_out = grant(
        n.store,
        World(registry),
        n.party() or "",
        None,
        name,
        kind,
        code,
        secret=secret,
        clearance=clearance,
        groups=group or (),
        roles=role or (),
        cert_sha256=cert_fingerprint,
        cert_subject=cert_subject,
    )
    if public is not None:
        with n.store.begin() as conn:
            keys.pin(conn, code, public, host_actor())
    generated = secret is None and not bound
    if json:
        data: dict[str, Any] = principal.to_json()
        if public is not None:
            data["key"] = {"public_key": public, "fingerprint": keys.fingerprint(public)}
        if generated:
            data["secret"] = secret_out
        print_json(data)
        return
    console.print(f"credential [bold]{name}[/] added ({kind} of {code})")
    if principal.cert_sha256:
        console.print(f"authenticates by the client certificate SHA-256 {principal.cert_sha256}")
    elif principal.cert_subject:
        console.print(
            f"authenticates by a client certificate of subject {escape(principal.cert_subject)}"
        )
    if generated:
        console.print(f"secret (shown once): {secret_out}")


@credential_app.command("list")
def credential_list(json: JsonOpt = False) -> None:
    """List credentials (never their secrets)."""
    from accord.principals import list_principals

    rows = [p.to_json() for p in list_principals(invocation().store)]
    if json:
        print_json(rows)
        return
    table = Table()
    for col in ("name", "kind", "party", "clearance", "groups", "roles", "state", "by"):
        table.add_column(col)
    for r in rows:
        cert: Any = r["certificate"]
        by = "secret" if cert is None else f"certificate {cert['subject'] or cert['sha256'][:16]}"
        table.add_row(
            str(r["name"]),
            str(r["kind"]),
            str(r["party"]),
            str(r["clearance"] or ""),
            " ".join(r["groups"]),  # type: ignore[arg-type]
            " ".join(r["roles"]),  # type: ignore[arg-type]
            "revoked" if r["revoked"] else "live",
            escape(by),
        )
    console.print(table)


@credential_app.command("revoke")
def credential_revoke(name: str, json: JsonOpt = False) -> None:
    """Revoke a credential at once, in every serving process."""
    from accord.principals import authority

    authority.revoke(invocation().store, name)
    if json:
        print_json({"name": name, "revoked": True})
    else:
        console.print(f"credential {name} revoked")


@credential_app.command("unlock")
def credential_unlock(name: str, json: JsonOpt = False) -> None:
    """Unlock a credential locked after failed sign-ins and forget its failures, at once in every
    serving process; an audit record names the credential. Exit 2 when no credential has NAME."""
    from accord.principals import authority

    was_locked = authority.unlock(invocation().store, name, address="cli")
    if json:
        print_json({"name": name, "unlocked": True, "was_locked": was_locked})
    else:
        state = "unlocked" if was_locked else "was not locked; its failed attempts are forgotten"
        console.print(f"credential {name} {state}")


# ---- publish -----------------------------------------------------------------------------------


def _read_objects(path: Path) -> tuple[list[Any], bool]:
    """Returns the file's objects, and whether it is a STIX 2.0 bundle (`spec_version` "2.0")."""
    from accord.exchange import stix20

    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if isinstance(data, list):
        return data, False
    if isinstance(data, dict) and isinstance(data.get("objects"), list):
        return list(data["objects"]), stix20.is_stix20(data)  # an envelope or a bundle
    if isinstance(data, dict) and "type" in data:
        return [data], False
    raise InputError(f"{path}: expected a STIX bundle, a TAXII envelope, a list or one object")


def _stix21(path: Path, posted: list[Any], bundle20: bool, upgrade: bool) -> stix20.Upgraded:
    """Returns the objects as STIX 2.1: upgraded (`stix20.upgrade`) with `--stix20`; without
    it, STIX 2.0 content is refused whole (InputError), naming what is 2.0 and the option."""
    from accord.exchange import stix20

    if upgrade:
        return stix20.upgrade(posted)
    old = [o for o in posted if stix20.is_stix20(o)]
    if old or bundle20:
        what = ["a STIX 2.0 bundle"] if bundle20 else []
        if old:
            what.append(f"{len(old)} STIX 2.0 object(s), the first {str(old[0].get('id'))[:160]}")
        raise InputError(
            f"{path}: {', '.join(what)}: accord stores STIX 2.1; "
            "--stix20 upgrades STIX 2.0 content to 2.1"
        )
    return stix20.Upgraded(posted, [])


def option_marking(
    party: str,
    world: World,
    level: str | None,
    topic: list[str] | None,
    purpose: str,
    rel_to: list[str] | None,
    noforn: bool,
    orcon: bool,
    group: list[str] | None,
) -> Marking | None:
    """Returns the release marking the options name (`--level`, `--topic`, …), checked against
    the registry, or None without `--level`. InputError names what is wrong."""
    from accord.policy.marking import Marking, parse_groups

    if level is None and group:
        raise InputError("--group: name the marking too (--level, --topic) for unmarked objects")
    if level is None:
        return None
    default = Marking.of(
        party,
        level,
        [t.strip().lower() for t in topic or []],
        purpose=purpose,
        rel_to=None if not rel_to else [r.strip().upper() for r in rel_to],
        noforn=noforn,
        orcon=orcon,
        groups=parse_groups(group or []),
    )
    world.check_marking(default)
    return default


def publish_check(party: str, world: World) -> Callable[[Marking], str | None]:
    """Returns the check every object's marking passes before the host stores it: this node's
    party as originator, a marking the registry knows."""

    def check(m: Marking) -> str | None:
        if m.originator != party:
            return f"this node publishes {party} items only (originator {m.originator})"
        try:
            world.check_marking(m)
        except InputError as exc:
            return str(exc)
        return None

    return check


def host_user() -> str:
    """Returns the name the audit trail gives the node's host acting from the command line:
    `cli:` and the operating-system user who ran the command."""
    return "cli:" + (os.environ.get("ACCORD_USER") or os.environ.get("USER") or "cli")


def items_collection(n: Invocation, collection: str) -> Collection:
    """Returns this node's items collection named by `--collection` (id or alias)."""
    target = next((c for c in n.node().collections() if collection in (c.id, c.alias)), None)
    if target is None or target.kind != "items":
        raise InputError(f"--collection: {collection!r} is not this node's items collection")
    return target


def previews_of(
    world: World, party: str, groups: dict[str, tuple[Marking, list[str]]], day: date
) -> list[dict[str, Any]]:
    """Returns, per release marking, who could receive its objects on `day`."""
    from accord.exchange.preview import preview

    return [
        {
            "marking": m.to_json(),
            "marking_id": k,
            "objects": ids,
            "recipients": preview(world, party, m, day),
        }
        for k, (m, ids) in groups.items()
    ]


def store_as_host(
    n: Invocation, party: str, world: World, collection: str, objects: list[Any]
) -> dict[str, Any]:
    """Stores `objects` in one transaction with the node's authority (accord.exchange.authority);
    the audit trail names the operating-system user who ran the command. Returns the summary
    `--json` prints."""
    from accord.exchange import publishing
    from accord.exchange.authority import Writer

    target = items_collection(n, collection)
    outcomes = publishing.store_objects(
        n.store, target, objects, Writer.host(host_user(), party), publish_check(party, world)
    )
    return {
        "success_count": sum(o.ok for o in outcomes),
        "failure_count": sum(not o.ok for o in outcomes),
        "failures": [{"id": o.id, "message": o.message} for o in outcomes if not o.ok],
    }


def print_previews(
    groups: dict[str, tuple[Marking, list[str]]], previews: list[dict[str, Any]], day: date
) -> None:
    """Prints one table per release marking: who can receive its objects, by which route."""
    for (m, _ids), p in zip(groups.values(), previews, strict=True):
        title = f"{m.label()} — {len(p['objects'])} object(s), as of {day.isoformat()}"
        table = Table(title=title, title_justify="left")
        for col in ("party", "", "route", "level", "why"):
            table.add_column(col)
        for r in p["recipients"]:
            why = (
                "under " + ", ".join(r["basis"])
                if r["allowed"]
                else "refused by " + " ".join(r["rules"])
            )
            table.add_row(
                r["party"],
                "[green]can receive[/]" if r["allowed"] else "[red]cannot[/]",
                "→".join(r["route"]),
                r["recipient_level"] or "",
                why,
            )
        console.print(table)


def print_published(pub: dict[str, Any] | None) -> None:
    if pub is None:
        console.print("dry run: nothing published")
        return
    console.print(f"published: {pub['success_count']} stored, {pub['failure_count']} refused")
    for f in pub["failures"]:
        console.print(f"  {f['id']}: {f['message']}")


# The marking options `accord publish` and `accord misp import` share (one declaration each).
TopicOpt = Annotated[list[str] | None, typer.Option("--topic", help="Topic (repeatable).")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose (R4).")]
RelToOpt = Annotated[list[str] | None, typer.Option("--rel-to", help="REL TO party (repeatable).")]
NofornOpt = Annotated[bool, typer.Option("--noforn", help="Never to another party.")]
OrconOpt = Annotated[bool, typer.Option("--orcon", help="Originator controlled.")]
CollectionOpt = Annotated[str, typer.Option("--collection", help="Collection id or alias.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the preview only.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Preview date.", show_default="today")]


@app.command("publish")
def publish_cmd(
    file: Annotated[Path, typer.Argument(help="STIX objects: a bundle, an envelope or a list.")],
    level: Annotated[
        str | None, typer.Option("--level", help="Level for objects without a release marking.")
    ] = None,
    topic: TopicOpt = None,
    purpose: PurposeOpt = DEFAULT_PURPOSE,
    rel_to: RelToOpt = None,
    noforn: NofornOpt = False,
    orcon: OrconOpt = False,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="Need-to-know group at this node (repeatable, R9): who here may see it. "
            "Clearance alone never grants access, so a classified item without a group is "
            "readable by partners only.",
        ),
    ] = None,
    collection: CollectionOpt = "items",
    dry_run: DryRunOpt = False,
    at: AtOpt = None,
    stix20_opt: Annotated[
        bool,
        typer.Option(
            "--stix20",
            help="Accept STIX 2.0 content: upgrade it to STIX 2.1 first and list each change "
            "(without it, STIX 2.0 content is refused).",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Publish STIX objects as this node's items, after showing who could receive each today."""
    from accord.exchange import publishing, stix20
    from accord.exchange.marking_rows import marking_index
    from accord.policy.world import World

    n = invocation()
    party = n.node().party
    world = World(n.registry())
    day = parse_date(at)
    read, bundle20 = _read_objects(file)
    upgraded = _stix21(file, read, bundle20, stix20_opt)
    posted = upgraded.objects
    index = marking_index(n.store)
    default = option_marking(party, world, level, topic, purpose, rel_to, noforn, orcon, group)
    drafted = publishing.draft(index, posted, default)
    if drafted.unmarked:
        raise InputError(
            f"{file}: {drafted.unmarked[0]} carries no release marking: give --level (and --topic)"
        )
    groups, objects = drafted.groups, drafted.objects
    previews = previews_of(world, party, groups, day)
    result: dict[str, Any] = {"at": day.isoformat(), "preview": previews, "published": None}
    if stix20_opt:
        result["upgraded"] = {
            "count": sum(stix20.is_stix20(o) for o in read),
            "changes": upgraded.changes,
        }
    if not dry_run:
        result["published"] = store_as_host(n, party, world, collection, objects)
    if json:
        print_json(result)
        return
    if stix20_opt:
        _print_upgraded(result["upgraded"])
    print_previews(groups, previews, day)
    print_published(result["published"])


#: How many change lines of a STIX 2.0 upgrade the text output shows (`--json` gives them all).
UPGRADE_LINES_SHOWN = 20


def _print_upgraded(upgraded: dict[str, Any]) -> None:
    changes: list[str] = upgraded["changes"]
    console.print(
        f"STIX 2.0 → 2.1: {upgraded['count']} object(s) upgraded, {len(changes)} change(s)",
        markup=False,
    )
    for line in changes[:UPGRADE_LINES_SHOWN]:
        console.print(f"  {line}", markup=False, highlight=False)
    if len(changes) > UPGRADE_LINES_SHOWN:
        console.print(f"  … {len(changes) - UPGRADE_LINES_SHOWN} more (--json lists them all)")
