"""The store contract, run against every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from accord.errors import InputError, StoreError
from accord.registry import repository
from accord.registry.model import Agreement, Event, Level, Party, Registry
from accord.store import Store, mask_url, open_store
from accord.store.schema import parties as parties_table


def _registry() -> Registry:
    return Registry(
        parties=(
            Party(
                code="KOR",
                name="Korea",
                levels=(Level(code="II", name="2"), Level(code="U", name="u")),
            ),
            Party(
                code="JPN",
                name="Japan",
                levels=(Level(code="HI", name="秘"), Level(code="U", name="u")),
            ),
        ),
        agreements=(
            Agreement(
                id="kor-jpn",
                title="Korea–Japan",
                kind="information-security",
                parties=("KOR", "JPN"),
                equivalence=({"KOR": "II", "JPN": "HI"},),
                events=(Event(date=date(2016, 11, 23), kind="entered-into-force"),),
            ),
        ),
    )


def test_migrate_is_idempotent(store: Store) -> None:
    store.migrate()
    store.migrate()
    with store.read() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version is not None and version >= "0001"


def test_apply_then_load_round_trips_records(store: Store) -> None:
    reg = _registry()
    changes = repository.apply(store, reg, actor="test")
    assert changes.added == {"parties": ["KOR", "JPN"], "agreements": ["kor-jpn"]}
    loaded = repository.load(store)
    assert {p.code for p in loaded.parties} == {"KOR", "JPN"}
    assert loaded.agreements == reg.agreements
    by_code = {p.code: p for p in loaded.parties}
    assert by_code["JPN"].levels[0].name == "秘"  # national wording survives both backends
    assert [p.code for p in loaded.parties] == ["JPN", "KOR"]  # sorted by key


def test_applying_the_same_records_again_changes_nothing(store: Store) -> None:
    repository.apply(store, _registry(), actor="test")
    again = repository.apply(store, _registry(), actor="test")
    assert again.empty and again.count() == 0


def test_a_changed_record_is_replaced_not_duplicated(store: Store) -> None:
    repository.apply(store, _registry(), actor="test")
    renamed = Registry(
        parties=(
            Party(
                code="KOR",
                name="Republic of Korea",
                levels=(Level(code="II", name="2"), Level(code="U", name="u")),
            ),
        )
    )
    changes = repository.apply(store, renamed, actor="test")
    assert changes.replaced == {"parties": ["KOR"]}
    with store.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(parties_table)).scalar()
    assert count == 2
    names = {p.code: p.name for p in repository.load(store).parties}
    assert names == {"KOR": "Republic of Korea", "JPN": "Japan"}


def test_meta_values_are_kept_and_overwritten(store: Store) -> None:
    assert repository.get_meta(store, "party") is None
    repository.set_meta(store, "party", "KOR")
    repository.set_meta(store, "party", "JPN")
    assert repository.get_meta(store, "party") == "JPN"


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(StoreError), store.begin() as conn:
        conn.execute(sa.insert(parties_table).values(code="KOR", body="{}"))
        conn.execute(sa.insert(parties_table).values(code="KOR", body="{}"))  # duplicate key
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(parties_table)).scalar() == 0


def test_database_errors_become_store_errors_naming_the_cause(store: Store) -> None:
    with pytest.raises(StoreError, match="store"), store.read() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table"))


def test_bad_urls_are_input_errors() -> None:
    with pytest.raises(InputError, match="not a store URL"):
        Store("mysql://root:hunter2@db/accord")
    with pytest.raises(InputError, match="does not exist"):
        Store("sqlite:////no/such/dir/accord.db")


def test_passwords_never_appear_in_store_repr_or_messages() -> None:
    assert "hunter2" not in mask_url("postgresql://accord:hunter2@127.0.0.1:1/x")
    store = Store("postgresql://accord:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in repr(store)
    with pytest.raises(StoreError) as err:
        store.migrate()
    assert "hunter2" not in str(err.value)


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unavailable"):
        open_store("postgresql://nobody@127.0.0.1:1/none")
