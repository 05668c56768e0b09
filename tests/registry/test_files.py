"""Registry files: import all-or-nothing with messages naming file, line and field; exact round trips."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import ImportRejected, InputError
from accord.registry import files, repository, service
from accord.registry.model import Registry
from accord.store import Store
from accord.store.schema import REGISTRY_TABLES, meta

GOOD = textwrap.dedent(
    """\
    parties:
      - code: KOR
        name: Republic of Korea
        levels:
          - {code: I, name: 군사 I급비밀}
          - {code: II, name: 군사 II급비밀}
          - {code: U, name: 평문}
      - code: JPN
        name: Japan
        levels:
          - {code: GOKUHI, name: 極秘}
          - {code: HI, name: 秘}
          - {code: U, name: 非秘密}
      - code: USA
        name: United States
        levels: [{code: TS, name: TOP SECRET}, {code: S, name: SECRET}, {code: U, name: U}]
    notes:
      - id: note-2019-08-23
        date: 2019-08-23
        sender: KOR
        recipient: JPN
        kind: termination
    agreements:
      - id: kor-jpn
        title: Korea–Japan GSOMIA
        kind: information-security
        parties: [KOR, JPN]
        equivalence:
          - {KOR: II, JPN: GOKUHI}
        term: {initial: 1y, renewal: 1y, notice: 90d, deadline: exclusive}
        events:
          - {date: 2016-11-23, kind: entered-into-force}
          - {date: 2019-08-23, kind: termination-notified, effective: 2019-11-23, notes: [note-2019-08-23]}
          - {date: 2019-11-22, kind: notice-suspended}
      - id: tisa
        title: TISA
        kind: information-arrangement
        legal_form: arrangement
        parties: [KOR, JPN, USA]
        hub: USA
        underlying: [kor-jpn]
        scope: {topics: [dprk-nuclear, dprk-missile]}
        events:
          - {date: 2014-12-29, kind: entered-into-force}
      - id: kor-usa-mlsa
        title: Korea–US MLSA
        kind: logistics-support
        parties: [KOR, USA]
        scope:
          purposes: [exercise, peacekeeping]
          categories: [food, water, ammunition]
          ammunition: {allowed: true, purposes: [exercise]}
        events:
          - {date: 1988-06-08, kind: entered-into-force}
    consents:
      - id: c1
        originator: KOR
        holder: USA
        recipients: [JPN]
        topics: [dprk-nuclear]
        max_level: II
        valid_from: 2014-12-29
    """
)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, "utf-8")
    return p


def replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def test_the_good_file_is_accepted(tmp_path: Path) -> None:
    reg, lines = files.read_file(write(tmp_path, GOOD))
    files.validate_against(Registry(), reg, lines)
    assert [a.id for a in reg.agreements] == ["kor-jpn", "tisa", "kor-usa-mlsa"]
    assert reg.parties[1].levels[0].name == "極秘"


BAD = [
    pytest.param(
        replace("date: 2016-11-23, kind: entered", "date: 2019-02-30, kind: entered"),
        ":32: agreements[0].events[0].date: '2019-02-30' is not a date",
        id="impossible-date",
    ),
    pytest.param(
        replace("kind: termination-notified", "kind: terminated-early"),
        ":33: agreements[0].events[1].kind: 'terminated-early' is not allowed",
        id="unknown-event-kind",
    ),
    pytest.param(
        replace("parties: [KOR, JPN]\n", "parties: [KOR, XXX]\n"),
        ":27: agreements[0].parties[1]: 'XXX' is not a known party",
        id="unknown-party",
    ),
    pytest.param(
        replace("parties: [KOR, JPN]\n", "parties: [KOR, kor]\n"),
        ":27: agreements[0].parties[1]: 'kor' is not a valid code here",
        id="malformed-party-code",
    ),
    pytest.param(
        replace("- {KOR: II, JPN: GOKUHI}", "- {KOR: II, JPN: KIMITSU}"),
        ":29: agreements[0].equivalence[0].JPN: 'KIMITSU' is not a level of JPN",
        id="level-not-in-scheme",
    ),
    pytest.param(
        replace("- {KOR: II, JPN: GOKUHI}", "- {KOR: II, USA: S}"),
        ":29: agreements[0].equivalence[0].USA: 'USA' is not a party to this agreement",
        id="row-names-outsider",
    ),
    pytest.param(
        replace("- {KOR: II, JPN: GOKUHI}", "- {KOR: II}"),
        ":29: agreements[0].equivalence[0]: a row maps at least two",
        id="one-sided-row",
    ),
    pytest.param(
        replace("- {KOR: II, JPN: GOKUHI}", "- {KOR: II, JPN: GOKUHI}\n      - {KOR: II, JPN: HI}"),
        ":30: agreements[0].equivalence[1].KOR: KOR II already has a row",
        id="ambiguous-row",
    ),
    pytest.param(
        replace("hub: USA", "hub: GBR"),
        ":40: agreements[1].hub: the hub 'GBR' is not one of the agreement's parties",
        id="hub-outsider",
    ),
    pytest.param(
        replace("underlying: [kor-jpn]", "underlying: [kor-usa-gsomia]"),
        ":41: agreements[1].underlying[0]: 'kor-usa-gsomia' is not a known agreement",
        id="unknown-underlying",
    ),
    pytest.param(
        replace("topics: [dprk-nuclear, dprk-missile]", "topics: [dprk-nuclear, gossip]"),
        ":42: agreements[1].scope.topics[1]: 'gossip' is not a known topic",
        id="unknown-topic",
    ),
    pytest.param(
        replace("purposes: [exercise, peacekeeping]", "purposes: [exercise, conquest]"),
        ":50: agreements[2].scope.purposes[1]: 'conquest' is not a known purpose",
        id="unknown-purpose",
    ),
    pytest.param(
        replace("categories: [food, water, ammunition]", "categories: [food, weapons, ammunition]"),
        ":51: agreements[2].scope.categories[1]: weapons are never covered",
        id="weapons",
    ),
    pytest.param(
        replace("categories: [food, water, ammunition]", "categories: [food, water]"),
        ":52: agreements[2].scope.ammunition: ammunition is allowed but not among",
        id="ammunition-not-a-category",
    ),
    pytest.param(
        replace("notes: [note-2019-08-23]", "notes: [note-missing]"),
        ":33: agreements[0].events[1].notes[0]: 'note-missing' is not a known note",
        id="unknown-note",
    ),
    pytest.param(
        replace("effective: 2019-11-23", "effective: 2019-01-01"),
        ":33: agreements[0].events[1].effective: the notice takes effect before it was given",
        id="effect-before-notice",
    ),
    pytest.param(
        replace(
            "- {date: 2019-11-22, kind: notice-suspended}",
            "- {date: 2019-01-22, kind: notice-suspended}",
        ),
        ":34: agreements[0].events[2].date: events must be listed in date order",
        id="events-out-of-order",
    ),
    pytest.param(
        replace("id: tisa\n", "id: kor-jpn\n"),
        ":35: agreements[1].id: 'kor-jpn' is listed twice",
        id="duplicate-id",
    ),
    pytest.param(
        replace("    title: TISA\n", ""),
        ":35: agreements[1].title: is required but missing",
        id="missing-title",
    ),
    pytest.param(
        replace("legal_form: arrangement", "legal_form: arrangement\n    colour: blue"),
        ":39: agreements[1].colour: is not a field accord knows",
        id="unknown-field",
    ),
    pytest.param(
        replace("max_level: II", "max_level: TS"),
        ":61: consents[0].max_level: 'TS' is not a level of KOR",
        id="consent-level",
    ),
    pytest.param(
        replace("valid_from: 2014-12-29", "valid_from: 2014-12-29\n    valid_until: 2010-01-01"),
        ":63: consents[0].valid_until: the consent ends before it begins",
        id="consent-ends-early",
    ),
    pytest.param(
        replace("recipients: [JPN]", "recipients: []"),
        ":56: consents[0]: a consent names its recipients or an arrangement",
        id="consent-nobody",
    ),
    pytest.param(
        replace("{code: U, name: 평문}", "{code: III, name: 평문}"),
        ":5: parties[0].levels: the last level must be the unclassified level",
        id="scheme-without-u",
    ),
    pytest.param(
        replace("term: {initial: 1y,", "term: {initial: one year,"),
        ":30: agreements[0].term.initial: 'one year' is not a valid code here",
        id="bad-duration",
    ),
    pytest.param(
        replace("parties: [KOR, JPN]\n", "parties: [KOR]\n"),
        ":27: agreements[0].parties: an agreement needs at least two parties",
        id="one-party",
    ),
    pytest.param(
        replace("    name: Japan\n", "    name: Japan\n    name: Nippon\n"),
        ":10: parties[1].name: the key 'name' appears twice",
        id="duplicate-key",
    ),
    pytest.param(
        replace("parties: [KOR, JPN]\n", "parties: [KOR, JPN\n"), "scenario.yaml:", id="yaml-syntax"
    ),
    pytest.param("- just\n- a list\n", ":1: the file must be a mapping", id="not-a-mapping"),
    pytest.param("", ":1: the file is empty", id="empty-file"),
    pytest.param(
        replace("hub: USA", "hub: USA\n    id: again"),
        ":41: agreements[1].id: the key 'id' appears twice",
        id="duplicate-id-key",
    ),
    pytest.param(
        replace("kind: information-arrangement", "kind: logistics-support"),
        ":40: agreements[1].hub: only an information-arrangement names a hub",
        id="hub-on-wrong-kind",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_files_are_rejected_naming_the_place(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ImportRejected) as err:
        reg, lines = files.read_file(path)
        files.validate_against(Registry(), reg, lines)
    message = "\n".join(err.value.problems)
    assert "scenario.yaml:" in message
    assert expected in message, message


def test_invalid_utf8_is_rejected_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_bytes(GOOD.encode()[:40] + b"\n\xff\xfe\n")  # 40 bytes span 3 lines
    with pytest.raises(ImportRejected, match=r"bad.yaml:4: the file is not valid UTF-8"):
        files.read_file(p)


def test_missing_file_and_directory_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        files.read_file(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        files.read_file(tmp_path)


def test_json_files_are_read_with_lines(tmp_path: Path) -> None:
    reg, _ = files.read_file(write(tmp_path, GOOD))
    text = files.dump(reg, "json").replace('"2016-11-23"', '"2016-13-01"')
    with pytest.raises(ImportRejected, match=r"reg.json:\d+: agreements\[0\].events\[0\].date"):
        files.read_file(write(tmp_path, text, "reg.json"))


def snapshot(store: Store) -> dict[str, list[tuple[str, str]]]:
    out = {}
    with store.read() as conn:
        for name, table in {**REGISTRY_TABLES, "meta": meta}.items():
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[name] = [tuple(r) for r in rows]
    return out


def file_digest(store: Store) -> str | None:
    if store.dialect != "sqlite":
        return None
    path = Path(str(store.engine.url.database))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("text", "expected"), BAD[:8] + BAD[17:22])
def test_a_rejected_import_leaves_the_store_unchanged(
    store: Store, tmp_path: Path, text: str, expected: str
) -> None:
    service.import_file(store, write(tmp_path, GOOD, "good.yaml"), actor="test")
    store.engine.dispose()  # close pooled connections so SQLite checkpoints the WAL into the file
    before, digest = snapshot(store), file_digest(store)
    store.engine.dispose()
    with pytest.raises(ImportRejected):
        service.import_file(store, write(tmp_path, text), actor="test")
    store.engine.dispose()
    assert file_digest(store) == digest
    assert snapshot(store) == before


def test_reimporting_is_a_no_op_and_export_round_trips(store: Store, tmp_path: Path) -> None:
    first = service.import_file(store, write(tmp_path, GOOD), actor="test")
    assert first.count() == 8
    assert service.import_file(store, write(tmp_path, GOOD), actor="test").empty
    for fmt in ("yaml", "json"):
        exported = files.dump(repository.load(store), fmt)
        again = files.read_file(write(tmp_path, exported, f"export.{fmt}"))[0]
        assert again == repository.load(store)
        assert files.dump(again, fmt) == exported
        assert service.import_file(store, tmp_path / f"export.{fmt}", actor="test").empty


def test_an_import_that_references_stored_records_is_accepted(store: Store, tmp_path: Path) -> None:
    service.import_file(store, write(tmp_path, GOOD), actor="test")
    extra = textwrap.dedent(
        """\
        consents:
          - {id: c2, originator: JPN, holder: USA, recipients: [KOR], valid_from: 2015-01-01}
        """
    )
    changes = service.import_file(store, write(tmp_path, extra, "extra.yaml"), actor="test")
    assert changes.added == {"consents": ["c2"]}


def test_a_scheme_change_that_orphans_a_mapped_level_is_rejected(
    store: Store, tmp_path: Path
) -> None:
    service.import_file(store, write(tmp_path, GOOD), actor="test")
    change = "parties:\n  - {code: JPN, name: Japan, levels: [{code: HI, name: 秘}, {code: U, name: u}]}\n"
    with pytest.raises(
        ImportRejected, match=r"change.yaml:2: parties\[0\].levels: drops level 'GOKUHI'"
    ):
        service.import_file(store, write(tmp_path, change, "change.yaml"), actor="test")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_parser(tmp_path: Path, text: str) -> None:
    p = tmp_path / "fuzz.yaml"
    p.write_text(text, "utf-8")
    try:
        reg, lines = files.read_file(p)
        files.validate_against(Registry(), reg, lines)
    except ImportRejected as exc:
        assert all(m.startswith("fuzz.yaml:") for m in exc.problems)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=0, max_value=len(GOOD) - 1),
    st.sampled_from(["", "x", ":", "-", "\n", "{", "  "]),
)
def test_mutated_good_files_are_accepted_or_rejected_with_a_place(
    tmp_path: Path, pos: int, ins: str
) -> None:
    p = tmp_path / "mut.yaml"
    p.write_text(GOOD[:pos] + ins + GOOD[pos + 1 :], "utf-8")
    try:
        reg, lines = files.read_file(p)
        files.validate_against(Registry(), reg, lines)
    except ImportRejected as exc:
        assert exc.problems and all(m.startswith("mut.yaml:") for m in exc.problems)
