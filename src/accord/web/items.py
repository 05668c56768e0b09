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

from dataclasses import dataclass
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
from accord.web.changes import banner
from accord.web.network import KEY_EVENTS
from accord.web.pages import Ctx, page

STIX_TYPES = (
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
    "note", "observed-data", "opinion", "relationship", "report", "sighting", "threat-actor",
    "tool", "vulnerability",
)  # fmt: skip


@dataclass(frozen=True)
class Panel:
    """A release panel: the marking, the date, one row per other party (allowed first)."""

    marking: Marking
    at: date
    rows: list[dict[str, Any]]

    @property
    def allowed(self) -> int:
        return sum(1 for r in self.rows if r["allowed"])


def release_panel(world: World, node_party: str, marking: Marking, at: date) -> Panel:
    """Returns the decision for every other party on `at` (holder = this node), allowed ones
    first, each group by party code — the publish preview of `accord publish`."""
    rows = preview(world, node_party, marking, at)
    rows.sort(key=lambda r: (not r["allowed"], r["party"]))
    for r in rows:
        r["name"] = world.parties[r["party"]].name
    return Panel(marking, at, rows)


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


@page
def items_page(ctx: Ctx) -> Response:
    """The user's items, with the filters `type`, `level`, `topic` and `q` (text)."""
    filters = {k: ctx.param(k) for k in ("type", "level", "topic", "q")}
    items, more = visible_items(
        reader(ctx),
        type_=filters["type"],
        level=filters["level"],
        topic=filters["topic"],
        text=filters["q"],
    )
    view = ctx.node.view(ctx.user)
    index = marking_index(ctx.node.store)
    levels = sorted(
        {(m.originator, m.level) for r, m in index.by_row.items() if r in view.rows},
        key=lambda p: (p[0] != ctx.node.party, p[0], -ctx.world().rank(p[0], p[1])),
    )
    return ctx.render(
        "items.html",
        section="items",
        items=items,
        more=more,
        filters=filters,
        types=STIX_TYPES,
        levels=[f"{o} {lv}" for o, lv in levels],
        topics=TOPICS,
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
        panel=release_panel(world, ctx.node.party, item.marking, at),
        alerts=banner(world, item.marking, ctx.node.party, at),
        access=access,
        level_names=_level_names(ctx),
        keys=KEY_EVENTS,
        topics=i18n.listing([labels.topic(t) for t in sorted(item.marking.topics)]),
        published=ctx.param("published") == "1",
    )
