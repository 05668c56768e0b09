"""Releasability over the API: decisions (`accord check --json`, one or a batch), the release
table of an item or a marking, what-if diffs (`accord whatif --json`) and the publish preview
(`accord publish --dry-run --json`). Nothing here writes to the store.

Codes are case-insensitive as on the command line (`kor`, `ii`, `DPRK-Nuclear`); an unknown party,
level, topic or purpose is a 422 naming the field (`3.to` for the fourth decision of a batch).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.requests import Request

from accord.api.deps import NodeDep, Who, day
from accord.api.errors import Invalid, error_responses, problem_field
from accord.api.models import DecisionOut, MarkingOut, ReleaseRow
from accord.errors import ImportRejected, InputError, NotFound
from accord.exchange import markings as mk
from accord.exchange import publishing, reading
from accord.exchange.marking_rows import marking_index
from accord.exchange.preview import preview as release_preview
from accord.exchange.reading import Reader
from accord.logistics.whatif import support_diff
from accord.node import Node
from accord.ops.metrics import count_decisions
from accord.policy import DEFAULT_PURPOSE, Marking, World, decide, diff, marking_universe
from accord.principals import Principal
from accord.registry.model import INFO_PURPOSES, TOPICS, Registry

router = APIRouter(responses=error_responses(400, 401, 403, 404, 413, 422, 503))

MAX_BATCH = 1000
Code = Annotated[str, Field(min_length=1, max_length=64)]


class MarkingIn(BaseModel):
    """A release marking to decide on; `originator` is this node's party when left out."""

    model_config = ConfigDict(extra="forbid")
    originator: Code | None = None
    level: Code
    topics: list[Code] = Field(min_length=1, max_length=len(TOPICS))
    purpose: Code = DEFAULT_PURPOSE
    rel_to: list[Code] | None = Field(default=None, max_length=100)
    noforn: bool = False
    orcon: bool = False
    id: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Item or marking id, matched by per-item consents"
    )
    groups: list[Code] = Field(default=[], max_length=100)


class DecisionRequest(BaseModel):
    """One question: may `holder` (default the originator) release this item to `to` on `at`?"""

    model_config = ConfigDict(extra="forbid")
    originator: Code
    level: Code
    topics: list[Code] = Field(min_length=1, max_length=len(TOPICS))
    purpose: Code = DEFAULT_PURPOSE
    rel_to: list[Code] | None = Field(default=None, max_length=100)
    noforn: bool = False
    orcon: bool = False
    item: Annotated[str, Field(max_length=200)] | None = None
    to: Code
    holder: Code | None = None
    at: date | None = None


def _party(world: World, code: str, field: str) -> str:
    c = code.strip().upper()
    if c not in world.parties:
        raise Invalid(f"{code[:40]!r} is not a known party", field, "UNKNOWN_PARTY")
    return c


def marking_of(world: World, m: MarkingIn | DecisionRequest, prefix: str, origin: str) -> Marking:
    """Returns the marking a request describes, checked field by field (errors name the field)."""
    originator = _party(world, m.originator or origin, prefix + "originator")
    level = m.level.strip().upper()
    if not world.has_level(originator, level):
        levels = ", ".join(world.party(originator).level_codes())
        raise Invalid(
            f"{m.level!r} is not a level of {originator} ({levels})",
            prefix + "level",
            "UNKNOWN_LEVEL",
        )
    topics = [t.strip().lower() for t in m.topics]
    for i, t in enumerate(topics):
        if t not in TOPICS:
            raise Invalid(f"{t!r} is not a known topic", f"{prefix}topics.{i}", "UNKNOWN_TOPIC")
    purpose = m.purpose.strip().lower()
    if purpose not in INFO_PURPOSES:
        raise Invalid(f"{purpose!r} is not a known purpose", prefix + "purpose", "UNKNOWN_PURPOSE")
    rel_to = None
    if m.rel_to is not None:
        rel_to = [_party(world, p, f"{prefix}rel_to.{i}") for i, p in enumerate(m.rel_to)]
    ident = m.item if isinstance(m, DecisionRequest) else m.id
    groups = m.groups if isinstance(m, MarkingIn) else []
    return Marking.of(originator, level, topics, purpose, rel_to, m.noforn, m.orcon, ident, groups)


def _decide_one(world: World, node: Node, req: DecisionRequest, prefix: str) -> dict[str, Any]:
    marking = marking_of(world, req, prefix, node.party)
    to = _party(world, req.to, prefix + "to")
    holder = None if req.holder is None else _party(world, req.holder, prefix + "holder")
    if (holder or marking.originator) == to:
        raise Invalid("holder and recipient are the same party", prefix + "to", "SAME_PARTY")
    return decide(marking, to, day(node, req.at), holder, world=world).to_json()


_ONE = TypeAdapter(DecisionRequest)
_MANY = TypeAdapter(list[DecisionRequest])


def _validated(body: Any) -> DecisionRequest | list[DecisionRequest]:
    try:
        if isinstance(body, list):
            if len(body) > MAX_BATCH:
                raise Invalid(
                    f"a batch holds at most {MAX_BATCH} decisions", None, "BATCH_TOO_LARGE"
                )
            return _MANY.validate_python(body)
        return _ONE.validate_python(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        ) from None


_DECISION_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/DecisionRequest"},
                        {
                            "type": "array",
                            "maxItems": MAX_BATCH,
                            "items": {"$ref": "#/components/schemas/DecisionRequest"},
                        },
                    ]
                }
            }
        },
    }
}


@router.post(
    "/decisions",
    tags=["releasability"],
    summary="Decide and explain releases (R1–R8): one question, or a list in and a list out",
    openapi_extra=_DECISION_BODY,
)
def decisions(
    request: Request, node: NodeDep, who: Who, body: Annotated[Any, Body()]
) -> DecisionOut | list[DecisionOut]:
    parsed = _validated(body)
    _, world = node.world()
    if isinstance(parsed, list):
        out = [_decide_one(world, node, r, f"{i}.") for i, r in enumerate(parsed)]
        count_decisions(request.scope, "decisions", (bool(d["allowed"]) for d in out))
        return [DecisionOut.model_validate(d) for d in out]
    one = _decide_one(world, node, parsed, "")
    count_decisions(request.scope, "decisions", [bool(one["allowed"])])
    return DecisionOut.model_validate(one)


# ---- release tables ----------------------------------------------------------------------------


class ReleaseTableOut(BaseModel):
    """For every other party: could this node release the marking to it on `at`, and how."""

    item: str | None
    marking: MarkingOut
    marking_id: str
    holder: str
    at: date
    releases: list[ReleaseRow]


def release_rows(world: World, holder: str, marking: Marking, at: date) -> list[dict[str, Any]]:
    """Returns one row per other party (the rows `accord publish --dry-run` prints), with
    `served`: whether this node's TAXII server hands it to that party's node (a direct route)."""
    return [
        {**row, "served": row["allowed"] and len(row["route"]) == 2}
        for row in release_preview(world, holder, marking, at)
    ]


def _table(
    request: Request, node: Node, world: World, marking: Marking, at: date, item: str | None
) -> ReleaseTableOut:
    rows = release_rows(world, node.party, marking, at)
    count_decisions(request.scope, "releases", (bool(r["allowed"]) for r in rows))
    return ReleaseTableOut.model_validate(
        {
            "item": item,
            "marking": marking.to_json(),
            "marking_id": mk.marking_id(marking),
            "holder": node.party,
            "at": at,
            "releases": rows,
        }
    )


def find_item(node: Node, who: Principal, item_id: str) -> Marking:
    """Returns the release marking of the newest version of `item_id` the caller may see (R9),
    read as the web pages read it (`accord.exchange.reading`); NotFound, exactly as for an item
    that does not exist, otherwise."""
    reader = Reader(
        node.store, node.config.api_root, who.name, node.view(who), marking_index(node.store)
    )
    found = reading.find_item(reader, item_id, markings=True)
    if found is None:
        raise NotFound(f"no item {item_id[:160]!r} on this node")
    return found.marking


@router.get(
    "/items/{item_id}/releases",
    tags=["releasability"],
    summary="The release table of a stored item: who may receive it today, and why",
)
def item_releases(
    item_id: str, request: Request, node: NodeDep, who: Who, at: date | None = None
) -> ReleaseTableOut:
    marking = find_item(node, who, item_id)
    _, world = node.world()
    return _table(request, node, world, marking, day(node, at), item_id)


class ReleasesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    marking: MarkingIn
    at: date | None = None


@router.post(
    "/releases",
    tags=["releasability"],
    summary="The release table of a marking held by this node",
)
def marking_releases(
    body: ReleasesRequest, request: Request, node: NodeDep, who: Who
) -> ReleaseTableOut:
    _, world = node.world()
    marking = marking_of(world, body.marking, "marking.", node.party)
    return _table(request, node, world, marking, day(node, body.at), None)


# ---- what-if -------------------------------------------------------------------------------------


class WhatIfRequest(BaseModel):
    """Hypothetical records in the import format (never stored), compared on `at`."""

    model_config = ConfigDict(extra="forbid")
    records: Registry
    at: date | None = None
    purpose: Code = DEFAULT_PURPOSE
    parties: list[Code] = Field(
        default=[], max_length=100, description="Only pairs involving these"
    )


class PairDiffOut(BaseModel):
    holder: str
    recipient: str
    gained: list[MarkingOut]
    lost: list[MarkingOut]
    no_longer_via_hub: list[MarkingOut]
    now_via_hub: list[MarkingOut]


class SupportDiffOut(BaseModel):
    """Logistics orders between two parties on the date (R10–R11): `change` is `possible`,
    `impossible` or `scope` (possible both ways, categories or agreements differ)."""

    parties: list[str]
    change: str
    agreements_before: list[str]
    agreements_after: list[str]
    categories_gained: list[str]
    categories_lost: list[str]


class WhatIfOut(BaseModel):
    at: date
    markings: int
    purpose: str
    pairs: list[PairDiffOut]
    logistics: list[SupportDiffOut] = Field(
        description="Pairs of parties whose logistics orders would become possible or impossible"
    )
    hypothetical: dict[str, list[str]]


@router.post(
    "/whatif",
    tags=["releasability"],
    summary="What would become (or stop being) releasable if these records were real",
)
def whatif(body: WhatIfRequest, node: NodeDep, who: Who) -> WhatIfOut:
    _, real = node.world()
    part = body.records
    try:
        hypo = real.with_additions(part)
    except ImportRejected as exc:
        raise Invalid(
            "; ".join(exc.problems), _records_field(exc.problems), "IMPORT_REJECTED"
        ) from None
    purpose = body.purpose.strip().lower()
    if purpose not in INFO_PURPOSES:
        raise Invalid(f"{purpose!r} is not a known purpose", "purpose", "UNKNOWN_PURPOSE")
    only = {_party(hypo, p, f"parties.{i}") for i, p in enumerate(body.parties)}
    on = day(node, body.at)
    result = diff(real, hypo, marking_universe(hypo, purpose), on)
    pairs = [p.to_json() for p in result.pairs if not only or only & {p.holder, p.recipient}]
    support = [
        s.to_json()
        for s in support_diff(real.registry, hypo.registry, on)
        if not only or only & set(s.parties)
    ]
    return WhatIfOut.model_validate(
        {
            "at": result.at,
            "markings": result.markings,
            "purpose": purpose,
            "pairs": pairs,
            "logistics": support,
            "hypothetical": {
                "agreements": [a.id for a in part.agreements],
                "consents": [c.id for c in part.consents],
                "notes": [n.id for n in part.notes],
                "parties": [p.code for p in part.parties],
                "facilities": [f.id for f in part.facilities],
            },
        }
    )


def _records_field(problems: list[str]) -> str | None:
    inner = problem_field(problems)
    return "records." + inner if inner else "records"


# ---- publish preview ---------------------------------------------------------------------------


class PreviewRequest(BaseModel):
    """STIX objects as `accord publish` reads them, and the marking for those that carry none."""

    model_config = ConfigDict(extra="forbid")
    objects: list[dict[str, Any]] = Field(default=[], max_length=10_000)
    marking: MarkingIn | None = None
    at: date | None = None


class PreviewGroup(BaseModel):
    marking: MarkingOut
    marking_id: str
    objects: list[str]
    recipients: list[ReleaseRow]


class PreviewOut(BaseModel):
    at: date
    preview: list[PreviewGroup]


@router.post(
    "/preview",
    tags=["releasability"],
    summary="Before publishing: who could receive each object today, and why (nothing is stored)",
)
def preview(body: PreviewRequest, request: Request, node: NodeDep, who: Who) -> PreviewOut:
    _, world = node.world()
    at = day(node, body.at)
    default = None
    if body.marking is not None:
        default = marking_of(world, body.marking, "marking.", node.party)
        if default.originator != node.party:
            raise Invalid(
                f"this node publishes {node.party} items only", "marking.originator", "NOT_OURS"
            )
    # Only the stored markings in the caller's view count as stored (R9): a registered marking
    # the caller may not see is answered exactly as an unregistered id (docs/security.md).
    index = marking_index(node.store)
    view = node.view(who)
    stored = {
        sid: index.by_row[row]
        for sid, row in index.rows.items()
        if view.everything or row in view.rows
    }
    drafted = publishing.draft(
        index, body.objects, default, visible=None if view.everything else view.rows
    )
    if drafted.unmarked:
        first = drafted.unmarked[0]
        at_index = next(
            (i for i, o in enumerate(body.objects) if str(o.get("id", "(no id)"))[:160] == first), 0
        )
        raise Invalid(
            f"{first} carries no release marking: give `marking`",
            f"objects.{at_index}",
            "NO_RELEASE_MARKING",
        )
    groups = drafted.groups
    for ref, (marking, ids) in groups.items():
        if ref in stored:
            continue
        try:
            world.check_marking(marking)
        except InputError as exc:
            at_index = next((i for i, o in enumerate(body.objects) if str(o.get("id")) in ids), 0)
            raise Invalid(f"{ref}: {exc}", f"objects.{at_index}", "BAD_RELEASE_MARKING") from None
    if not body.objects and default is not None:
        groups[mk.marking_id(default)] = (default, [])
    out = []
    for key, (m, ids) in groups.items():
        rows = release_rows(world, node.party, m, at)
        count_decisions(request.scope, "preview", (bool(r["allowed"]) for r in rows))
        out.append({"marking": m.to_json(), "marking_id": key, "objects": ids, "recipients": rows})
    return PreviewOut.model_validate({"at": at, "preview": out})
