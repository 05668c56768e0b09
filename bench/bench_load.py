"""Bounded load test of `accord serve` (issue 8): concurrent clients on loopback for a fixed time,
mixing TAXII reads (object pages, object by id), writes (small envelopes) and release decisions
(`POST /api/v1/decisions`), on SQLite and on PostgreSQL with 1 and 2 worker processes.

    .venv/bin/python bench/bench_load.py --pg-url postgresql://postgres@127.0.0.1:54329/postgres

Each configuration gets a fresh store (the demonstration scenario, `--preload` items), an
`accord serve --workers N` subprocess, a warm-up, then `--clients` asyncio clients for
`--duration` seconds. Every answer that is not the expected status is an error. Prints a
Markdown section (command, machine, date, one row per configuration) for BENCHMARKS.md; ends by
itself and exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import sqlalchemy as sa

from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.node import Node, NodeConfig
from accord.policy.marking import Marking
from accord.principals import add_principal
from accord.server import prepare
from accord.settings import load_settings
from accord.store import open_store

TAXII = "application/taxii+json;version=2.1"
MARKING = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
MD = mk.marking_definition(MARKING)
USER, SECRET = "bench-analyst", "bench-analyst-secret"
MIX = (("page", 40), ("object", 20), ("write", 20), ("decide", 20))
QUESTIONS = [
    {"originator": "KOR", "level": lv, "topics": [t], "to": to, "at": at}
    for lv in ("II", "III")
    for t in ("dprk-nuclear", "dprk-missile", "wmd")
    for to in ("JPN", "USA", "AUS")
    for at in ("2014-12-29", "2017-06-01", "2019-11-23")
]


def indicator() -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2017-01-01T00:00:00.000Z",
        "modified": "2017-01-01T00:00:00.000Z",
        "name": "load test indicator",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2017-01-01T00:00:00Z",
        "object_marking_refs": [MD["id"]],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_store(
    backend: str, pg_admin: str | None, workdir: Path, preload: int
) -> tuple[str, list[str], str | None]:
    """Returns (store URL, preloaded object ids, PostgreSQL database to drop)."""
    name = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        assert pg_admin, "--pg-url is needed for PostgreSQL"
        name = "accord_bench_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(
            pg_admin.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = pg_admin.rsplit("/", 1)[0] + "/" + name
    store = open_store(url)
    prepare(store, load_settings(environ={"ACCORD_PARTY": "KOR"}))
    Node(store, "KOR", NodeConfig(api_root="kor", title="bench"))  # the node's keys, made once
    add_principal(
        store,
        USER,
        "user",
        "KOR",
        SECRET,
        clearance="II",
        groups=("dprk", "military"),
        roles=("analyst",),
    )
    items = next(c for c in list_collections(store, "kor") if c.kind == "items")
    ids: list[str] = []
    for start in range(0, preload, 500):
        batch = [indicator() for _ in range(min(500, preload - start))]
        ids += [str(o["id"]) for o in batch]
        assert all(
            o.ok
            for o in add_objects(
                store, items, [MD, *batch], Writer.host("bench", "KOR"), lambda m: None
            )
        )
    store.close()
    return url, ids, name


def drop(pg_admin: str, name: str) -> None:
    admin = sa.create_engine(
        pg_admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def start_server(url: str, workers: int, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_DATABASE_URL=url, ACCORD_DATE="2017-06-01", ACCORD_CONFIG=str(workdir / "none.toml")
    )
    accord = str(Path(sys.executable).with_name("accord"))
    log = (workdir / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [accord, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"accord serve did not start; see {log.name}")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k, _ in MIX})
    errors: list[str] = field(default_factory=list)


async def client(
    http: httpx.AsyncClient, ids: list[str], until: float, tally: Tally, seed: int
) -> None:
    rnd = random.Random(seed)
    auth = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    taxii = {"Accept": TAXII, "Authorization": auth}
    objects = "/kor/collections/items/objects/"
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    next_token: str | None = None
    while time.perf_counter() < until:
        kind = rnd.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            if kind == "page":
                params = {"limit": "50", **({"next": next_token} if next_token else {})}
                r = await http.get(objects, params=params, headers=taxii)
                expected = 200
                if r.status_code == 200:
                    body = r.json()
                    next_token = body.get("next") if body.get("more") else None
            elif kind == "object":
                r = await http.get(f"{objects}{rnd.choice(ids)}/", headers=taxii)
                expected = 200
            elif kind == "write":
                envelope = {"objects": [indicator(), indicator()]}
                r = await http.post(
                    objects, json=envelope, headers={**taxii, "Content-Type": TAXII}
                )
                expected = 202
                if r.status_code == 202 and r.json().get("success_count") != 2:
                    tally.errors.append(f"write: {r.text[:200]}")
            else:
                asks = rnd.sample(QUESTIONS, 5)
                r = await http.post("/api/v1/decisions", json=asks, headers={"Authorization": auth})
                expected = 200
            if r.status_code != expected:
                tally.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
        except httpx.HTTPError as exc:
            tally.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            continue
        tally.latencies[kind].append(time.perf_counter() - started)


async def run_load(base: str, ids: list[str], clients: int, duration: float) -> tuple[Tally, float]:
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them on the server
    # side, so that a request never races the server closing its connection.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=1.0
    )
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        warm = Tally()
        await asyncio.gather(
            *(client(http, ids, time.perf_counter() + 3, warm, 1000 + i) for i in range(clients))
        )
        if warm.errors:
            raise SystemExit(f"warm-up failed: {warm.errors[:3]}")
        tally = Tally()
        started = time.perf_counter()
        await asyncio.gather(
            *(client(http, ids, started + duration, tally, i) for i in range(clients))
        )
        return tally, time.perf_counter() - started


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg-url", help="PostgreSQL server URL (admin); a throw-away database is made")
    ap.add_argument("--configs", default="sqlite:1,sqlite:2,postgresql:1,postgresql:2")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--preload", type=int, default=2000)
    args = ap.parse_args()
    rows = []
    failed = False
    for config in args.configs.split(","):
        backend, workers = config.split(":")
        with tempfile.TemporaryDirectory(prefix="accord-load-") as tmp:
            workdir = Path(tmp)
            url, ids, name = make_store(backend, args.pg_url, workdir, args.preload)
            proc, base = start_server(url, int(workers), workdir)
            try:
                tally, elapsed = asyncio.run(run_load(base, ids, args.clients, args.duration))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
                server_log = [
                    line
                    for log in workdir.glob("serve-*.log")
                    for line in log.read_text("utf-8", "replace").splitlines()
                    if '"msg":"request"' not in line
                ]
                if name and args.pg_url:
                    drop(args.pg_url, name)
        every = [x for v in tally.latencies.values() for x in v]
        total = len(every) + len(tally.errors)
        failed |= bool(tally.errors)
        per_kind = " · ".join(
            f"{k} {pct(v, 50):.0f}/{pct(v, 99):.0f}" for k, v in tally.latencies.items()
        )
        rows.append(
            f"| {backend} | {workers} | {total} | {len(tally.errors)} | {total / elapsed:.0f} | "
            f"{pct(every, 50):.1f} | {pct(every, 99):.1f} | {per_kind} |"
        )
        print(
            f"{config}: {total} requests, {len(tally.errors)} errors, {total / elapsed:.0f} req/s",
            file=sys.stderr,
        )
        for e in tally.errors[:5]:
            print("  " + e, file=sys.stderr)
        for line in server_log[-20:]:
            print("  server: " + line, file=sys.stderr)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f'Run on {date.today().isoformat()}; machine: `nproc` {os.cpu_count()}, CPU "{cpu}", Python '
        f"{platform.python_version()}; {args.clients} clients for {args.duration:.0f} s per configuration, "
        f"{args.preload} items preloaded; mix {', '.join(f'{k} {w}%' for k, w in MIX)}.\n"
    )
    print("| store | workers | requests | errors | req/s | p50 ms | p99 ms | p50/p99 ms by kind |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
