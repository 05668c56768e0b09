"""The registry resources: parties, agreements (with their dated events), notes and consents.

Reads mirror `accord parties|agreements|notes|consents … --json`; every write goes through
`accord.registry.recording` (and so `service.import_registry`), so it is validated against the
whole registry (all or nothing) and recorded in the audit trail under the calling credential's
name (PRODUCT.md §7), as the web forms record it under the signed-in user's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from accord.api.deps import NodeDep, Who, day
from accord.api.errors import Conflict, Invalid, error_responses, problem_field
from accord.errors import ImportRejected, NotFound
from accord.node import Node
from accord.registry import lifecycle, precision, recording
from accord.registry.model import (
    Agreement,
    AgreementKind,
    Consent,
    Event,
    LegalForm,
    Note,
    Party,
    Registry,
    Source,
)
from accord.registry.recording import RecordConflict
from accord.registry.repository import Changes

router = APIRouter(responses=error_responses(400, 401, 403, 404, 422, 503))


class AgreementSummary(BaseModel):
    id: str
    title: str
    kind: AgreementKind
    legal_form: LegalForm
    parties: list[str]
    hub: str | None
    status: lifecycle.Status
    in_force: bool
    illustrative: bool


class TimelineStep(BaseModel):
    date: dt.date
    kind: str
    status: lifecycle.Status
    effective: dt.date | None
    notes: list[str]
    summary: str | None
    precision: str = Field(description="day, month, year, or by (no later than the date)")
    when: str = Field(description="The date as a reader should take it: `by 2016-12-31`, …")
    proven: dt.date = Field(description="The day decisions read the event on (docs/registry.md)")
    sources: list[Source]
    illustrative: bool
    derived: bool


class AgreementDetail(BaseModel):
    """An agreement, its status on `at`, its timeline and its next renewal deadline."""

    agreement: Agreement
    at: date
    status: lifecycle.Status
    in_force: bool
    timeline: list[TimelineStep]
    next_renewal_deadline: date | None


class RegistryChange(BaseModel):
    """What a write changed (the `accord import --json` answer): keys added and replaced."""

    changed: bool
    added: dict[str, list[str]]
    replaced: dict[str, list[str]]


def _registry(node: Node) -> Registry:
    # The node's world is rebuilt only when the registry version changes (in any process).
    return node.world()[1].registry


def _agreement(registry: Registry, agreement_id: str) -> Agreement:
    ag = next((a for a in registry.agreements if a.id == agreement_id), None)
    if ag is None:
        raise NotFound(f"{agreement_id!r} is not a known agreement")
    return ag


_RECORD_PREFIX = re.compile(r"^(?:consents\.0|notes\.0|agreements\.0\.events\.\d+)(?:\.|$)")


def _write(write: Callable[[], Changes], response: Response) -> RegistryChange:
    """Runs one `accord.registry.recording` write (validated against the whole registry, all or
    nothing, audited under the caller); a rejection names the field of the posted record, a
    different record under the same key is a 409."""
    try:
        changes = write()
    except RecordConflict as exc:
        raise Conflict(str(exc), field=exc.field, code=exc.code) from None
    except ImportRejected as exc:
        inner = problem_field(exc.problems)
        field = _RECORD_PREFIX.sub("", inner) if inner else None
        raise Invalid("; ".join(exc.problems), field or None, "IMPORT_REJECTED") from None
    response.status_code = 201 if not changes.empty else 200
    return RegistryChange(changed=not changes.empty, added=changes.added, replaced=changes.replaced)


def _detail(ag: Agreement, at: date) -> AgreementDetail:
    st = lifecycle.status(ag, at)
    return AgreementDetail(
        agreement=ag,
        at=at,
        status=st,
        in_force=st in lifecycle.IN_FORCE_STATES,
        timeline=[
            TimelineStep(
                date=s.event.date,
                kind=s.event.kind.value,
                status=s.status,
                effective=s.event.effective,
                notes=list(s.event.notes),
                summary=s.event.summary,
                precision=s.event.precision,
                when=precision.phrase(s.event),
                proven=precision.proven(s.event),
                sources=list(s.event.sources),
                illustrative=s.event.illustrative,
                derived=s.derived,
            )
            for s in lifecycle.timeline(ag)
        ],
        next_renewal_deadline=lifecycle.next_renewal_deadline(ag, at),
    )


_CREATED: dict[int | str, dict[str, Any]] = {
    200: {"description": "Already recorded: nothing changed"}
}


@router.get("/parties", tags=["registry"], summary="List the parties and their schemes")
def list_parties(node: NodeDep, who: Who) -> list[Party]:
    return list(_registry(node).parties)


@router.get("/parties/{code}", tags=["registry"], summary="Show one party")
def get_party(code: str, node: NodeDep, who: Who) -> Party:
    wanted = code.strip().upper()
    party = next((p for p in _registry(node).parties if p.code == wanted), None)
    if party is None:
        raise NotFound(f"{code[:40]!r} is not a known party")
    return party


@router.get("/agreements", tags=["registry"], summary="List agreements with their status on a date")
def list_agreements(
    node: NodeDep,
    who: Who,
    party: Annotated[
        list[str], Query(description="Only those binding this party (repeat: all of them)")
    ] = [],  # noqa: B006
    kind: AgreementKind | None = None,
    at: Annotated[date | None, Query(description="The date; default today")] = None,
    in_force: Annotated[bool, Query(description="Only those in force on the date")] = False,
) -> list[AgreementSummary]:
    registry = _registry(node)
    on = day(node, at)
    wanted = [p.strip().upper() for p in party]
    known = {p.code for p in registry.parties}
    for p in wanted:
        if p not in known:
            raise NotFound(f"party: {p[:40]!r} is not a known party")
    rows = []
    found = lifecycle.on_date(
        registry.agreements, on, parties=wanted, kind=kind, in_force_only=bool(in_force)
    )
    for ag, st in found:
        force = st in lifecycle.IN_FORCE_STATES
        rows.append(
            AgreementSummary(
                id=ag.id,
                title=ag.title,
                kind=ag.kind,
                legal_form=ag.legal_form,
                parties=sorted(ag.parties),
                hub=ag.hub,
                status=st,
                in_force=force,
                illustrative=ag.illustrative,
            )
        )
    return rows


@router.get(
    "/agreements/{agreement_id}",
    tags=["registry"],
    summary="Show an agreement: status on a date, timeline, next renewal deadline",
)
def get_agreement(
    agreement_id: str, node: NodeDep, who: Who, at: date | None = None
) -> AgreementDetail:
    return _detail(_agreement(_registry(node), agreement_id), day(node, at))


@router.get(
    "/agreements/{agreement_id}/events", tags=["registry"], summary="An agreement's dated events"
)
def list_events(agreement_id: str, node: NodeDep, who: Who) -> list[Event]:
    return list(lifecycle.ordered_events(_agreement(_registry(node), agreement_id)))


@router.post(
    "/agreements/{agreement_id}/events",
    tags=["registry"],
    status_code=201,
    summary="Record a dated event of an agreement (a notice, its suspension, entry into force…)",
    responses={**_CREATED, **error_responses(409)},
)
def add_event(
    agreement_id: str, event: Event, node: NodeDep, who: Who, response: Response
) -> RegistryChange:
    recording.require_recorder(who, node.party)
    _agreement(_registry(node), agreement_id)
    return _write(
        lambda: recording.record_event(node.store, agreement_id, event, who.name), response
    )


@router.get("/notes", tags=["registry"], summary="List diplomatic notes")
def list_notes(node: NodeDep, who: Who) -> list[Note]:
    return list(_registry(node).notes)


@router.post(
    "/notes",
    tags=["registry"],
    status_code=201,
    summary="Record a diplomatic note",
    responses={**_CREATED, **error_responses(409)},
)
def add_note(note: Note, node: NodeDep, who: Who, response: Response) -> RegistryChange:
    recording.require_recorder(who, node.party)
    return _write(lambda: recording.record_note(node.store, note, who.name), response)


@router.get("/consents", tags=["registry"], summary="List originators' consents (R6)")
def list_consents(node: NodeDep, who: Who) -> list[Consent]:
    return list(_registry(node).consents)


@router.post(
    "/consents",
    tags=["registry"],
    status_code=201,
    summary="Record an originator's consent (R6); audited under the caller",
    responses={**_CREATED, **error_responses(409)},
)
def add_consent(consent: Consent, node: NodeDep, who: Who, response: Response) -> RegistryChange:
    recording.require_recorder(who, node.party)
    return _write(lambda: recording.record_consent(node.store, consent, who.name), response)
