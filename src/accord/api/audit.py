"""The audit trail over the API: verify the chain, disclosures of an item, and the records
themselves page by page (`accord audit verify|disclosures|export`).

Disclosures and records are shown to the caller through the audit trail's one redaction rule
(`accord.exchange.redaction`), exactly as on the web pages: an item the caller may not see is a 404
like an absent one, and ids outside its view are withheld alike whether or not they exist. The
node's host keeps the unredacted export (`accord audit export`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from accord.api.deps import NodeDep, Who
from accord.api.errors import error_responses
from accord.audit import checkpoints, log
from accord.exchange import redaction

router = APIRouter(responses=error_responses(400, 401, 403, 404, 422, 503))


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class VerifyOut(BaseModel):
    ok: bool = Field(description="The chain is unbroken and every checkpoint verifies")
    records: int
    head: str
    first_bad: int | None
    reason: str | None
    checkpoint_problems: list[str]


class Receipt(BaseModel):
    by: str = Field(description="The party whose node signed it")
    at: str = Field(description="When it signed (UTC, ISO 8601 with microseconds)")
    verified: bool = Field(description="Its signature verified with the key pinned for that party")


class Disclosure(BaseModel):
    party: str | None
    principal: str
    at: str = Field(description="When (UTC, ISO 8601 with microseconds)")
    seq: int = Field(description="The audit record")
    version: str
    marking: str
    basis: list[str]
    route: list[str]
    level: str | None
    channel: str
    transmissions: int = Field(
        description="How many times this version reached the party under this marking (a push, "
        "then the partner's own read of it, is one release sent twice)"
    )
    records: list[int] = Field(description="The audit records of those transmissions")
    receipt: Receipt | None = Field(
        default=None,
        description="The receipt the receiving node signed for this version, when one came back",
    )


class AuditRecord(BaseModel):
    seq: int
    at: str
    kind: str
    actor: str
    subject: str
    body: dict[str, Any]
    prev: str
    hash: str
    redacted: bool = Field(
        description="True when the caller's view does not hold every stored marking: subject and "
        "body are shown through the redaction rule (docs/security.md) and may not hash to `hash`"
    )


class RecordsPage(BaseModel):
    records: list[AuditRecord]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end")


@router.get("/audit/verify", tags=["audit"], summary="Prove the chain unbroken, or name where")
def verify(node: NodeDep, who: Who) -> VerifyOut:
    verdict = log.verify(node.store)
    problems = checkpoints.verify_checkpoints(node.store) if verdict.ok else []
    return VerifyOut.model_validate(
        {**verdict.to_json(), "ok": verdict.ok and not problems, "checkpoint_problems": problems}
    )


@router.get(
    "/audit/disclosures/{item_id}",
    tags=["audit"],
    summary="Every party that received any version of an item: when, on which basis, at which level",
)
def disclosures(item_id: str, node: NodeDep, who: Who) -> list[Disclosure]:
    rows = redaction.disclosures(node.store, node.view(who), item_id)
    return [
        Disclosure.model_validate(
            {
                **r,
                "at": _when(int(r["at"])),
                "receipt": None
                if r.get("receipt") is None
                else {**r["receipt"], "at": _when(int(r["receipt"]["at"]))},
            }
        )
        for r in rows
    ]


@router.get("/audit/records", tags=["audit"], summary="The records, oldest first, page by page")
def records(
    node: NodeDep,
    who: Who,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="Records after this sequence number")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RecordsPage:
    view = node.view(who)
    shown, more = redaction.records(node.store, view, limit, after=after)
    out = [
        AuditRecord(
            seq=r.seq,
            at=_when(r.at),
            kind=r.kind,
            actor=r.actor,
            subject=r.subject,
            body=r.body,
            prev=r.prev,
            hash=r.hash,
            redacted=not view.everything,
        )
        for r in shown
    ]
    return RecordsPage(records=out, next_after=out[-1].seq if more and out else None)
