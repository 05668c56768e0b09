"""The agreements list: every agreement of the registry with its status on a date, filtered by
party, kind and status (PRODUCT.md §2; the same answer as `accord agreements list` and
`GET /api/v1/agreements`, from `lifecycle.on_date`).

`/agreements?at=&party=&kind=&status=` lists the agreements that existed on the date (an event on
or before it). Every signed-in user of the node reads it; a legal officer also finds here the way
to record a note or a consent (events are recorded from the agreement's page).
"""

from __future__ import annotations

from starlette.responses import Response

from accord.errors import InputError
from accord.i18n import _
from accord.registry import lifecycle
from accord.registry.model import AgreementKind
from accord.registry.recording import RECORDER_ROLE
from accord.web.pages import Ctx, page

STATUSES = tuple(s.value for s in lifecycle.Status if s is not lifecycle.Status.NONE)
KINDS = tuple(k.value for k in AgreementKind)


def _choice(ctx: Ctx, name: str, choices: tuple[str, ...]) -> str:
    value = ctx.param(name)
    if value and value not in choices:
        raise InputError(
            _("%(field)s: %(value)s is not one of the choices")
            % {"field": name, "value": repr(value[:40])}
        )
    return value


@page
def agreements_page(ctx: Ctx) -> Response:
    """The list on `?at=` (default today), filtered by `party`, `kind` and `status`."""
    at = ctx.date_param()
    world = ctx.world()
    party = ctx.param("party").upper()
    if party:
        world.party(party)  # NotFound names an unknown code
    kind = _choice(ctx, "kind", KINDS)
    wanted = _choice(ctx, "status", STATUSES)
    found = lifecycle.on_date(
        world.registry.agreements, at, parties=[party] if party else [], kind=kind or None
    )
    rows = [(ag, st.value) for ag, st in found if not wanted or st.value == wanted]
    return ctx.render(
        "agreements.html",
        section="agreements",
        at=at,
        rows=rows,
        party_filter=party,
        kind=kind,
        status_filter=wanted,
        parties=sorted(world.parties.values(), key=lambda p: p.code),
        kinds=KINDS,
        statuses=STATUSES,
        recorder=RECORDER_ROLE in ctx.user.roles,
        recorded=ctx.param("recorded"),
    )
