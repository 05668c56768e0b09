"""Recording one registry record at a time: a dated event of an agreement, a diplomatic note, an
originator's consent (the legal officer's work, PRODUCT.md §1 and §2).

Every surface that changes the registry — the web forms, the management API, `accord import` —
writes through `service.import_registry`, which validates the record against the whole registry
(all or nothing) and records the change in the audit trail under the `actor` it is given: the
signed-in user, the API credential, or the CLI's operator, never a subsystem name (PRODUCT.md §7,
"Every write is audited with its actor").

`problems(exc)` turns a rejection (`agreements[0].events[3].notes[0]: 'x' is not a known note`)
into plain `Problem(field, message)` pairs naming the field of the one record posted, so a form
can show each message next to its field, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from accord.errors import AccordError, Forbidden, ImportRejected, NotFound
from accord.registry import files, repository, service
from accord.registry.model import Consent, Event, Note, Registry
from accord.registry.repository import Changes
from accord.store import Store

#: The role that records the registry (PRODUCT.md §1: the legal / policy officer).
RECORDER_ROLE = "legal"


class Caller(Protocol):
    """What the role check reads of an authenticated principal (`accord.principals.Principal`)."""

    @property
    def is_partner(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def party(self) -> str: ...
    @property
    def roles(self) -> Set[str]: ...


def require_recorder(who: Caller, node_party: str) -> None:
    """Raises Forbidden unless `who` is one of the node's own people (a user of the node's
    party) with the legal role: a partner node, another nation's user, or a user without the
    role never changes this node's registry, whatever roles its credential lists."""
    if who.is_partner or who.kind != "user" or who.party != node_party:
        raise Forbidden(f"only {node_party}'s own legal officers record this node's registry")
    if RECORDER_ROLE not in who.roles:
        raise Forbidden(f"recording the registry needs the {RECORDER_ROLE} role")


class RecordConflict(AccordError):
    """A different record is already stored under the same key (records are never edited in
    place), or the agreement already records this very event: 409 on every surface."""

    exit_code = 2
    http_status = 409
    title = "Conflict"

    def __init__(self, message: str, field: str | None, code: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Problem:
    """One reason a record is refused: the field of the record it concerns (`date`, `notes`,
    `recipients`; empty for the record as a whole) and what is wrong, in plain words."""

    field: str
    message: str


_PATH = re.compile(
    r"^(?:[^:\s]+:\d+: )?(?P<path>[A-Za-z_][\w.\[\]-]*|\(top level\)): (?P<what>.*)$"
)
_RECORD = re.compile(
    r"^(?:consents\[\d+\]|notes\[\d+\]|agreements\[\d+\]\.events\[\d+\]|agreements\[\d+\])"
)


def problems(exc: ImportRejected) -> list[Problem]:
    """Returns every problem of a rejection as (field, plain message): the record's own prefix
    (`consents[0].`, `agreements[0].events[3].`) is dropped and a list index is left out, so
    `consents[0].recipients[1]: 'XYZ' is not a known party` becomes
    `Problem("recipients", "'XYZ' is not a known party")`."""
    out = []
    for text in exc.problems:
        found = _PATH.match(text)
        if found is None or found.group("path") == "(top level)":
            out.append(Problem("", found.group("what") if found else text))
            continue
        path = _RECORD.sub("", found.group("path")).lstrip(".")
        field = re.sub(r"\[\d+\]", "", path).split(".")[0]
        out.append(Problem(field, found.group("what")))
    return out


def validation_problems(exc: ValidationError) -> list[Problem]:
    """Returns a model's validation errors as plain `Problem`s (the words `accord import` uses:
    "'x' is not a date", "is required but missing"), one per field."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        out.append(Problem(loc[0] if loc else "", files._message(dict(err))))
    return out


def _with_event(registry: Registry, agreement_id: str, event: Event) -> Registry:
    ag = next((a for a in registry.agreements if a.id == agreement_id), None)
    if ag is None:
        raise NotFound(f"{agreement_id!r} is not a known agreement")
    if event in ag.events:
        raise RecordConflict(
            "the agreement already records this event", field=None, code="EVENT_EXISTS"
        )
    # Events are kept in date order; one dated like others goes after them.
    events = tuple(sorted((*ag.events, event), key=lambda ev: ev.date))
    return Registry(agreements=(ag.model_copy(update={"events": events}),))


def check(store: Store, part: Registry) -> list[Problem]:
    """Returns every problem `part` would meet if recorded now (empty: it would be accepted);
    stores nothing. A form uses it to list reference problems together with its own."""
    try:
        files.validate_against(repository.load(store), part)
    except ImportRejected as exc:
        return problems(exc)
    return []


def check_event(store: Store, agreement_id: str, event: Event) -> list[Problem]:
    """`check` for an event of an agreement (NotFound, RecordConflict as `record_event`)."""
    return check(store, _with_event(repository.load(store), agreement_id, event))


def record_event(store: Store, agreement_id: str, event: Event, actor: str) -> Changes:
    """Adds `event` to the agreement's life (kept in date order; one dated like others goes after
    them) and returns what changed. NotFound for an unknown agreement; RecordConflict when the
    agreement already records this very event; ImportRejected (nothing stored) naming every
    problem, e.g. a note that is not recorded or a notice before entry into force."""
    part = _with_event(repository.load(store), agreement_id, event)
    return service.import_registry(store, part, actor=actor)


def record_note(store: Store, note: Note, actor: str) -> Changes:
    """Records a diplomatic note; the same note again changes nothing (empty `Changes`), a
    different note under a recorded id is a RecordConflict; ImportRejected names every problem."""
    _check_new({n.id: n for n in repository.load(store).notes}, note.id, note, "note")
    return service.import_registry(store, Registry(notes=(note,)), actor=actor)


def record_consent(store: Store, consent: Consent, actor: str) -> Changes:
    """Records an originator's consent (R6), audited as a `consent` record too; the same consent
    again changes nothing, a different one under a recorded id is a RecordConflict."""
    existing = {c.id: c for c in repository.load(store).consents}
    _check_new(existing, consent.id, consent, "consent")
    return service.import_registry(store, Registry(consents=(consent,)), actor=actor)


def _check_new(
    existing: dict[str, Note] | dict[str, Consent], key: str, record: object, kind: str
) -> None:
    found = existing.get(key)
    if found is not None and found != record:
        raise RecordConflict(
            f"a different {kind} {key!r} is recorded; records are never edited in place",
            field="id",
            code=f"{kind.upper()}_EXISTS",
        )
