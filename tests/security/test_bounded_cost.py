"""Bounded cost of hostile input (docs/security.md): whatever a writer POSTs to TAXII Add Objects,
the node answers with a small status, keeps statuses only for a while, audits the refused part
of an envelope as ONE record, and refuses a writer over its quota with 429 and `Retry-After`;
the audit page pages and verifies only what is new since the last checkpoint.

Each test runs against a live node (real uvicorn on loopback, tests/taxii/taxii_live.py) on both
stores, as every kind of writer TAXII has: partner nodes (JPN, USA, CHN: a third party Korea only
negotiates with), a Level III user, a user outside the need-to-know groups, national users by
publishing role; the credential-less and the foreign user are refused before any of it."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from taxii_live import (
    ANALYST_MARKING,
    SECRETS,
    LiveNode,
    add_test_principals,
    assert_taxii_error,
    indicator,
    start_node,
)
from ui_client import client, signed_in

from accord.audit import log as audit
from accord.exchange.markings import marking_definition
from accord.policy.marking import Marking
from accord.principals import add_principal, revoke_principal
from accord.store.audit_schema import audit_checkpoints, audit_log
from accord.store.exchange_schema import statuses
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

# bounded attack loops against a live node: the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow

try:
    from accord.limits import Limits
except ImportError:  # before the bounds existed (eff1280): the node runs unbounded
    Limits = None  # type: ignore[assignment,misc]

# National users with the publishing role (`analyst`), besides the harness's clerk (Level III,
# no groups) and analyst (Level II, groups dprk + military); and one per read-only role, which
# TAXII refuses before any quota is charged.
ROLE_USERS = {
    "op-user": ("analyst", "II", ("dprk",)),
    "an-user": ("analyst", "III", ()),  # outside every need-to-know group
    "operator-only": ("operator", "II", ("dprk",)),
    "legal-only": ("legal", "II", ("dprk",)),
    "logistics-only": ("logistics", "II", ("dprk",)),
    "auditor-only": ("auditor", "II", ("dprk",)),
}
READ_ONLY = ["operator-only", "legal-only", "logistics-only", "auditor-only"]
#: Lent to the TAXII harness's SECRETS while this module's node runs (the TAXII suites check that
#: SECRETS names exactly their own principals).
ROLE_SECRETS = {name: f"{name}-secret-1" for name in ROLE_USERS}
PARTNERS = ["jpn-node", "usa-node", "chn-node"]
USERS = ["clerk", "analyst", "op-user", "an-user"]
WRITERS = PARTNERS + USERS


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    """A KOR node as of 2017-06-01 with the test credentials and a user per publishing role."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("node") / "accord.db"), None
    else:
        url, name = make_pg_database()
    SECRETS.update(ROLE_SECRETS)
    node = start_node(url, as_of=date(2017, 6, 1))
    for n in ("analyst", "jpn-node"):
        revoke_principal(node.store, n)
    add_test_principals(node.store)
    for user, (role, level, groups) in ROLE_USERS.items():
        add_principal(
            node.store, user, "user", "KOR", SECRETS[user], level, groups=groups, roles=(role,)
        )
    try:
        yield node
    finally:
        node.stop()
        for secret_name in ROLE_SECRETS:
            SECRETS.pop(secret_name, None)
        if name:
            drop_pg_database(name)


@pytest.fixture
def fresh(live: LiveNode) -> Iterator[LiveNode]:
    """The node with its default limits and every writer's quota window cleared."""
    _limits(live)
    if Limits is not None:
        with live.store.begin() as conn:
            conn.exec_driver_sql("DELETE FROM write_quotas")
    yield live
    _limits(live)


def _limits(live: LiveNode, **kw: int) -> None:
    if Limits is not None:
        live.node.config.limits = Limits(**kw)


def collection_of(who: str) -> str:
    return "inbox" if who.endswith("-node") else "items"


def post(live: LiveNode, who: str, body: object) -> Any:
    return live.post(live.coll(collection_of(who)) + "objects/", body, who)


def head_seq(live: LiveNode) -> int:
    with live.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar() or 0)


def records_after(live: LiveNode, seq: int) -> list[dict[str, Any]]:
    with live.store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)
        ).all()
    return [{**r._mapping, "body": orjson.loads(r.body)} for r in rows]


#: A marking each writer may store (the partner's own, or one within the user's clearance and
#: groups, R9), so that its objects are stored.
VALID = {
    "jpn-node": Marking.of("JPN", "HI", ["dprk-missile"], groups=["dprk"]),
    "analyst": ANALYST_MARKING,
    "op-user": ANALYST_MARKING,
}


def valid_objects(who: str) -> list[dict[str, Any]]:
    """Returns objects `who` may store: a marking-definition (for a partner) and an indicator."""
    md = marking_definition(VALID[who])
    obj = indicator(marking=md["id"])
    return [md, obj] if who.endswith("-node") else [obj]


# ---- the failure report and its audit record --------------------------------------------------

ONE_MB_OF_ONES = b'{"objects":[' + b",".join([b"1"] * 524_000) + b"]}"


@pytest.mark.parametrize("who", WRITERS)
def test_a_megabyte_of_junk_gives_a_small_status_and_one_record(fresh: LiveNode, who: str) -> None:
    """Fails on eff1280: the status lists all 524,000 failures (~37 MB) and the refusal record
    names every one of them."""
    live = fresh
    raw = ONE_MB_OF_ONES
    assert 1_000_000 < len(raw) < 1_100_000
    before = head_seq(live)
    r = post(live, who, raw)
    assert r.status_code == 202, r.text[:300]
    assert len(r.content) < 128 * 1024, len(r.content)
    s = r.json()
    n = 524_000
    assert (s["total_count"], s["success_count"], s["failure_count"], s["pending_count"]) == (
        n,
        0,
        n,
        0,
    )
    # A partial `failures` would break the clients' count check: the first details come under
    # the custom property, with the number left out.
    assert "failures" not in s
    assert len(s["x_accord_failures"]) == 1000
    assert s["x_accord_failures_omitted"] == n - 1000
    assert all(d["id"] == "(no id)" and d["message"] for d in s["x_accord_failures"])
    polled = live.get(f"/{live.api_root}/status/{s['id']}/", who)
    assert polled.status_code == 200 and polled.json() == s
    with live.store.read() as conn:
        stored = conn.execute(sa.select(statuses.c.body).where(statuses.c.id == s["id"])).scalar()
    assert stored is not None and len(stored) < 128 * 1024
    # ONE audit record for the whole refused envelope: counts and hashes, not the objects.
    new = records_after(live, before)
    assert [x["kind"] for x in new] == ["refusal"], [x["kind"] for x in new]
    rec = new[0]
    assert rec["actor"] == who
    assert len(orjson.dumps(rec["body"])) < 8 * 1024
    body = rec["body"]
    assert body["count"] == n
    assert body["bytes"] == len(raw)
    assert body["sha256"] == hashlib.sha256(raw).hexdigest()
    assert sum(c for _, c in body["reasons"]) == n
    assert len(body["objects"]) == 10 and body["objects_omitted"] == n - 10


@pytest.mark.parametrize("who", sorted(VALID))
def test_a_mixed_envelope_keeps_its_receipt_and_lists_small_outcomes_whole(
    fresh: LiveNode, who: str
) -> None:
    """A valid object with a few bad ones: the stored object's receipt is as before, the status
    lists short lists whole under their standard names, and the refusals are one record.
    Fails on eff1280: the refusal record names each refused object and has no counts or hash."""
    live = fresh
    valid = valid_objects(who)
    good = valid[-1]
    before = head_seq(live)
    r = post(live, who, {"objects": [*valid, 1, "x", {"type": "indicator"}]})
    assert r.status_code == 202
    s = r.json()
    assert (s["total_count"], s["success_count"], s["failure_count"]) == (
        len(valid) + 3,
        len(valid),
        3,
    )
    assert len(s["failures"]) == s["failure_count"]
    assert "x_accord_failures" not in s
    refusals = [x for x in records_after(live, before) if x["kind"] == "refusal"]
    assert len(refusals) == 1
    assert refusals[0]["body"]["count"] == s["failure_count"]
    assert len(refusals[0]["body"]["sha256"]) == 64
    receipts = [x for x in records_after(live, before) if x["kind"] == "receipt"]
    assert len(receipts) == 1
    assert [good["id"], good["modified"], "stored"] in receipts[0]["body"]["objects"]


@pytest.mark.parametrize("who", ["usa-node", "clerk"])
def test_a_list_is_whole_up_to_the_limit_and_bounded_past_it(fresh: LiveNode, who: str) -> None:
    """`status_list_limit` details are listed whole under `failures`; one more and the list is
    bounded. Fails on eff1280: the list always names every failure."""
    live = fresh
    _limits(live, status_list_limit=5)
    whole = post(live, who, {"objects": [1] * 5}).json()
    assert len(whole["failures"]) == whole["failure_count"] == 5
    assert not any(k.startswith("x_accord") for k in whole)
    over = post(live, who, {"objects": [1] * 6}).json()
    assert over["failure_count"] == 6 and "failures" not in over
    assert len(over["x_accord_failures"]) == 5 and over["x_accord_failures_omitted"] == 1


# ---- retention ----------------------------------------------------------------------------------


def _backdate(live: LiveNode, status_id: str, seconds: int) -> None:
    with live.store.begin() as conn:
        conn.execute(
            sa.update(statuses)
            .where(statuses.c.id == status_id)
            .values(created=statuses.c.created - seconds * 1_000_000)
        )


def _stored(live: LiveNode, status_id: str) -> bool:
    with live.store.read() as conn:
        return (
            conn.execute(sa.select(statuses.c.id).where(statuses.c.id == status_id)).first()
            is not None
        )


@pytest.mark.parametrize("who", WRITERS)
def test_a_status_older_than_the_retention_is_gone(fresh: LiveNode, who: str) -> None:
    """Fails on eff1280: statuses are kept for ever (a week-old status is still served)."""
    live = fresh
    old = post(live, who, {"objects": [1]}).json()["id"]
    kept = post(live, who, {"objects": [2]}).json()["id"]
    url = f"/{live.api_root}/status/{old}/"
    assert live.get(url, who).status_code == 200
    _backdate(live, old, 7 * 24 * 3600 + 60)  # the default retention is 7 days
    assert_taxii_error(live.get(url, who), 404)
    # The next write by anyone purges it from the store; a recent status stays.
    post(live, "usa-node" if who != "usa-node" else "jpn-node", {"objects": [3]})
    assert not _stored(live, old)
    assert live.get(f"/{live.api_root}/status/{kept}/", who).status_code == 200


@pytest.mark.parametrize("who", ["jpn-node", "clerk"])
def test_a_principal_keeps_only_its_newest_statuses(fresh: LiveNode, who: str) -> None:
    """Fails on eff1280: every status is kept, however many a principal makes."""
    live = fresh
    _limits(live, status_max_per_principal=3)
    other = post(live, "usa-node", {"objects": [0]}).json()["id"]
    ids = [post(live, who, {"objects": [i]}).json()["id"] for i in range(5)]
    for sid in ids[:2]:
        assert_taxii_error(live.get(f"/{live.api_root}/status/{sid}/", who), 404)
    for sid in ids[2:]:
        assert live.get(f"/{live.api_root}/status/{sid}/", who).status_code == 200
    # Another principal's statuses are not its to push out.
    assert live.get(f"/{live.api_root}/status/{other}/", "usa-node").status_code == 200


# ---- write quotas ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", WRITERS)
def test_a_writer_over_its_object_quota_gets_429_with_retry_after(
    fresh: LiveNode, who: str
) -> None:
    """Fails on eff1280: there is no quota; every envelope is taken (202)."""
    live = fresh
    _limits(live, write_quota_objects=100, write_quota_interval=3600)
    assert post(live, who, {"objects": [1] * 100}).status_code == 202
    refused = post(live, who, {"objects": [indicator()]})
    body = assert_taxii_error(refused, 429)
    assert "quota" in body["description"]
    retry = int(refused.headers["retry-after"])
    assert 1 <= retry <= 3600
    # Nothing of the refused envelope was processed: no status, no audit record; the body is
    # not even read (not JSON, yet 429 rather than 400).
    seq = head_seq(live)
    assert_taxii_error(post(live, who, {"objects": [1]}), 429)
    assert_taxii_error(post(live, who, b"not json at all"), 429)
    assert head_seq(live) == seq
    # Another writer's quota is its own.
    other = "usa-node" if who != "usa-node" else "jpn-node"
    assert post(live, other, {"objects": [1]}).status_code == 202


@pytest.mark.parametrize("who", ["jpn-node", "usa-node", "an-user"])
def test_a_writer_over_its_byte_quota_gets_429_until_the_window_ends(
    fresh: LiveNode, who: str
) -> None:
    """Fails on eff1280: there is no quota; every envelope is taken (202)."""
    live = fresh
    _limits(live, write_quota_bytes=2000, write_quota_interval=2)
    # Start at the beginning of a window, so the second envelope falls in the same one.
    time.sleep(2 - time.time() % 2)
    assert post(live, who, {"objects": ["x" * 2500]}).status_code == 202
    refused = post(live, who, {"objects": [1]})
    assert_taxii_error(refused, 429)
    retry = int(refused.headers["retry-after"])
    assert 1 <= retry <= 2
    time.sleep(retry + 0.05)
    assert post(live, who, {"objects": [1]}).status_code == 202


@pytest.mark.parametrize("who", sorted(VALID))
def test_a_valid_write_within_quota_is_unaffected(fresh: LiveNode, who: str) -> None:
    """The default quota leaves an ordinary write as it was: 202, stored, readable, one receipt
    and no refusal; the quota's one upsert per envelope is the only work it adds (a regression
    guard: passes on eff1280 too)."""
    live = fresh
    before = head_seq(live)
    posted: list[dict[str, Any]] = []
    for _ in range(3):
        posted = valid_objects(who)
        r = post(live, who, {"objects": posted})
        assert r.status_code == 202
        assert r.json()["failure_count"] == 0, r.text
    kinds = [x["kind"] for x in records_after(live, before)]
    assert kinds == ["receipt"] * 3
    got = live.get(live.coll(collection_of(who)) + f"objects/{posted[-1]['id']}/", who)
    assert got.status_code == 200 and got.json()["objects"] == [posted[-1]]


@pytest.mark.parametrize("who", [None, "gbr-user", *READ_ONLY])
def test_the_quota_never_answers_before_authentication_and_access(
    fresh: LiveNode, who: str | None
) -> None:
    """No credentials: 401; a foreign user: no writable collection (404); a user without the
    publishing role: 403, every time. The quota is checked and charged only for a principal that
    may write, so it tells nobody else anything. (A regression guard for the first two; fails
    on eff1280 for the read-only roles, which could write there.)"""
    live = fresh
    _limits(live, write_quota_objects=1, write_quota_interval=3600)
    expected = 401 if who is None else 404 if who == "gbr-user" else 403
    for _ in range(3):
        r = live.post(live.coll("items") + "objects/", {"objects": [1, 2]}, who)
        assert_taxii_error(r, expected)


def test_the_quota_holds_across_processes(fresh: LiveNode, tmp_path: Path) -> None:
    """A second server on the same store (another worker process) sees the first one's count.
    Fails on eff1280: there is no quota."""
    live = fresh
    _limits(live, write_quota_objects=10, write_quota_interval=3600)
    other = start_node(live.store.url, as_of=date(2017, 6, 1))
    try:
        if Limits is not None:
            other.node.config.limits = Limits(write_quota_objects=10, write_quota_interval=3600)
        assert post(live, "jpn-node", {"objects": [1] * 10}).status_code == 202
        assert_taxii_error(post(other, "jpn-node", {"objects": [1]}), 429)
    finally:
        other.stop()


# ---- the audit page --------------------------------------------------------------------------

_SEQ = re.compile(r'<tr data-seq="(\d+)"')
_OLDER = re.compile(r'href="/ui/audit\?(?:kind=[^"&]*&amp;)?before=(\d+)"')


def _fill(live: LiveNode, n: int) -> None:
    with live.store.begin() as conn:
        for i in range(n):
            audit.append(conn, "sync", "test-filler", "JPN", {"n": i})


@pytest.mark.parametrize("who", ["clerk", "analyst", "chief", "op-user", "an-user"])
def test_the_audit_page_pages_back_by_record_number(fresh: LiveNode, who: str) -> None:
    """Every record once, newest first, a page at a time. Fails on eff1280: the page shows the
    50 newest records and no way to the older ones."""
    live = fresh
    _limits(live, audit_page_size=40)
    _fill(live, 130)
    total = head_seq(live)
    seen: list[int] = []
    with client(live) as c:
        signed_in(c, who)
        url: str | None = "/ui/audit"
        pages = 0
        while url is not None:
            r = c.get(url)
            assert r.status_code == 200, r.text[:300]
            seqs = [int(x) for x in _SEQ.findall(r.text)]
            # Records appended meanwhile (the sign-in) are newer than the first page's.
            assert seqs == sorted(seqs, reverse=True) and len(seqs) <= 40
            seen.extend(seqs)
            m = _OLDER.search(r.text)
            url = f"/ui/audit?before={m.group(1)}" if m else None
            pages += 1
            assert pages < 100
        assert pages >= 4
    assert len(seen) == len(set(seen))
    assert set(range(1, total + 1)) <= set(seen)


def test_the_audit_page_rejects_a_bad_page_position(fresh: LiveNode) -> None:
    """`before` must be a record number. Fails on eff1280: the parameter is ignored (200)."""
    with client(fresh) as c:
        signed_in(c, "analyst")
        assert c.get("/ui/audit?before=abc").status_code == 400
        assert c.get("/ui/audit?before=3").status_code == 200
    with client(fresh) as anonymous:
        assert anonymous.get("/ui/audit?before=3").status_code == 303


def _checkpoints(live: LiveNode) -> list[int]:
    with live.store.read() as conn:
        return [int(s) for s in conn.execute(sa.select(audit_checkpoints.c.seq)).scalars()]


def test_the_audit_page_verifies_from_the_last_checkpoint(fresh: LiveNode) -> None:
    """A visit after many new records signs a checkpoint at the verified head, and the next
    visit verifies only what came after it. Fails on eff1280: every visit recomputes the whole
    chain from the first record and signs nothing."""
    live = fresh
    _limits(live, audit_checkpoint_every=100)
    _fill(live, 150)
    with client(live) as c:
        signed_in(c, "chief")
        first = c.get("/ui/audit")
        assert "Intact" in first.text
        marks = _checkpoints(live)
        assert marks, "no checkpoint was signed"
        since = max(marks)
        second = c.get("/ui/audit").text
        assert f"since the signed checkpoint at record {since}" in second
        verified = int(re.search(r"(\d+) records verified since", second).group(1))  # type: ignore[union-attr]
        assert verified < 100 and verified == head_seq(live) - since


def test_the_audit_page_still_finds_a_record_altered_after_the_checkpoint(
    fresh: LiveNode,
) -> None:
    """Verifying from the checkpoint still finds an altered record after it, and an altered
    checkpointed record itself. Fails on eff1280: the page signs no checkpoint to start from
    (it finds both alterations by recomputing the whole chain on every visit)."""
    live = fresh
    _limits(live, audit_checkpoint_every=10)
    _fill(live, 20)
    with client(live) as c:
        signed_in(c, "chief")
        assert "Intact" in c.get("/ui/audit").text
        since = max(_checkpoints(live))
        _fill(live, 3)
        for victim in (since + 2, since):
            with live.store.begin() as conn:
                old = conn.execute(
                    sa.select(audit_log.c.body).where(audit_log.c.seq == victim)
                ).scalar_one()
                conn.execute(
                    sa.update(audit_log).where(audit_log.c.seq == victim).values(body='{"n":-1}')
                )
            try:
                page = c.get("/ui/audit").text
                assert "Broken" in page and f"record {victim}" in page, victim
            finally:
                with live.store.begin() as conn:
                    conn.execute(
                        sa.update(audit_log).where(audit_log.c.seq == victim).values(body=old)
                    )
        assert "Intact" in c.get("/ui/audit").text
