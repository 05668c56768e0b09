"""The agreement page: parties, scope, equivalence table, lifecycle and the next renewal deadline.

`/agreements/{id}?at=DATE` shows the agreement as it stands on the date (default today): its status
then, every event of its life with the status right after it and the diplomatic notes it rests on
(plus the steps no event records: a notice taking effect, a term running out), and the last day on
which a party can still stop the next automatic renewal.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from accord.errors import NotFound
from accord.registry.lifecycle import Step, next_renewal_deadline, status, timeline
from accord.registry.model import Agreement, Level, Note
from accord.registry.precision import phrase, proven
from accord.web.network import KIND_LABELS, STATUS_LABELS
from accord.web.pages import Ctx, page


@dataclass(frozen=True)
class Cell:
    """One level in the equivalence table: its code and its national name."""

    code: str
    name: str


@dataclass(frozen=True)
class Moment:
    """One step of the lifecycle with its notes and whether it is past on the page's date."""

    step: Step
    notes: tuple[Note, ...]
    past: bool
    status_label: str
    when: str = ""  # the date as a reader should take it (`accord.registry.precision.phrase`)


def equivalence(ctx: Ctx, ag: Agreement) -> list[list[Cell | None]]:
    """Returns the table's rows: one cell per party of the agreement (None: no level there)."""
    world = ctx.world()
    names: dict[tuple[str, str], str] = {}
    for code in ag.parties:
        party = world.parties.get(code)
        levels: tuple[Level, ...] = party.levels if party else ()
        for lv in levels:
            names[(code, lv.code)] = lv.name
    out: list[list[Cell | None]] = []
    for row in ag.equivalence:
        cells: list[Cell | None] = []
        for code in ag.parties:
            lv_code = row.get(code)
            cells.append(None if lv_code is None else Cell(lv_code, names.get((code, lv_code), "")))
        out.append(cells)
    return out


@page
def agreement_page(ctx: Ctx) -> Response:
    """One agreement on `?at=` (default today)."""
    ident = str(ctx.request.path_params["agreement_id"])
    world = ctx.world()
    ag = world.agreements.get(ident)
    if ag is None:
        raise NotFound(f"no agreement {ident!r} in the registry")
    at = ctx.date_param()
    notes = {n.id: n for n in world.registry.notes}
    moments = [
        Moment(
            s,
            tuple(notes[n] for n in s.event.notes if n in notes),
            proven(s.event) <= at,
            STATUS_LABELS[s.status],
            phrase(s.event),
        )
        for s in timeline(ag)
    ]
    related = [
        n
        for n in world.registry.notes
        if n.agreement == ag.id and all(n not in m.notes for m in moments)
    ]
    st = status(ag, at)
    return ctx.render(
        "agreement.html",
        section="network",
        ag=ag,
        at=at,
        state=st.value,
        status_label=STATUS_LABELS[st],
        kind_label=KIND_LABELS[ag.kind],
        parties=[world.parties[p] if p in world.parties else None for p in ag.parties],
        party_codes=list(ag.parties),
        table=equivalence(ctx, ag),
        moments=moments,
        related=related,
        deadline=next_renewal_deadline(ag, at),
        underlying=[world.agreements.get(u) for u in ag.underlying],
        underlying_ids=list(ag.underlying),
        consents=[c for c in world.registry.consents if c.arrangement == ag.id],
    )
