"""Response shapes shared by several resources: markings, decisions and release-table rows.

They describe exactly what `Marking.to_json()` and `Decision.to_json()` return (the
`accord check --json` object), so the OpenAPI document and the CLI's JSON cannot disagree.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class MarkingOut(BaseModel):
    originator: str
    level: str
    topics: list[str]
    purpose: str
    rel_to: list[str] | None
    noforn: bool
    orcon: bool
    id: str | None
    groups: list[str]


class HopOut(BaseModel):
    holder: str
    recipient: str
    agreement: str
    level: str
    recipient_level: str
    consent: str | None
    consent_kind: str


class RecordedConsentOut(BaseModel):
    originator: str
    holder: str
    recipient: str
    item: str
    date: date


class NoticeOut(BaseModel):
    """A termination notice running against an agreement a release rests on."""

    agreement: str = Field(description="The agreement's id")
    event: str = Field(description="The event: termination-notified")
    given: date = Field(description="The day the notice was given")
    effective: date = Field(
        description="The day it takes effect: the agreement is in force until then"
    )


class DecisionOut(BaseModel):
    """One decision, as `accord check --json` prints it."""

    allowed: bool
    rules: list[str] = Field(description="Failed rules on a denial, satisfied rules on an allow")
    failed: list[str]
    satisfied: list[str]
    basis: list[str]
    route: list[str] = Field(description="Party codes from holder to recipient; empty when denied")
    recipient_level: str | None
    hops: list[HopOut]
    recorded_consent: RecordedConsentOut | None
    reasons: dict[str, str]
    explanation: str
    notices: list[NoticeOut] = Field(
        description="Notices running against the basis on `at`; the explanation names them too"
    )
    holder: str
    recipient: str
    at: date
    marking: MarkingOut


class ReleaseRow(BaseModel):
    """Whether this node could release a marking to `party`, and how."""

    party: str
    allowed: bool
    served: bool = Field(
        description="Whether this node's TAXII server hands it to that party (a direct route)"
    )
    rules: list[str]
    basis: list[str]
    route: list[str]
    recipient_level: str | None
    explanation: str
