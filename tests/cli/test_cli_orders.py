"""`accord orders …` and `accord ledger …` end to end through the console entry point, on every
backend: exit 0 on success, 1 on a refusal naming its rules (JSON with --json), 2 on bad input."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.cli.main import main
from accord.registry.model import Agreement, Event, Party, Registry, Scope
from accord.registry.service import import_registry
from accord.store import Store


def _registry() -> Registry:
    return Registry(
        parties=tuple(Party(code=c, name=c) for c in ("KOR", "USA", "GBR")),
        agreements=(
            Agreement(
                id="kor-usa-mlsa-1988",
                title="Korea–US MLSA",
                kind="logistics-support",
                parties=("KOR", "USA"),
                scope=Scope(
                    purposes=("exercise", "disaster-relief"), categories=("food", "petroleum")
                ),
                articles={"scope": "Article II"},
                events=(Event(date=date(1988, 6, 8), kind="entered-into-force"),),
            ),
        ),
    )


@pytest.fixture
def cli(
    store: Store,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    import_registry(store, _registry(), actor="test")
    monkeypatch.setenv("ACCORD_DATABASE_URL", store_url)
    monkeypatch.setenv("ACCORD_CONFIG", "/nonexistent/accord.toml")
    monkeypatch.setenv("ACCORD_USER", "kim")
    monkeypatch.delenv("ACCORD_PARTY", raising=False)
    assert main(["init", "--party", "KOR"]) == 0
    capsys.readouterr()

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


CREATE = [
    "orders",
    "create",
    "--requester",
    "KOR",
    "--supplier",
    "USA",
    "--purpose",
    "exercise",
    "--date",
    "2024-03-01",
    "--settlement",
    "cash",
    "--exercise",
    "Freedom Shield 24",
    "--line",
    "food:100:meal:12.50:USD:MRE, case of 12",
    "--line",
    "petroleum:1000:l:1.20:USD",
]


def test_create_prints_the_new_order(cli: Any) -> None:
    code, out, _ = cli(*CREATE, "--json")
    assert code == 0
    order = orjson.loads(out)
    assert order["status"] == "requested" and order["id"].startswith("KOR-USA-")
    assert order["agreement"] == "kor-usa-mlsa-1988" and order["exercise"] == "Freedom Shield 24"
    assert order["lines"][0]["description"] == "MRE, case of 12"
    assert order["amounts"]["ordered"] == {"USD": "2450.00"}
    code, out, _ = cli(*CREATE)
    assert code == 0 and "requested" in out


@pytest.mark.parametrize(
    ("change", "rules"),
    [
        pytest.param(
            ("--supplier", "GBR"), ["LOGISTICS_AGREEMENT"], id="no-agreement-with-GBR-R10"
        ),
        pytest.param(
            ("--purpose", "humanitarian-relief"), ["LOGISTICS_SCOPE"], id="purpose-not-covered-R11"
        ),
        pytest.param(("--line", "weapons:1:ea:1:USD"), ["LOGISTICS_SCOPE"], id="weapons-R11"),
        pytest.param(
            ("--date", "1987-01-01"), ["LOGISTICS_AGREEMENT"], id="before-entry-into-force-R10"
        ),
    ],
)
def test_create_refusals_exit_1_naming_the_rules(
    cli: Any, change: tuple[str, str], rules: list[str]
) -> None:
    argv = list(CREATE)
    if change[0] == "--line":
        argv += list(change)
    else:
        argv[argv.index(change[0]) + 1] = change[1]
    code, out, _ = cli(*argv, "--json")
    assert code == 1
    body = orjson.loads(out)
    assert body["refused"] is True and body["rules"] == rules and body["message"]
    code, _, err = cli(*argv)
    assert code == 1 and rules[0] in err
    code, out, _ = cli("orders", "list", "--json")
    assert orjson.loads(out) == []


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(("--line", "food:1:t"), id="short-line"),
        pytest.param(("--line", "food:1:t:1.005:USD"), id="sub-cent-price"),
        pytest.param(("--date", "2024-13-01"), id="bad-date"),
        pytest.param(("--settlement", "barter"), id="bad-method"),
        pytest.param(("--purpose", "tourism"), id="bad-purpose"),
    ],
)
def test_malformed_input_exits_2(cli: Any, bad: tuple[str, str]) -> None:
    argv = list(CREATE)
    argv[argv.index(bad[0]) + 1] = bad[1]
    code, _, err = cli(*argv)
    assert code == 2 and "error" in err


def test_full_workflow_and_ledger(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(*CREATE, "--json")
    oid = orjson.loads(out)["id"]
    monkeypatch.setenv("ACCORD_USER", "smith")  # each person runs their own steps
    assert cli("orders", "accept", oid, "--date", "2024-03-02", "--by", "smith")[0] == 0
    monkeypatch.setenv("ACCORD_USER", "kim")
    code, out, _ = cli(
        "orders", "deliver", oid, "--signed-by", "kim", "--date", "2024-03-05", "--json"
    )
    assert code == 1 and orjson.loads(out)["rules"] == ["SETTLEMENT"]  # the orderer cannot sign
    monkeypatch.setenv("ACCORD_USER", "park")
    code, out, _ = cli(
        "orders",
        "deliver",
        oid,
        "--signed-by",
        "park",
        "--received",
        "food:90",
        "--date",
        "2024-03-05",
        "--by",
        "park",
        "--json",
    )
    assert code == 0 and orjson.loads(out)["amounts"]["delivered"] == {"USD": "2325.00"}
    monkeypatch.setenv("ACCORD_USER", "smith")
    code, out, _ = cli("orders", "invoice", oid, "--date", "2024-03-06", "--by", "smith", "--json")
    monkeypatch.setenv("ACCORD_USER", "kim")
    assert orjson.loads(out)["deadline"] == "2024-04-05"
    code, out, _ = cli(
        "orders",
        "settle",
        oid,
        "--method",
        "cash",
        "--amount",
        "1000.00:USD",
        "--date",
        "2024-03-10",
        "--json",
    )
    assert code == 0 and orjson.loads(out)["amounts"]["open"] == {"USD": "1325.00"}
    code, out, _ = cli("ledger", "balances", "--json")
    assert [(r["partner"], r["payable"]) for r in orjson.loads(out)] == [("USA", "1325.00")]
    code, out, _ = cli("ledger", "ageing", "--at", "2024-05-06", "--csv")
    row = next(csv.DictReader(io.StringIO(out)))
    assert (row["direction"], row["30-89"], row["current"]) == ("payable", "1325.00", "0.00")
    code, out, _ = cli("orders", "close", oid, "--json")
    body = orjson.loads(out)
    assert code == 1 and body["rules"] == ["SETTLEMENT"] and "still open" in body["message"]
    cli("orders", "settle", oid, "--method", "cash", "--amount", "1325:USD", "--date", "2024-03-11")
    for kind in ("order", "receipt", "invoice", "settlement"):
        f = tmp_path / f"{kind}.pdf"
        f.write_bytes(f"%PDF {kind}".encode())
        assert cli("orders", "attach", oid, str(f), "--kind", kind, "--date", "2024-03-11")[0] == 0
    code, out, _ = cli("orders", "close", oid, "--date", "2024-03-12", "--json")
    assert code == 0 and orjson.loads(out)["status"] == "closed"
    code, out, _ = cli("orders", "show", oid, "--json")
    shown = orjson.loads(out)
    assert [t["kind"] for t in shown["transitions"]][-1] == "close" and len(shown["documents"]) == 4
    code, out, _ = cli("ledger", "report", "--year", "2024", "--json")
    assert [(r["partner"], r["direction"], r["settled"]) for r in orjson.loads(out)] == [
        ("USA", "acquisition", "2325.00")
    ]
    assert cli("ledger", "verify")[0] == 0
    assert cli("orders", "list", "--status", "closed", "--json")[1].count(oid) == 1


def test_cancel_reject_amend(cli: Any) -> None:
    ids = [orjson.loads(cli(*CREATE, "--json")[1])["id"] for _ in range(3)]
    assert (
        orjson.loads(cli("orders", "reject", ids[0], "--reason", "no stock", "--json")[1])["status"]
        == "rejected"
    )
    assert (
        orjson.loads(cli("orders", "cancel", ids[1], "--reason", "called off", "--json")[1])[
            "status"
        ]
        == "cancelled"
    )
    code, out, _ = cli("orders", "amend", ids[2], "--line", "food:5:meal:12.50:USD", "--json")
    assert code == 0 and orjson.loads(out)["amounts"]["ordered"] == {"USD": "62.50"}
    code, out, _ = cli("orders", "accept", ids[0], "--json")
    assert code == 1 and orjson.loads(out)["rules"] == ["WORKFLOW"]
    assert cli("orders", "show", "KOR-USA-unknown")[0] == 2


def test_export_import_reconcile_by_file(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oid = orjson.loads(cli(*CREATE, "--json")[1])["id"]
    export = tmp_path / "kor.json"
    assert cli("orders", "export", "--peer", "USA", "--output", str(export))[0] == 0
    code, out, _ = cli("orders", "reconcile", "USA", "--file", str(export), "--json")
    assert code == 0 and orjson.loads(out)["identical"] is True
    assert orjson.loads(cli("orders", "import", str(export), "--json")[1])["unchanged"] == 1
    cli("orders", "accept", oid)  # only here: the file is now behind
    code, out, _ = cli("orders", "reconcile", "USA", "--file", str(export), "--json")
    diffs = orjson.loads(out)["differences"]
    assert code == 1 and [d["what"] for d in diffs][0] == "transition 2 missing at peer"
    code, _, err = cli("orders", "import", str(tmp_path / "missing.json"))
    assert code == 2


def test_by_names_the_person_running_the_command(
    cli: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--by` may repeat who runs the command but never names someone else: the step, its
    history and its audit record stay untouched (exit 2), and the audit actor is the caller."""
    import sqlalchemy as sa

    from accord.store.audit_schema import audit_log

    oid = orjson.loads(cli(*CREATE, "--json")[1])["id"]
    code, _, err = cli("orders", "accept", oid, "--by", "smith")
    assert code == 2 and "smith" in err and "kim" in err
    shown = orjson.loads(cli("orders", "show", oid, "--json")[1])
    assert shown["status"] == "requested" and len(shown["transitions"]) == 1
    monkeypatch.setenv("ACCORD_USER", "smith")
    assert cli("orders", "accept", oid, "--by", "smith")[0] == 0
    with store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.body)
            .where(audit_log.c.kind == "order-step", audit_log.c.subject == oid)
            .order_by(audit_log.c.seq)
        ).all()
    assert [(r.actor, orjson.loads(r.body)["step"]) for r in rows] == [
        ("kim", "create"),
        ("smith", "accept"),
    ]
