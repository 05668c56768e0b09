"""`accord misp import` and `accord misp feed`: MISP events in, a partner's MISP feed out
(docs/misp.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.cli.app import DEFAULT_PURPOSE, app, console, invocation, parse_date, print_json
from accord.cli.node_cmds import (
    AtOpt,
    CollectionOpt,
    DryRunOpt,
    JsonOpt,
    NofornOpt,
    OrconOpt,
    PurposeOpt,
    RelToOpt,
    TopicOpt,
    host_user,
    option_marking,
    previews_of,
    print_previews,
    print_published,
    store_as_host,
)
from accord.errors import InputError

if TYPE_CHECKING:
    from accord.misp import importing
    from accord.policy.marking import Marking
    from accord.policy.world import World

misp_app = typer.Typer(
    help="MISP: import MISP events, write a partner's MISP feed.", no_args_is_help=True
)
app.add_typer(misp_app, name="misp")


@misp_app.command("import")
def import_cmd(
    path: Annotated[
        Path, typer.Argument(help="A MISP event file (MISP's JSON export) or a directory of them.")
    ],
    level: Annotated[
        str | None, typer.Option("--level", help="Level for events without accord tags.")
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
            help="Need-to-know group at this node (repeatable, R9), for every event imported.",
        ),
    ] = None,
    collection: CollectionOpt = "items",
    dry_run: DryRunOpt = False,
    at: AtOpt = None,
    json: JsonOpt = False,
) -> None:
    """Publish MISP events as this node's items: misp-stix converts each to STIX 2.1; an event's
    accord tags give its release marking, else --level and --topic do. Every file is read and
    converted before anything is stored; each file is then stored in one transaction."""
    from accord.exchange import publishing
    from accord.exchange.marking_rows import marking_index
    from accord.misp import importing
    from accord.policy.marking import parse_groups
    from accord.policy.world import World

    n = invocation()
    party = n.node().party
    world = World(n.registry())
    day = parse_date(at)
    options_group = group if level is not None else None  # with tags alone: added to them
    default = option_marking(
        party, world, level, topic, purpose, rel_to, noforn, orcon, options_group
    )
    groups = parse_groups(group or [])  # added to every event's marking, tags' or options'
    files = importing.event_files(path)
    read = [(f, importing.read_events(f)) for f in files]
    index = marking_index(n.store)
    per_file: list[tuple[Path, list[Any]]] = []
    all_groups: dict[str, tuple[Marking, list[str]]] = {}
    events_out: list[dict[str, Any]] = []
    for f, events in read:
        objects: list[Any] = []
        seen: set[tuple[str, str]] = set()
        for e in events:
            marking = _event_marking(e, default, groups, party, world)
            drafted = publishing.draft(index, e.objects, marking)
            for obj in drafted.objects:
                key = (str(obj.get("id")), str(obj.get("modified", "")))
                if key not in seen:
                    seen.add(key)
                    objects.append(obj)
            for k, (m, ids) in drafted.groups.items():
                all_groups.setdefault(k, (m, []))[1].extend(ids)
            events_out.append(
                {
                    "file": str(f),
                    "uuid": e.uuid,
                    "info": e.info,
                    "marking": marking.to_json(),
                    "from_tags": e.marking is not None,
                    "objects": len(e.objects),
                }
            )
        per_file.append((f, objects))
    previews = previews_of(world, party, all_groups, day)
    result: dict[str, Any] = {
        "at": day.isoformat(),
        "events": events_out,
        "preview": previews,
        "published": None,
    }
    if not dry_run:
        totals: dict[str, Any] = {"success_count": 0, "failure_count": 0, "failures": []}
        for _f, objects in per_file:
            pub = store_as_host(n, party, world, collection, objects)
            totals["success_count"] += pub["success_count"]
            totals["failure_count"] += pub["failure_count"]
            totals["failures"].extend(pub["failures"])
        result["published"] = totals
    if json:
        print_json(result)
        return
    for row in events_out:
        how = "accord tags" if row["from_tags"] else "--level"
        console.print(
            f"{row['file']}: event {row['uuid']} ({row['info']}): {row['objects']} object(s)"
        )
        console.print(f"  marking from {how}")
    print_previews(all_groups, previews, day)
    print_published(result["published"])


def _event_marking(
    e: importing.Event, default: Marking | None, groups: list[str], party: str, world: World
) -> Marking:
    """Returns the release marking an event is published under: its accord tags' (with the
    node's --group), else the options'. InputError names the event when it has neither, or
    when its tags name another originator or a marking the registry does not know."""
    from accord.policy.marking import Marking

    where = f"{e.path}: event {e.uuid}"
    if e.marking is None:
        if default is None:
            raise InputError(f"{where} carries no accord tags: give --level (and --topic)")
        return default
    m = Marking.of(
        e.marking.originator,
        e.marking.level,
        e.marking.topics,
        purpose=e.marking.purpose,
        rel_to=e.marking.rel_to,
        noforn=e.marking.noforn,
        orcon=e.marking.orcon,
        groups=groups,
    )
    if m.originator != party:
        raise InputError(
            f"{where}: this node publishes {party} items only (accord:originator {m.originator})"
        )
    try:
        world.check_marking(m)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return m


@misp_app.command("feed")
def feed_cmd(
    to: Annotated[str, typer.Option("--to", help="The partner party the feed is for.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the feed into.")],
    json: JsonOpt = False,
) -> None:
    """Write what is releasable to a partner today as a MISP feed: manifest.json, hashes.csv and
    one file per event; exactly what the partner would read over TAXII, recorded as a release
    to it in the audit trail."""
    from accord.misp import feed as misp_feed
    from accord.misp import partner
    from accord.principals import Principal

    n = invocation()
    node = n.node()
    code = to.strip().upper()
    known = {p.code for p in n.registry().parties}
    if code not in known:
        raise InputError(f"--to: {code!r} is not a known party")
    if code == node.party:
        raise InputError(f"--to: {code} is this node's party; a feed is for a partner")
    # The node's host reads as the partner would; the release record names the host user.
    who = Principal(host_user(), "partner", code)
    sources, view = partner.partner_sources(node, who)
    built = misp_feed.build_feed(sources)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} is not a directory")
    files = misp_feed.write_feed(built, out)
    partner.record_feed_release(node, who, view, built.sources())
    result = {
        "to": code,
        "at": node.today().isoformat(),
        "out": str(out),
        "events": len(built.events),
        "objects": len(built.sources()),
        "files": [p.name for p in files],
    }
    if json:
        print_json(result)
        return
    console.print(
        f"MISP feed for {code} as of {result['at']}: {result['events']} event(s), "
        f"{result['objects']} object(s) in {out}"
    )
