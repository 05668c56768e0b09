"""Alerts when an agreement moves: the changes page and the banner of an item's page.

`/changes?since=` lists every notice, suspension, termination or expiry of an information
agreement since a date and what it did to releases on the day it took effect — the what-if diff
(`accord.policy.changes`, the list `GET /api/v1/changes` serves), summarised as the what-if page
summarises it. `banner` groups an item's alerts (`accord.policy.changes.alerts`) for its page: a
notice running against the agreement a release rests on, or a stop that re-routed a release
through a hub or ended it (PRODUCT.md §3, R1 and R7).

Every signed-in user of the node holding a role may read them (the API gives the list to every
national role); a user without any role is refused.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.responses import Response

from accord.errors import Forbidden, InputError
from accord.i18n import _
from accord.policy import changes as moves
from accord.policy.marking import Marking
from accord.policy.world import World
from accord.web.pages import Ctx, page


def may_read(ctx: Ctx) -> None:
    """Raises Forbidden unless the signed-in user holds one of the node's roles."""
    if not ctx.user.roles:
        raise Forbidden(_("the changes are for the node's people with a role"))


def _since(ctx: Ctx) -> date:
    if not ctx.param("since"):
        return ctx.node.today() - timedelta(days=moves.WINDOW)
    return ctx.date_param("since")


@page
def changes_page(ctx: Ctx) -> Response:
    """The moves of agreements since `?since=` (default: 90 days before today), newest first,
    each with the releases it stopped, re-routed through a hub or opened."""
    may_read(ctx)
    try:
        since = _since(ctx)
    except InputError as exc:
        return ctx.render(
            "changes.html", status=400, section="changes", since=None, entries=[], error=str(exc)
        )
    # The what-if page's summary of a list of markings (imported here: whatif → publish → items
    # → this module for the banner).
    from accord.web.whatif import summary

    world = ctx.world()
    entries: list[dict[str, Any]] = []
    for c in moves.changes(world, since):
        rows = [
            {
                "holder": p.holder,
                "recipient": p.recipient,
                "gained": summary(world, p.gained),
                "lost": summary(world, p.lost),
                "unhubbed": summary(world, p.unhubbed),
                "hubbed": summary(world, p.hubbed),
            }
            for p in c.pairs
        ]
        entries.append({"change": c, "rows": rows})
    return ctx.render("changes.html", section="changes", since=since, entries=entries, error=None)


def banner(world: World, marking: Marking, holder: str, at: date) -> list[dict[str, Any]]:
    """Returns the item's alerts on `at` grouped per (agreement, event, outcome, route): each with
    the recipients concerned, for the banner of the item's page."""
    groups: dict[tuple[str, str, str, tuple[str, ...]], dict[str, Any]] = {}
    for a in moves.alerts(world, marking, holder, at):
        hub = a.route[1:-1] if a.outcome == "rerouted" else ()
        key = (a.agreement, a.event, a.outcome, hub)
        g = groups.setdefault(
            key,
            {
                "agreement": a.agreement,
                "event": a.event,
                "date": a.date,
                "effective": a.effective,
                "outcome": a.outcome,
                "hub": ", ".join(hub),
                "recipients": [],
            },
        )
        g["recipients"].append(a.recipient)
    return list(groups.values())
