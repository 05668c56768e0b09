"""Agreement moves over the API: `GET /changes?since=DATE`, for tools that notify.

Each entry names the agreement, the event (a notice, a suspension, a termination, an expiry), the
day it is read on and the day it takes effect, and what it did to releases — the what-if diff of
that day (`accord.policy.changes`, the same list as the web interface's changes page). Readable by
every national role; partner nodes speak TAXII and are refused, as everywhere in this API.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from accord.api.deps import NodeDep, Who, day
from accord.api.errors import Invalid, error_responses
from accord.api.models import MarkingOut
from accord.policy import changes as moves

router = APIRouter(responses=error_responses(400, 401, 403, 422, 503))


class PairChange(BaseModel):
    """What changed for releases by `holder` (the originator) to `recipient`."""

    holder: str
    recipient: str
    gained: list[MarkingOut]
    lost: list[MarkingOut] = Field(description="Markings no longer releasable")
    no_longer_via_hub: list[MarkingOut]
    now_via_hub: list[MarkingOut] = Field(
        description="Markings still releasable, but through a hub instead of directly"
    )


class ChangeOut(BaseModel):
    """One move of an agreement and what it did to releases."""

    agreement: str = Field(description="The agreement's id")
    title: str
    event: str = Field(description="termination-notified, suspended, terminated or expired")
    date: dt.date = Field(description="The day of the event (a notice: the day it was given)")
    effective: dt.date = Field(description="The day releases change (a notice: its effective date)")
    status: str = Field(description="The agreement's status on `effective`, as recorded now")
    route_change: bool = Field(description="Some releases now go through a hub (direct → hub)")
    stopped: int = Field(description="Releases (originator, recipient, marking) that stop")
    rerouted: int = Field(description="Releases that stay allowed but through a hub")
    markings: int = Field(description="Markings compared: one per level × topic of each party")
    pairs: list[PairChange]


@router.get(
    "/changes",
    tags=["releasability"],
    summary="Moves of agreements since a date and what they did to releases",
)
def list_changes(
    node: NodeDep, who: Who, since: dt.date | None = None, until: dt.date | None = None
) -> list[ChangeOut]:
    """Every notice, suspension, termination or expiry of an information agreement dated on or
    after `since` (default: 90 days before today) — or given earlier and taking effect on or
    after it — and on or before `until` when given, newest first."""
    start = since if since is not None else day(node, None) - timedelta(days=moves.WINDOW)
    if until is not None and until < start:
        raise Invalid("until is before since", "until", "BAD_RANGE")
    world = node.world()[1]
    return [ChangeOut.model_validate(c.to_json()) for c in moves.changes(world, start, until)]
