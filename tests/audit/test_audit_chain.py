"""The audit chain: any single altered, deleted or reordered record is detected and named, on
every backend; checkpoints are signed; disclosures answer "who has my item?"."""

from __future__ import annotations

import json

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from accord.audit import checkpoints, log
from accord.cli.main import main
from accord.store import Store
from accord.store.audit_schema import audit_checkpoints, audit_head, audit_log

N = 8


def fill(store: Store, n: int = N) -> None:
    for i in range(n):
        log.record(
            store,
            "release",
            f"peer-{i % 3}",
            "JPN",
            {"objects": [[f"indicator--{i}", "v", "m"]], "i": i},
        )


def test_an_untouched_chain_verifies(store: Store) -> None:
    fill(store)
    v = log.verify(store)
    assert v.ok and v.records == N and v.first_bad is None


def test_an_empty_chain_verifies(store: Store) -> None:
    assert log.verify(store).ok


@pytest.mark.parametrize("target", range(1, N + 1))
def test_altering_any_field_of_any_record_is_detected_and_named(store: Store, target: int) -> None:
    fill(store)
    for column, value in {
        "body": '{"i":999}',
        "actor": "mallory",
        "kind": "receipt",
        "at": 1,
        "subject": "USA",
    }.items():
        with store.begin() as conn:
            old = conn.execute(
                sa.select(audit_log.c[column]).where(audit_log.c.seq == target)
            ).scalar()
            conn.execute(
                sa.update(audit_log).where(audit_log.c.seq == target).values({column: value})
            )
        v = log.verify(store)
        assert not v.ok and v.first_bad == target and "altered" in (v.reason or ""), column
        with store.begin() as conn:
            conn.execute(
                sa.update(audit_log).where(audit_log.c.seq == target).values({column: old})
            )
        assert log.verify(store).ok


@pytest.mark.parametrize("target", range(1, N + 1))
def test_deleting_any_record_is_detected_and_named(store: Store, target: int) -> None:
    fill(store)
    with store.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == target))
    v = log.verify(store)
    assert not v.ok and v.first_bad == target and "missing" in (v.reason or "")


@pytest.mark.parametrize("target", range(1, N))
def test_swapping_any_two_neighbours_is_detected(store: Store, target: int) -> None:
    fill(store)
    with store.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == target).values(seq=-1))
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == target + 1).values(seq=target))
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == -1).values(seq=target + 1))
    v = log.verify(store)
    assert not v.ok and v.first_bad == target


def test_a_rewritten_record_with_a_recomputed_hash_breaks_the_next_link(store: Store) -> None:
    fill(store)
    with store.begin() as conn:
        r = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 5)).first()
        assert r is not None
        m = r._mapping
        forged = log.record_hash(
            m["prev"], 5, m["at"], m["kind"], m["actor"], m["subject"], '{"i":-1}'
        )
        conn.execute(
            sa.update(audit_log).where(audit_log.c.seq == 5).values(body='{"i":-1}', hash=forged)
        )
    v = log.verify(store)
    assert not v.ok and v.first_bad == 6


def test_truncating_the_tail_is_detected_by_the_head(store: Store) -> None:
    fill(store)
    with store.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == N))
    v = log.verify(store)
    assert not v.ok and v.first_bad == N


def test_checkpoints_are_signed_and_pin_the_chain(store: Store) -> None:
    fill(store)
    cp = checkpoints.checkpoint(store)
    assert cp is not None and cp.seq == N and checkpoints.check_signature(cp)
    assert checkpoints.checkpoint(store) is None  # nothing new
    assert checkpoints.verify_checkpoints(store) == []
    # Rewrite the whole chain consistently from record 1: the chain verifies, the checkpoint does not.
    with store.begin() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
        prev = log.GENESIS
        for r in rows:
            m = r._mapping
            body = m["body"].replace("indicator", "ghost") if m["seq"] == 3 else m["body"]
            h = log.record_hash(prev, m["seq"], m["at"], m["kind"], m["actor"], m["subject"], body)
            conn.execute(
                sa.update(audit_log)
                .where(audit_log.c.seq == m["seq"])
                .values(body=body, prev=prev, hash=h)
            )
            prev = h
        conn.execute(sa.update(audit_head).values(hash=prev))
    assert log.verify(store).ok
    assert checkpoints.verify_checkpoints(store) == [
        f"checkpoint {N}: the chain no longer passes through the signed hash"
    ]
    with store.begin() as conn:
        conn.execute(sa.update(audit_checkpoints).values(signature="00" * 64))
    assert "signature does not verify" in checkpoints.verify_checkpoints(store)[0]


def test_disclosures_list_every_release_of_an_item(store: Store) -> None:
    with store.begin() as conn:
        body = {
            "party": "JPN",
            "objects": [
                ["indicator--a", "2017-01-01T00:00:00.000Z", "marking-definition--m"],
                ["indicator--b", "v", "marking-definition--m"],
            ],
            "grants": [
                {
                    "basis": ["kor-jpn-gsomia-2016"],
                    "route": ["KOR", "JPN"],
                    "level": "GOKUHI",
                    "markings": ["marking-definition--m"],
                }
            ],
        }
        log.append(conn, "release", "jpn-node", "JPN", body)
        log.append(
            conn,
            "release",
            "usa-node",
            "USA",
            {**body, "party": "USA", "objects": body["objects"][1:]},
        )
    rows = log.disclosures(store, "indicator--a")
    assert [(r["party"], r["level"], r["basis"]) for r in rows] == [
        ("JPN", "GOKUHI", ["kor-jpn-gsomia-2016"])
    ]
    assert {r["party"] for r in log.disclosures(store, "indicator--b")} == {"JPN", "USA"}
    assert log.disclosures(store, "indicator--zzz") == []


def test_disclosures_read_the_first_form_of_release_grants(store: Store) -> None:
    """The first releases keyed grants by marking; their disclosures read the same."""
    with store.begin() as conn:
        body = {
            "party": "JPN",
            "objects": [["indicator--a", "v1", "marking-definition--m"]],
            "grants": {
                "marking-definition--m": {
                    "basis": ["kor-jpn-gsomia-2016"],
                    "route": ["KOR", "JPN"],
                    "level": "GOKUHI",
                }
            },
        }
        log.append(conn, "release", "jpn-node", "JPN", body)
    (row,) = log.disclosures(store, "indicator--a")
    assert (row["level"], row["basis"], row["route"]) == (
        "GOKUHI",
        ["kor-jpn-gsomia-2016"],
        ["KOR", "JPN"],
    )


def test_cli_verify_exit_codes_and_export(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, 4)
    url = str(store.engine.url.render_as_string(hide_password=False)).replace(
        "postgresql+psycopg://", "postgresql://"
    )
    monkeypatch.setenv("ACCORD_DATABASE_URL", url)
    assert main(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["audit", "export"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3, 4]
    with store.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(actor="x"))
    assert main(["audit", "verify"]) == 1
    assert "record 2" in capsys.readouterr().out


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    seq=st.integers(1, 2**62),
    at=st.integers(0, 2**62),
    kind=st.sampled_from(log.KINDS),
    actor=st.text(max_size=20),
    subject=st.text(max_size=40),
    body=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)
def test_a_body_serialised_ahead_chains_to_the_same_hash(
    prev: str, seq: int, at: int, kind: str, actor: str, subject: str, body: dict[str, object]
) -> None:
    """Read-ahead serialises a release body before the append (`serialise`); the hash it then
    gets is the one `record_hash` (and so `verify`) computes from the stored text."""
    ahead = log.serialise(body)
    assert ahead.text == orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    assert log._chained(prev, seq, at, kind, actor, subject, ahead) == log.record_hash(
        prev, seq, at, kind, actor, subject, ahead.text
    )


def test_records_appended_alone_and_inside_transactions_form_one_chain(store: Store) -> None:
    # `record` (its own transaction; on SQLite the driver's statements) and `append` (inside a
    # caller's transaction) interleaved: one chain, each record where the other left the head.
    for i in range(6):
        if i % 2:
            with store.begin() as conn:
                log.append(conn, "receipt", "peer", "JPN", {"i": i})
        else:
            assert log.record(store, "release", "peer", "JPN", log.serialise({"i": i})) == i + 1
    v = log.verify(store)
    assert v.ok and v.records == 6
    with store.read() as conn:
        rows = conn.execute(sa.select(audit_log.c.seq, audit_log.c.body)).all()
    assert [(r[0], json.loads(r[1])) for r in rows] == [(i + 1, {"i": i}) for i in range(6)]


def test_a_record_of_an_unknown_kind_writes_nothing(store: Store) -> None:
    fill(store, 2)
    with pytest.raises(ValueError):
        log.record(store, "gossip", "peer", "JPN", {"i": 9})
    v = log.verify(store)
    assert v.ok and v.records == 2
