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
from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.responses import Response

from accord import i18n, labels
from accord.errors import NotFound
from accord.exchange import repository as repo
from accord.exchange.preview import preview
from accord.i18n import _
from accord.policy.access import may_access
from accord.policy.marking import Marking
from accord.policy.world import World
from accord.registry.model import TOPICS
from accord.web.network import KEY_EVENTS
from accord.web.pages import Ctx, page

STIX_TYPES = (
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
    "note", "observed-data", "opinion", "relationship", "report", "sighting", "threat-actor",
    "tool", "vulnerability",
)  # fmt: skip
#: At most this many items are listed (newest first); the filters narrow the rest.
LIST_LIMIT = 200
_SCAN_PAGE = 500
_SCAN_MAX = 20_000


@dataclass(frozen=True)
class Item:
    """One item version as listed: STIX id, version, type, display name, collection alias, when
    it was added, its release marking and its level in this node's scheme."""

    id: str
    version: str
    type: str
    name: str
    collection: str
    added: datetime
    marking: Marking
    marking_row: int
    node_level: str | None
    body: dict[str, Any]


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


def display_name(body: dict[str, Any]) -> str:
    for key in ("name", "value", "pattern"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return str(body.get("id", ""))


def haystack(body: dict[str, Any]) -> str:
    """Returns the text the `q` filter searches: id, name, description, pattern and labels."""
    parts = [body.get(k) for k in ("id", "name", "description", "pattern", "value")]
    labels = body.get("labels")
    if isinstance(labels, list):
        parts.extend(labels)
    return " ".join(p for p in parts if isinstance(p, str)).lower()


def _matches(m: Marking, level: str, topic: str) -> bool:
    if level and f"{m.originator} {m.level}" != level:
        return False
    return not topic or topic in m.topics


def visible_items(
    ctx: Ctx,
    *,
    ids: tuple[str, ...] = (),
    type_: str = "",
    level: str = "",
    topic: str = "",
    text: str = "",
    limit: int = LIST_LIMIT,
) -> tuple[list[Item], bool]:
    """Returns the latest visible versions the user may see, newest first, matching the filters
    (`level` is `ORIGINATOR LEVEL`), at most `limit`, and whether more matched."""
    node = ctx.node
    view = node.view(ctx.user)
    index = repo.marking_index(node.store)
    rows = frozenset(
        r for r in view.rows if r in index.by_row and _matches(index.by_row[r], level, topic)
    )
    needle = text.lower()
    found: list[Item] = []
    scanned = 0
    for coll in repo.list_collections(node.store, node.config.api_root):
        after: int | None = None
        q = repo.Query(ids=ids, types=(type_,) if type_ else ())
        while scanned < _SCAN_MAX:
            batch, more = repo.page(node.store, coll.key, rows, q, after, _SCAN_PAGE, ctx.user.name)
            scanned += len(batch)
            for r in batch:
                body = orjson.loads(r.body)
                if body.get("type") == "marking-definition":
                    continue  # a release marking, not an item
                if needle and needle not in haystack(body):
                    continue
                grant = view.grants.get(r.marking)
                found.append(
                    Item(
                        r.stix_id,
                        r.version,
                        str(body.get("type", "")),
                        display_name(body),
                        coll.alias or coll.id,
                        datetime.fromtimestamp(r.date_added / 1_000_000, UTC),
                        index.by_row[r.marking],
                        r.marking,
                        grant.level if grant else None,
                        body,
                    )
                )
            if not more or not batch:
                break
            after = batch[-1].date_added
    found.sort(key=lambda i: i.added, reverse=True)
    return found[:limit], len(found) > limit


def find_item(ctx: Ctx, item_id: str) -> Item:
    """Returns the latest version of `item_id` the user may see; NotFound when there is none
    (whether it does not exist or is not the user's to see)."""
    items, _more = visible_items(ctx, ids=(item_id,), limit=1)
    if not items:
        raise NotFound(_("no item %(id)s") % {"id": repr(item_id)})
    return items[0]


@page
def items_page(ctx: Ctx) -> Response:
    """The user's items, with the filters `type`, `level`, `topic` and `q` (text)."""
    filters = {k: ctx.param(k) for k in ("type", "level", "topic", "q")}
    items, more = visible_items(
        ctx,
        type_=filters["type"],
        level=filters["level"],
        topic=filters["topic"],
        text=filters["q"],
    )
    view = ctx.node.view(ctx.user)
    index = repo.marking_index(ctx.node.store)
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
        access=access,
        level_names=_level_names(ctx),
        keys=KEY_EVENTS,
        topics=i18n.listing([labels.topic(t) for t in sorted(item.marking.topics)]),
        published=ctx.param("published") == "1",
    )
