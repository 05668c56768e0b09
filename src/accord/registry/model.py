"""The registry's records: parties and their classification schemes, agreements with their dated
events, diplomatic notes and consents (PRODUCT.md §2).

These pydantic models are at once the file format (`accord import` / `accord export`), the store's
stored body and the in-memory world the rules engine reads. They are frozen: a change to the registry
is a new record, never an edit in place.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

PartyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,9}$")]
LevelCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{0,15}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
RecordId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
Duration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,3}[dmy]$")]

UNCLASSIFIED = "U"

TOPICS: tuple[str, ...] = (
    "dprk-nuclear",
    "dprk-missile",
    "wmd",
    "general-military",
    "maritime-security",
    "counter-terrorism",
    "cyber",
)
PURPOSES: tuple[str, ...] = (
    "exercise",
    "peacekeeping",
    "humanitarian-relief",
    "disaster-relief",
    "evacuation",
    "contingency",
)
# Information items also carry a purpose (R4); these are the information purposes.
INFO_PURPOSES: tuple[str, ...] = ("defence", "intelligence", "early-warning", *PURPOSES)
CATEGORIES: tuple[str, ...] = (
    "food",
    "water",
    "billeting",
    "transportation",
    "petroleum",
    "clothing",
    "communications",
    "medical",
    "base-support",
    "storage",
    "facilities",
    "training",
    "spare-parts",
    "repair",
    "port-services",
    "ammunition",
    "weapons",
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Record):
    """Where a fact comes from: a citation key from docs/reference/domain.md and an optional note."""

    ref: str
    note: str | None = None


class PartyKind(StrEnum):
    STATE = "state"
    ORGANISATION = "organisation"


class Level(_Record):
    """One level of a national scheme; `code` is the stable identifier, `name` the national wording."""

    code: LevelCode
    name: str


class Party(_Record):
    """A state (ISO 3166-1 alpha-3) or an international organisation, with its scheme.

    `levels` is ordered from the highest classification down and always ends with the
    unclassified level `U`. `note` says what the public record leaves open about the party's
    instruments (a count the sources give without naming every member, for instance).
    """

    code: PartyCode
    name: str
    kind: PartyKind = PartyKind.STATE
    levels: tuple[Level, ...] = (Level(code=UNCLASSIFIED, name="Unclassified"),)
    sources: tuple[Source, ...] = ()
    illustrative: bool = False
    note: str | None = None

    @field_validator("levels")
    @classmethod
    def _levels_end_unclassified(cls, v: tuple[Level, ...]) -> tuple[Level, ...]:
        codes = [lv.code for lv in v]
        if len(set(codes)) != len(codes):
            raise ValueError("level codes must be unique")
        if not codes or codes[-1] != UNCLASSIFIED:
            raise ValueError("the last level must be the unclassified level 'U'")
        return v

    def rank(self, level: str) -> int:
        """Returns the level's rank: 0 for unclassified, higher for more secret; KeyError if absent."""
        codes = [lv.code for lv in self.levels]
        return len(codes) - 1 - codes.index(level)

    def level_codes(self) -> tuple[str, ...]:
        return tuple(lv.code for lv in self.levels)


class AgreementKind(StrEnum):
    INFORMATION_SECURITY = "information-security"
    LOGISTICS_SUPPORT = "logistics-support"
    INFORMATION_ARRANGEMENT = "information-arrangement"


class LegalForm(StrEnum):
    AGREEMENT = "agreement"
    ARRANGEMENT = "arrangement"
    MOU = "mou"


class EventKind(StrEnum):
    NEGOTIATING = "negotiating"
    INITIALLED = "initialled"
    SIGNED = "signed"
    ENTERED_INTO_FORCE = "entered-into-force"
    TERMINATION_NOTIFIED = "termination-notified"
    NOTICE_SUSPENDED = "notice-suspended"
    NOTICE_WITHDRAWN = "notice-withdrawn"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    TERMINATED = "terminated"
    EXPIRED = "expired"
    AMENDED = "amended"


DatePrecision = Literal["day", "month", "year", "by"]


class Event(_Record):
    """A dated fact in an agreement's life. `effective` is the date a termination notice would
    take effect (derived from the renewal rule when absent); `notes` are the diplomatic notes
    the event rests on. `precision` says how exact the public record is: `by` means "no later
    than this date"."""

    date: dt.date
    kind: EventKind
    effective: dt.date | None = None
    notes: tuple[RecordId, ...] = ()
    precision: DatePrecision = "day"
    summary: str | None = None
    sources: tuple[Source, ...] = ()
    illustrative: bool = False


class Term(_Record):
    """Term and renewal rule: in force for `initial`, then renewed for `renewal` periods unless a
    party gives notice `notice` before the anniversary. `deadline` fixes how the last day for
    notice is counted: `inclusive` = anniversary minus the notice period; `exclusive` = one day
    earlier (the notice period counted as full days before the anniversary, as the press and
    both governments counted 24 August for the Korea–Japan GSOMIA, domain.md §1.5 note 2)."""

    initial: Duration | None = None
    renewal: Duration | None = None
    notice: Duration | None = None
    deadline: Literal["inclusive", "exclusive"] = "inclusive"


class Ammunition(_Record):
    """Whether ammunition may be supplied under a logistics agreement, and for which purposes."""

    allowed: bool = False
    purposes: tuple[str, ...] | Literal["all"] = "all"


class Scope(_Record):
    """What an agreement covers: topics and purposes (or all), logistics categories, ammunition."""

    topics: tuple[Slug, ...] | Literal["all"] = "all"
    purposes: tuple[Slug, ...] | Literal["all"] = "all"
    categories: tuple[Slug, ...] = ()
    ammunition: Ammunition = Ammunition()

    def covers_topic(self, topic: str) -> bool:
        return self.topics == "all" or topic in self.topics

    def covers_purpose(self, purpose: str) -> bool:
        return self.purposes == "all" or purpose in self.purposes


class Agreement(_Record):
    """An instrument between two or more parties (PRODUCT.md §2).

    `equivalence` rows map each party's level to the others' (`{KOR: II, JPN: GOKUHI}`); a
    level with no row is not exchangeable under this agreement (R2). `underlying` names the
    agreements an arrangement rests on; `hub` the party through which members without a direct
    agreement exchange (R7). `articles` maps a topic of the text (`scope`, `ammunition`,
    `settlement`, `third-party`, …) to the article that says it, for explanations.
    """

    id: RecordId
    title: str
    kind: AgreementKind
    legal_form: LegalForm = LegalForm.AGREEMENT
    parties: tuple[PartyCode, ...]
    hub: PartyCode | None = None
    underlying: tuple[RecordId, ...] = ()
    scope: Scope = Scope()
    equivalence: tuple[dict[PartyCode, LevelCode], ...] = ()
    term: Term = Term()
    settlement_days: dict[str, int] = Field(default_factory=dict)
    articles: dict[str, str] = Field(default_factory=dict)
    events: tuple[Event, ...] = ()
    sources: tuple[Source, ...] = ()
    illustrative: bool = False
    note: str | None = None

    @field_validator("parties")
    @classmethod
    def _two_or_more(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) < 2:
            raise ValueError("an agreement needs at least two parties")
        if len(set(v)) != len(v):
            raise ValueError("a party is listed twice")
        return v

    def binds(self, party: str) -> bool:
        return party in self.parties


class NoteKind(StrEnum):
    TERMINATION = "termination"
    SUSPENSION_OF_NOTICE = "suspension-of-notice"
    WITHDRAWAL = "withdrawal"
    ENTRY_INTO_FORCE = "entry-into-force"
    OTHER = "other"


class Note(_Record):
    """A diplomatic note: a first-class document that agreement events point to."""

    id: RecordId
    date: dt.date
    sender: PartyCode
    recipient: PartyCode
    kind: NoteKind = NoteKind.OTHER
    agreement: RecordId | None = None
    summary: str = ""
    sources: tuple[Source, ...] = ()
    illustrative: bool = False


class Consent(_Record):
    """The originator's prior written consent for `holder` to release the originator's items to
    third parties (R6): per item (`items`) or per category (`topics`, `max_level`), to named
    `recipients` or to the members of an arrangement (`arrangement`), for a validity period."""

    id: RecordId
    originator: PartyCode
    holder: PartyCode
    recipients: tuple[PartyCode, ...] = ()
    arrangement: RecordId | None = None
    items: tuple[str, ...] = ()
    topics: tuple[Slug, ...] | Literal["all"] = "all"
    max_level: LevelCode | None = None
    valid_from: dt.date
    valid_until: dt.date | None = None
    note: RecordId | None = None
    summary: str = ""
    sources: tuple[Source, ...] = ()
    illustrative: bool = False

    def valid_on(self, at: dt.date) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at <= self.valid_until)


class Facility(_Record):
    """A delivery place for logistics orders, e.g. one of the seven UN Command rear bases in Japan."""

    id: RecordId
    name: str
    host: PartyCode
    operator: PartyCode | None = None
    location: str = ""
    designations: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    illustrative: bool = False


class Registry(_Record):
    """A whole registry, or a part of one: what `accord import` reads and `accord export` writes."""

    parties: tuple[Party, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    notes: tuple[Note, ...] = ()
    consents: tuple[Consent, ...] = ()
    facilities: tuple[Facility, ...] = ()


_DURATION = re.compile(r"^([1-9][0-9]{0,3})([dmy])$")


def parse_duration(text: str) -> tuple[int, str]:
    """Returns (count, unit) for a duration such as `90d`, `6m` or `1y`."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration such as 90d, 6m or 1y")
    return int(m.group(1)), m.group(2)
