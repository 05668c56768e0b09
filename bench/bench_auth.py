"""What authentication costs (issue 16, cases 11 and 12): a wrong secret for a live name against
one for an unknown and a revoked name (equal work hides which names exist), and a valid request
with the failed-attempt throttle on against the same request with it off, in the same run.

    .venv/bin/python bench/bench_auth.py [--rounds 41] [--pg-url postgresql://…/postgres]

One node on loopback (real uvicorn, in this process, on a fresh SQLite store or a fresh database
of the given PostgreSQL server), one keep-alive client. Each figure is the median over `--rounds`
requests (a wrong secret is new every time, so no cache answers for it); the valid-request arms
alternate in blocks so that drift of the shared machine falls on both. The throttle arms: `off`
(`auth_throttle = off`), `on` (nothing failed recently: the store is not consulted), and `on,
watching` (a failure of another name moments ago: one extra indexed read of the counters).
Prints a Markdown section (command, machine, date, table) for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn

from accord.app import create_app
from accord.node import Node, NodeConfig
from accord.principals import add_principal, revoke_principal
from accord.principals.throttle import WATCH_KEY, ThrottlePolicy
from accord.server import prepare
from accord.settings import load_settings
from accord.store import open_store
from accord.store.auth_schema import auth_failures
from accord.store.schema import meta

TAXII = "application/taxii+json;version=2.1"
PATH = "/kor/collections/"


def _basic(name: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{secret}".encode()).decode()
    return {"Accept": TAXII, "Authorization": f"Basic {token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _median_ms(rounds: int, one: Callable[[], None]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        one()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _pg_database(admin: str) -> tuple[str, Callable[[], None]]:
    engine_url = admin.replace("postgresql://", "postgresql+psycopg://", 1)
    name = "accord_bench_auth_" + uuid.uuid4().hex[:8]
    engine = sa.create_engine(engine_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    return admin.rsplit("/", 1)[0] + "/" + name, drop


def run(url: str, rounds: int) -> dict[str, float]:
    store = open_store(url)
    prepare(store, load_settings(environ={"ACCORD_PARTY": "KOR"}))
    add_principal(store, "bench-user", "user", "KOR", "bench-secret-1", clearance="III")
    add_principal(store, "bench-gone", "user", "KOR", "bench-secret-2", clearance="III")
    revoke_principal(store, "bench-gone")
    config = NodeConfig(api_root="kor", title="bench")
    node = Node(store, "KOR", config)
    on = ThrottlePolicy(free_failures=10**6, address_failures=10**6)  # on, never refusing
    off = ThrottlePolicy(enabled=False)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(node), host="127.0.0.1", port=port, log_level="error", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    out: dict[str, float] = {}
    try:

        def attempt(name: str, secret: str | None, status: int) -> Callable[[], None]:
            def one() -> None:
                r = http.get(PATH, headers=_basic(name, secret or uuid.uuid4().hex))
                assert r.status_code == status, (name, r.status_code, r.text[:200])

            return one

        # Wrong secrets, throttle off so that every attempt is checked.
        node.config.throttle = off
        for _ in range(3):  # warm-up: connection, caches, the dummy hash
            attempt("bench-user", None, 401)()
            attempt("nobody-here", None, 401)()
        for label, name in (
            ("wrong secret, live name", "bench-user"),
            ("wrong secret, unknown name", "nobody-here"),
            ("wrong secret, revoked name", "bench-gone"),
        ):
            out[label] = _median_ms(rounds, attempt(name, None, 401))

        valid = attempt("bench-user", "bench-secret-1", 200)
        for _ in range(20):
            valid()
        arms: dict[str, list[float]] = {"off": [], "on": [], "on, watching": []}
        block = max(1, rounds // 4)
        for _ in range(8):
            for arm in arms:
                node.config.throttle = off if arm == "off" else on
                if arm == "on, watching":  # a failure elsewhere: every process looks again
                    attempt("someone-else", None, 401)()
                else:  # nothing failed recently
                    with store.begin() as conn:
                        conn.execute(sa.delete(auth_failures))
                        conn.execute(sa.delete(meta).where(meta.c.key == WATCH_KEY))
                for _ in range(block):
                    started = time.perf_counter()
                    valid()
                    arms[arm].append(time.perf_counter() - started)
        for arm, times in arms.items():
            out[f"valid request, throttle {arm}"] = statistics.median(times) * 1000
    finally:
        http.close()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--pg-url", help="a PostgreSQL server to bench on as well")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.rounds)
    if args.pg_url:
        url, drop = _pg_database(args.pg_url)
        try:
            results["PostgreSQL"] = run(url, args.rounds)
        finally:
            drop()
    backends = list(results)
    command = "bench/bench_auth.py " + " ".join(sys.argv[1:])
    print(f"Command: `{command.strip()}`  ")
    print(f"Machine: {os.cpu_count()} cores ({_cpu()}), Python {platform.python_version()}  ")
    print(f"Date: {date.today().isoformat()}; median of {args.rounds} requests each\n")
    print("| figure (median, ms) | " + " | ".join(backends) + " |")
    print("|---|" + "---:|" * len(backends))
    for label in results[backends[0]]:
        cells = " | ".join(f"{results[b][label]:.2f}" for b in backends)
        print(f"| {label} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
