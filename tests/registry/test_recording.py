"""Recording one registry record (accord.registry.recording) on both backends: each change is
audited under the actor given, a rejection lists every problem as (field, plain words) and stores
nothing, and only the node's own legal users may record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa

from accord.errors import Forbidden, ImportRejected
from accord.registry import recording, repository, service
from accord.registry.model import Consent, Event, EventKind, Note
from accord.registry.recording import Problem, RecordConflict
from accord.store import Store
from accord.store.audit_schema import audit_log

GSOMIA = "kor-usa-gsomia-1987"


@dataclass
class Who:
    kind: str = "user"
    party: str = "KOR"
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"legal"}))

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner"


def actors(store: Store) -> list[tuple[str, str]]:
    with store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.kind, audit_log.c.actor).order_by(audit_log.c.seq)
        )
        return [(r[0], r[1]) for r in rows]


@pytest.fixture
def demo(store: Store) -> Store:
    service.load_demo(store, actor="cli:setup-operator")
    return store


def test_the_demo_load_is_audited_under_who_loaded_it(demo: Store) -> None:
    assert ("registry-change", "cli:setup-operator") in actors(demo)
    assert all(actor != "registry" for _kind, actor in actors(demo))


def test_an_event_note_and_consent_are_audited_under_the_person(demo: Store) -> None:
    note = Note(id="n-test", date=date(2030, 1, 2), sender="KOR", recipient="USA", agreement=GSOMIA)
    recording.record_note(demo, note, "yoon")
    event = Event(date=date(2030, 1, 2), kind=EventKind.SUSPENDED, notes=("n-test",))
    recording.record_event(demo, GSOMIA, event, "yoon")
    consent = Consent(
        id="c-test",
        originator="KOR",
        holder="USA",
        recipients=("JPN",),
        valid_from=date(2030, 1, 1),
    )
    recording.record_consent(demo, consent, "kim")
    tail = actors(demo)[-4:]
    assert tail == [
        ("registry-change", "yoon"),
        ("registry-change", "yoon"),
        ("consent", "kim"),
        ("registry-change", "kim"),
    ]
    # The same record again changes nothing; a different one under the same id is a conflict.
    assert recording.record_note(demo, note, "yoon").empty
    with pytest.raises(RecordConflict):
        recording.record_note(demo, note.model_copy(update={"summary": "other"}), "yoon")
    with pytest.raises(RecordConflict):
        recording.record_event(demo, GSOMIA, event, "yoon")


def test_a_rejection_lists_every_problem_by_field_and_stores_nothing(demo: Store) -> None:
    before = repository.registry_version(demo)
    consent = Consent(
        id="c-bad",
        originator="KOR",
        holder="XXX",
        recipients=("JPN", "YYY"),
        max_level="SECRET",
        valid_from=date(2030, 1, 1),
        valid_until=date(2029, 1, 1),
    )
    with pytest.raises(ImportRejected) as caught:
        recording.record_consent(demo, consent, "yoon")
    found = recording.problems(caught.value)
    assert found == [
        Problem("holder", "'XXX' is not a known party"),
        Problem("recipients", "'YYY' is not a known party"),
        Problem("max_level", "'SECRET' is not a level of KOR (I, II, III, U)"),
        Problem("valid_until", "the consent ends before it begins"),
    ]
    assert recording.check_event(
        demo, GSOMIA, Event(date=date(2030, 1, 1), kind=EventKind.SUSPENDED, notes=("nope",))
    ) == [Problem("notes", "'nope' is not a known note")]
    assert repository.registry_version(demo) == before


@pytest.mark.parametrize(
    "who",
    [
        Who(kind="partner", party="JPN", roles=frozenset({"legal"})),
        Who(party="JPN"),  # another nation's legal officer
        Who(roles=frozenset({"analyst", "operator", "logistics", "auditor"})),
    ],
)
def test_only_the_nodes_own_legal_users_record(who: Who) -> None:
    with pytest.raises(Forbidden):
        recording.require_recorder(who, "KOR")


def test_the_nodes_legal_user_records() -> None:
    recording.require_recorder(Who(), "KOR")
