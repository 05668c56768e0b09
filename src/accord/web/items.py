"""The items a user may see (R9), and each item's release panel.

`/items` lists the latest visible version of every item in the node's collections (its own items
and what partners delivered to its inbox) that the signed-in user may see — the same marking rows
TAXII serves that user (`node.view`) — filtered by type, level, topic and text. `/items/{id}` shows
one item and its release panel: for every other party, whether the node may release it on the
chosen date, the rule codes, route, recipient level and explanation, exactly as `accord check`
decides (`decide` with holder = this node). An item the user may not see is answered exactly like
an item that does not exist (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.responses import Response

from accord import i18n, labels
from accord.errors import NotFound
from accord.exchange import reading
from accord.exchange.marking_rows import marking_index
from accord.exchange.preview import preview
from accord.exchange.reading import Item, Reader, visible_items
from accord.i18n import _
from accord.policy.access import may_access
from accord.policy.marking import Marking
from accord.policy.world import World
from accord.registry.model import TOPICS
from accord.web import regions
from accord.web.changes import banner
from accord.web.csvout import csv_response
from accord.web.network import KEY_EVENTS
from accord.web.pages import Ctx, page, query_string

STIX_TYPES = (
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
    "note", "observed-data", "opinion", "relationship", "report", "sighting", "threat-actor",
    "tool", "vulnerability",
)  # fmt: skip


#: How a release panel's rows may be ordered: denied first (the default: what needs attention),
#: by region, or by party code.
PANEL_ORDERS = ("denied", "region", "party")
#: Which rows a release panel may show.
PANEL_SHOWS = ("all", "denied", "allowed")


@dataclass(frozen=True)
class Panel:
    """A release panel: the marking, the date, one row per other party (denied first unless
    ordered otherwise), the rows shown after the filter, and how they are ordered."""

    marking: Marking
    at: date
    rows: list[dict[str, Any]]
    shown: list[dict[str, Any]] = field(default_factory=list)
    order: str = "denied"
    show: str = "all"
    region: str = ""

    @property
    def allowed(self) -> int:
        return sum(1 for r in self.rows if r["allowed"])


def release_panel(
    world: World,
    node_party: str,
    marking: Marking,
    at: date,
    *,
    order: str = "denied",
    show: str = "all",
    region: str = "",
) -> Panel:
    """Returns the decision for every other party on `at` (holder = this node) — the publish
    preview of `accord publish --dry-run` — ordered denied first (`order="denied"`), by region
    then denied first (`"region"`) or by party code (`"party"`), and the rows `show` keeps
    ("all", "denied", "allowed") within `region` (a key of `accord.web.regions`, or every
    region). Every row carries `region`, the key of its party's region."""
    rows = preview(world, node_party, marking, at)
    for r in rows:
        r["name"] = world.parties[r["party"]].name
        r["region"] = regions.region(r["party"])
    order = order if order in PANEL_ORDERS else "denied"
    show = show if show in PANEL_SHOWS else "all"
    region = region if region in regions.REGION_WORDS else ""
    if order == "region":
        rows.sort(key=lambda r: (regions.ORDER[r["region"]], r["allowed"], r["party"]))
    elif order == "party":
        rows.sort(key=lambda r: r["party"])
    else:
        rows.sort(key=lambda r: (r["allowed"], r["party"]))
    shown = [
        r
        for r in rows
        if (show == "all" or r["allowed"] == (show == "allowed"))
        and (not region or r["region"] == region)
    ]
    return Panel(marking, at, rows, shown, order, show, region)


def reader(ctx: Ctx) -> Reader:
    """Returns the signed-in user as a reader of the node's items (its view, R9)."""
    node = ctx.node
    return Reader(
        node.store,
        node.config.api_root,
        ctx.user.name,
        node.view(ctx.user),
        marking_index(node.store),
    )


def find_item(ctx: Ctx, item_id: str) -> Item:
    """Returns the latest version of `item_id` the user may see; NotFound when there is none
    (whether it does not exist or is not the user's to see)."""
    found = reading.find_item(reader(ctx), item_id)
    if found is None:
        raise NotFound(_("no item %(id)s") % {"id": repr(item_id)})
    return found


#: Items listed on one page of `/items`.
PAGE_SIZE = 50
#: At most this many items are read for one listing (paged, sorted or exported).
LIST_MAX = 20_000
#: The columns `/items` may be sorted by, with the key each sorts on.
SORTS: dict[str, Callable[[Item], Any]] = {
    "added": lambda i: (i.added, i.id),
    "name": lambda i: (i.name.casefold(), i.id),
    "type": lambda i: (i.type, i.name.casefold()),
    "originator": lambda i: (i.marking.originator, i.marking.level, i.name.casefold()),
    "level": lambda i: (i.node_level or "", i.name.casefold()),
}
CSV_HEADER = (
    "id", "name", "type", "originator", "level", "topics", "purpose", "rel_to", "noforn",
    "orcon", "groups", "level_here", "collection", "added_utc",
)  # fmt: skip


@dataclass(frozen=True)
class Listing:
    """The `/items` criteria as given, and the problems found in them (field → message)."""

    filters: dict[str, str]
    start: date | None
    end: date | None
    sort: str
    descending: bool
    page: int
    problems: dict[str, str]


def read_listing(ctx: Ctx) -> Listing:
    """Returns the listing's filters, order and page, with every problem in them at once."""
    filters = {
        k: ctx.param(k)[:200] for k in ("type", "level", "topic", "q", "originator", "from", "to")
    }
    problems: dict[str, str] = {}
    dates: dict[str, date | None] = {"from": None, "to": None}
    for key in dates:
        if filters[key]:
            try:
                dates[key] = date.fromisoformat(filters[key])
            except ValueError:
                problems[key] = _("%(value)s is not a date: write it as YYYY-MM-DD.") % {
                    "value": repr(filters[key][:40])
                }
    start, end = dates["from"], dates["to"]
    if start and end and end < start:
        problems["to"] = _("The end of the period is before its start.")
    originator = filters["originator"].upper()
    if originator and originator not in ctx.world().parties:
        problems["originator"] = _("%(value)s is not a party of the registry.") % {
            "value": repr(originator[:40])
        }
    filters["originator"] = originator
    sort = ctx.param("sort")
    number = ctx.param("page")
    return Listing(
        filters,
        start,
        end,
        sort if sort in SORTS else "added",
        ctx.param("dir") != "asc" if sort in SORTS else True,
        int(number) if number.isdigit() and 0 < len(number) < 7 else 1,
        problems,
    )


def listed_items(ctx: Ctx, listing: Listing) -> list[Item]:
    """Returns every item the user may see (R9, `visible_items`) that the listing's filters keep,
    in its order (at most LIST_MAX are read)."""
    f = listing.filters
    found, _more = visible_items(
        reader(ctx), type_=f["type"], level=f["level"], topic=f["topic"], text=f["q"],
        limit=LIST_MAX,
    )  # fmt: skip
    kept = [
        i
        for i in found
        if (not f["originator"] or i.marking.originator == f["originator"])
        and (not listing.start or i.added.date() >= listing.start)
        and (not listing.end or i.added.date() <= listing.end)
    ]
    kept.sort(key=SORTS[listing.sort], reverse=listing.descending)
    return kept


def _items_csv(items: list[Item]) -> Response:
    def row(i: Item) -> tuple[object, ...]:
        m = i.marking
        return (
            i.id, i.name, i.type, m.originator, m.level, " ".join(sorted(m.topics)), m.purpose,
            "" if m.rel_to is None else " ".join(sorted(m.rel_to)), "yes" if m.noforn else "",
            "yes" if m.orcon else "", " ".join(sorted(m.groups)), i.node_level or "",
            i.collection, i.added.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )  # fmt: skip

    return csv_response("items.csv", CSV_HEADER, (row(i) for i in items))


@page
def items_page(ctx: Ctx) -> Response:
    """The user's items, filtered by `type`, `level`, `topic`, `q` (text), `originator` and the
    day they were added (`from`, `to`), sorted by `sort` (`dir=asc|desc`), PAGE_SIZE a `page`;
    `format=csv` downloads every item the filters keep. Problems in the filters are named next
    to their fields, all at once (400), and nothing is listed."""
    listing = read_listing(ctx)
    items: list[Item] = []
    if not listing.problems:
        items = listed_items(ctx, listing)
        if ctx.param("format") == "csv":
            return _items_csv(items)
    pages = max(1, -(-len(items) // PAGE_SIZE))
    number = min(listing.page, pages)
    view = ctx.node.view(ctx.user)
    index = marking_index(ctx.node.store)
    levels = sorted(
        {(m.originator, m.level) for r, m in index.by_row.items() if r in view.rows},
        key=lambda p: (p[0] != ctx.node.party, p[0], -ctx.world().rank(p[0], p[1])),
    )
    f = listing.filters
    kept = {k: v for k, v in f.items() if v}
    order = {"sort": listing.sort, "dir": "desc" if listing.descending else "asc"}
    return ctx.render(
        "items.html",
        status=400 if listing.problems else 200,
        section="items",
        items=items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
        total=len(items),
        first=(number - 1) * PAGE_SIZE + 1,
        page_number=number,
        pages=pages,
        listing=listing,
        filters=f,
        qs=query_string(kept | order),
        filter_qs=query_string(kept),
        types=STIX_TYPES,
        levels=[f"{o} {lv}" for o, lv in levels],
        topics=TOPICS,
        originators=sorted({o for o, _lv in levels}),
        level_names=_level_names(ctx),
    )


def _level_names(ctx: Ctx) -> dict[str, str]:
    """`ORIGINATOR LEVEL` → national name, for every party's scheme."""
    return {f"{p.code} {lv.code}": lv.name for p in ctx.world().parties.values() for lv in p.levels}


@page
def item_page(ctx: Ctx) -> Response:
    """One item: its marking, why the user may see it, and its release panel on `?at=`."""
    item = find_item(ctx, str(ctx.request.path_params["item_id"]))
    at = ctx.date_param()
    world = ctx.world()
    access = may_access(ctx.person(), item.marking, ctx.node.today(), world=world)
    return ctx.render(
        "item.html",
        section="items",
        item=item,
        at=at,
        panel=release_panel(
            world,
            ctx.node.party,
            item.marking,
            at,
            order=ctx.param("order"),
            show=ctx.param("show"),
            region=ctx.param("region"),
        ),
        region_words={k: regions.region_word(k) for k in regions.REGION_WORDS},
        alerts=banner(world, item.marking, ctx.node.party, at),
        access=access,
        level_names=_level_names(ctx),
        keys=KEY_EVENTS,
        topics=i18n.listing([labels.topic(t) for t in sorted(item.marking.topics)]),
        published=ctx.param("published") == "1",
    )
