#!/usr/bin/env python3
"""TAXII node benchmark (issue #4), one command, every server on loopback:

    .venv/bin/python bench/bench_taxii.py [--medallion /tmp/medvenv/bin/medallion] [--reps 3]
        [--million 1000000] [--pg-url postgresql://postgres@127.0.0.1:54329/postgres]

1. Side by side: ingest 10,000 indicators (batches of 1000) and a full paged read (limit 1000)
   against medallion 3.0.0 (memory backend, run once: its 10k read takes minutes) and accord
   (SQLite, `--reps` fresh runs), with the same client (bench/taxii_bench.py). accord ingests as a
   cleared analyst and is read by a partner node (every page re-authorised and recorded as a
   release). Beside it, the raw SQLite insert rate of the same 10,000 objects (phys_bench's
   insert_1tx: one transaction, executemany, no HTTP, no checks), measured twice just before and
   twice just after each accord ingest; the ratio is the median of those paired ratios.
2. accord alone at scale: `--million` objects under 2,000 markings bulk-loaded into SQLite (and
   PostgreSQL with --pg-url), read in full by a partner that may see half of them, beside the raw
   ceiling measured in the same run on the same store (keyset pages of 1000 by date_added + orjson
   parse, no HTTP, no filter), each ceiling run right before a partner read. Reports objects/s,
   the median of the paired ratios, and p50/p99 page latency.

Prints a readable summary and one JSON line. Bounded: every loop has a count and a deadline.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
ACCORD = str(Path(sys.executable).with_name("accord"))
TAXII = "application/taxii+json;version=2.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def run_bench(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "taxii_bench.py"), *args],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
    data = json.loads(line)
    if "fatal" in data:
        raise SystemExit(f"taxii_bench failed: {data['fatal']}\n{out.stderr[-2000:]}")
    return data


# ---- medallion ---------------------------------------------------------------------------------

MED_COLLECTION = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd"


def run_medallion(binary: str, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    data = {
        "/discovery": {"title": "bench", "default": "/bench/", "api_roots": ["/bench/"]},
        "bench": {
            "information": {
                "title": "bench",
                "versions": [TAXII],
                "max_content_length": 100 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": MED_COLLECTION,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (work / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(work / "data.json"),
        },
        "users": {"bench": "bench-pass"},
        "taxii": {"max_page_size": 1000},
    }
    (work / "config.json").write_text(json.dumps(config))
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), str(work / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/taxii2/")
        return run_bench(
            [
                "--base-url", f"http://127.0.0.1:{port}", "--api-root", "bench",
                "--collection", MED_COLLECTION, "--user", "bench", "--password", "bench-pass",
                "--phases", "ingest,read", "--ingest", "10000x1000", "--read-limits", "1000",
                "--phase-budget", "1500", "--max-seconds", "2400", "--label", "medallion",
                # medallion's first page of a 10,000-object read takes minutes (perf-anchors §1)
                "--request-timeout", "1200",
            ]
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ---- accord ------------------------------------------------------------------------------------


class AccordServer:
    """`accord serve` in a subprocess on a fresh or given store, with bench credentials."""

    def __init__(self, url: str, workdir: Path, date: str | None = None) -> None:
        self.port = free_port()
        self.env = {**os.environ, "ACCORD_DATABASE_URL": url, "ACCORD_PORT": str(self.port)}
        if date:
            self.env["ACCORD_DATE"] = date
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            [ACCORD, *args],
            env=self.env,
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"accord {' '.join(args)} failed: {out.stderr}")
        return out.stdout

    def credentials(self) -> None:
        for name in ("bench-analyst", "bench-jpn"):
            subprocess.run(
                [ACCORD, "credential", "revoke", name],
                env=self.env,
                cwd=self.workdir,
                capture_output=True,
            )
        self.cli("credential", "add", "bench-analyst", "--party", "KOR", "--clearance", "II",
                 "--group", "bench", "--role", "analyst", stdin="bench-analyst-pass\n")  # fmt: skip
        self.cli("credential", "add", "bench-jpn", "--party", "JPN", "--kind", "partner",
                 stdin="bench-jpn-pass\n")  # fmt: skip

    def start(self) -> str:
        self.proc = subprocess.Popen(
            [ACCORD, "serve"],
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{self.port}"
        wait_http(base + "/taxii2/")
        return base

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def release_marking_file(work: Path) -> Path:
    sys.path.insert(0, str(ROOT / "src"))
    from accord.exchange.markings import marking_definition
    from accord.policy.marking import Marking

    m = Marking.of("KOR", "III", ["general-military"], groups=["bench"])
    path = work / "marking.json"
    path.write_bytes(orjson.dumps(marking_definition(m)))
    return path


def run_accord_10k(work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    srv = AccordServer(f"sqlite:///{work / 'accord.db'}", work)
    srv.cli("demo", "--json")
    srv.credentials()
    base = srv.start()
    try:
        common = ["--base-url", base, "--api-root", "kor", "--collection", "items"]
        # The raw insert right before and right after the ingest, with the server up and idle:
        # this shared machine's speed drifts within seconds, and the ratio should compare two
        # figures taken under the same conditions.
        raws = raw_insert_runs(work, reps=2)
        ingest = run_bench(
            [*common, "--user", "bench-analyst", "--password", "bench-analyst-pass", "--phases", "ingest",
             "--ingest", "10000x1000", "--release-marking", str(release_marking_file(work)), "--label", "accord"]
        )  # fmt: skip
        raws += raw_insert_runs(work, reps=2)
        read = run_bench(
            [*common, "--user", "bench-jpn", "--password", "bench-jpn-pass", "--phases", "read",
             "--read-limits", "1000", "--label", "accord"]
        )  # fmt: skip
    finally:
        srv.stop()
    return {
        "ingest": ingest["ingest"][0],
        "full_read": read["full_read"][0],
        "raw_insert": statistics.median(raws),
        "raw_insert_runs": [round(r) for r in raws],
    }


@functools.lru_cache(maxsize=1)
def _raw_rows(n: int) -> list[tuple[object, ...]]:
    sys.path.insert(0, str(ROOT / "bench"))
    import taxii_bench

    objs = taxii_bench.make_indicators(n)
    base = time.time()
    return [
        (o["id"], o["type"], o["modified"],
         time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i // 100)) + f".{i % 100:06d}Z",
         orjson.dumps(o))
        for i, o in enumerate(objs)
    ]  # fmt: skip


def raw_insert_runs(work: Path, n: int = 10_000, reps: int = 3) -> list[float]:
    """The raw SQLite insert ceiling (as ../shared/bench/phys_bench.py measures it): the same
    `n` indicators as orjson bytes into a WAL file (synchronous=NORMAL) with a primary key on
    (id, modified) and an index on date_added, one transaction, executemany; objects/s of each
    of `reps` runs."""
    import gc
    import sqlite3

    rows = _raw_rows(n)
    rates = []
    for _ in range(reps):
        path = work / f"raw-insert-{uuid.uuid4().hex[:8]}.db"
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE obj (id TEXT NOT NULL, type TEXT NOT NULL, modified TEXT NOT NULL,"
                   " date_added TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (id, modified))")  # fmt: skip
        db.execute("CREATE INDEX obj_added ON obj(date_added, id)")
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            db.execute("BEGIN")
            db.executemany("INSERT INTO obj VALUES (?,?,?,?,?)", rows)
            db.execute("COMMIT")
            rates.append(n / (time.perf_counter() - t0))
        finally:
            gc.enable()
        db.close()
    return rates


# ---- a million objects -------------------------------------------------------------------------


def bulk_load(
    url: str, n: int, n_markings: int = 2000, hide_half: bool = True, signed: bool = False
) -> None:
    """Loads `n` indicators under `n_markings` KOR markings straight into the store, with the
    marking-definitions as objects of the collection (as ingest stores them). With `hide_half`,
    half the markings are at level I (no Korea–Japan row: hidden from JPN), the rest at II or III
    (released to JPN); without it, all are at II or III. With `signed`, each marking's items are
    vouched for by one provenance note signed with the node's key, dated before them, as if each
    marking's items had been published in one envelope (accord.exchange.signatures)."""
    sys.path.insert(0, str(ROOT / "src"))
    import sqlalchemy as sa

    from accord.exchange import markings as mk
    from accord.exchange.collections import ensure_collections
    from accord.policy.marking import Marking
    from accord.registry import service
    from accord.store import open_store
    from accord.store.exchange_schema import id_hash, markings, objects

    store = open_store(url)
    service.load_demo(store)
    items = next(c for c in ensure_collections(store, "kor", "KOR") if c.kind == "items")
    rows = []
    for k in range(n_markings):
        level = "I" if hide_half and k % 2 == 0 else ("II" if k % 4 in (1, 2) else "III")
        m = Marking.of("KOR", level, ["general-military"], groups=[f"g{k}"])
        rows.append(
            {
                "stix_id": mk.marking_id(m),
                "originator": "KOR",
                "spec": mk.spec_json(m),
                "body": orjson.dumps(mk.marking_definition(m)).decode(),
            }
        )
    with store.begin() as conn:
        conn.execute(sa.insert(markings), rows)
        ids = [r[0] for r in conn.execute(sa.select(markings.c.id).order_by(markings.c.id))]
    t0 = time.time_ns() // 1000 - n - len(rows)
    ts = "2024-01-01T00:00:00.000Z"
    from accord.exchange.signatures import record_entries
    from accord.trust.keys import node_key
    from accord.trust.provenance import build as build_provenance
    from accord.trust.provenance import content_hash

    key = node_key(store) if signed else None
    partner_ids = [
        mk.marking_id(Marking.of("KOR", m.level, ["general-military"]))
        for m in (
            Marking.of("KOR", "I" if hide_half and k % 2 == 0 else ("II" if k % 4 in (1, 2) else "III"),
                       ["general-military"])
            for k in range(n_markings)
        )
    ]  # fmt: skip
    entries: dict[int, list[tuple[str, str, str]]] = {}
    batch = [
        {
            "coll": items.key,
            "stix_id": r["stix_id"],
            "idh": id_hash(r["stix_id"]),
            "type": "marking-definition",
            "version": "2016-11-23T00:00:00.000Z",
            "version_key": "2016-11-23T00:00:00.000000Z",
            "spec_version": "2.1",
            "date_added": t0 - len(rows) + k,
            "marking": ids[k],
            "deleted": False,
            "multi": False,
            "published_by": "bench",
            "body": r["body"],
        }  # fmt: skip
        for k, r in enumerate(rows)
    ]
    for i in range(n):
        oid = f"indicator--{uuid.UUID(int=i + 1, version=4)}"
        mid = ids[i % len(ids)]
        body = {
            "type": "indicator", "spec_version": "2.1", "id": oid, "created": ts, "modified": ts,
            "name": f"bench indicator {i}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
            "pattern_type": "stix", "valid_from": ts,
            "description": "Synthetic indicator generated for the accord TAXII benchmark at scale.",
            "object_marking_refs": [rows[i % len(ids)]["stix_id"]],
        }  # fmt: skip
        batch.append(
            {
                "coll": items.key, "stix_id": oid, "idh": id_hash(oid), "type": "indicator", "version": ts,
                "version_key": "2024-01-01T00:00:00.000000Z", "spec_version": "2.1",
                "date_added": t0 + len(rows) + i,
                "marking": mid, "deleted": False, "multi": False, "published_by": "bench",
                "body": orjson.dumps(body).decode(),
            }
        )  # fmt: skip
        if signed:
            entries.setdefault(i % len(ids), []).append((oid, ts, content_hash(body)))
        if len(batch) == 20000:
            with store.begin() as conn:
                conn.execute(sa.insert(objects), batch)
            batch = []
    notes: list[dict[str, object]] = []
    for k, signed_entries in entries.items():
        m_id = rows[k]["stix_id"]
        note = build_provenance("KOR", key, partner_ids[k], m_id, signed_entries, t0 + k)
        notes.append(note)
        batch.append(
            {
                "coll": items.key, "stix_id": note["id"], "idh": id_hash(note["id"]), "type": "note",
                "version": note["modified"], "version_key": note["modified"][:-1] + "000Z",
                "spec_version": "2.1", "date_added": t0 + k, "marking": ids[k], "deleted": False,
                "multi": False, "published_by": "bench", "body": orjson.dumps(note).decode(),
            }
        )  # fmt: skip
    if batch:
        with store.begin() as conn:
            conn.execute(sa.insert(objects), batch)
            # As ingest records what it signs (accord.exchange.signatures): a push finds the
            # notes each page's items need through these entries.
            record_entries(conn, notes)
    with store.begin() as conn:
        conn.execute(sa.update(sa.table("collections", sa.column("id"), sa.column("last_added"))).where(
            sa.column("id") == items.id).values(last_added=t0 + len(rows) + n))  # fmt: skip
        conn.exec_driver_sql("ANALYZE")
    store.close()


def raw_ceiling(url: str, reps: int = 3) -> float:
    """Objects/s for keyset pages of 1000 by date_added over the whole table + orjson parse."""
    sys.path.insert(0, str(ROOT / "src"))
    import sqlalchemy as sa

    from accord.store import open_store
    from accord.store.exchange_schema import objects

    store = open_store(url)
    with store.read() as conn:
        cid = conn.execute(sa.text("SELECT key FROM collections WHERE kind = 'items'")).scalar()
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        n, after = 0, -1
        with store.read() as conn:
            while True:
                rows = conn.execute(
                    sa.select(objects.c.date_added, objects.c.body)
                    .where(objects.c.coll == cid, objects.c.date_added > after)
                    .order_by(objects.c.date_added)
                    .limit(1000)
                ).all()
                if not rows:
                    break
                for _, body in rows:
                    orjson.loads(body)
                n += len(rows)
                after = rows[-1][0]
        rates.append(n / (time.perf_counter() - t0))
    store.close()
    return statistics.median(rates)


def partner_read(base: str, reps: int = 3, deadline_s: float = 900) -> dict:
    """Full paged read as the JPN partner (limit 1000); objects/s and page latencies."""
    auth = ("bench-jpn", "bench-jpn-pass")
    results = []
    for _ in range(reps):
        lat: list[float] = []
        n = 0
        end = time.monotonic() + deadline_s
        with httpx.Client(auth=auth, headers={"Accept": TAXII}, timeout=120) as c:
            t0 = time.perf_counter()
            url = f"{base}/kor/collections/items/objects/"
            params: dict[str, str] = {"limit": "1000"}
            while time.monotonic() < end:
                t1 = time.perf_counter()
                r = c.get(url, params=params)
                lat.append((time.perf_counter() - t1) * 1000)
                r.raise_for_status()
                env = orjson.loads(r.content)
                n += len(env.get("objects", []))
                if not env.get("more"):
                    break
                params = {"limit": "1000", "next": env["next"]}
            elapsed = time.perf_counter() - t0
        lat.sort()
        results.append(
            {
                "objects": n,
                "rate": n / elapsed,
                "p50_ms": lat[len(lat) // 2],
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
                "pages": len(lat),
            }
        )
    return {
        "objects": results[0]["objects"],
        "rate": statistics.median(r["rate"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "pages": results[0]["pages"],
        "runs": results,
    }


def run_million(url: str, work: Path, n: int, reps: int) -> dict:
    """Loads `n` objects, then `reps` times: the raw ceiling, then the partner's full read, one
    right after the other, so that each ratio compares two figures taken under the same load
    of this shared machine. `ratio` is the median of those paired ratios; `ratio_of_medians`
    divides the two medians."""
    t0 = time.perf_counter()
    bulk_load(url, n)
    load_s = time.perf_counter() - t0
    srv = AccordServer(url, work)
    srv.credentials()
    base = srv.start()
    ceilings, reads = [], []
    try:
        for _ in range(reps):
            ceilings.append(raw_ceiling(url, 1))
            reads.append(partner_read(base, 1))
    finally:
        srv.stop()
    read = {
        "objects": reads[0]["objects"],
        "rate": statistics.median(r["rate"] for r in reads),
        "p50_ms": statistics.median(r["p50_ms"] for r in reads),
        "p99_ms": statistics.median(r["p99_ms"] for r in reads),
        "pages": reads[0]["pages"],
        "runs": [r["runs"][0] for r in reads],
    }
    ceiling = statistics.median(ceilings)
    return {
        "n": n,
        "load_s": round(load_s, 1),
        "raw_ceiling": round(ceiling),
        "raw_ceiling_runs": [round(c) for c in ceilings],
        "partner": read,
        "ratio": round(
            statistics.median(r["rate"] / c for r, c in zip(reads, ceilings, strict=True)), 3
        ),
        "ratio_runs": [round(r["rate"] / c, 3) for r, c in zip(reads, ceilings, strict=True)],
        "ratio_of_medians": round(read["rate"] / ceiling, 3),
    }


def fresh_pg(admin: str) -> str:
    import sqlalchemy as sa

    name = "accord_bench_" + uuid.uuid4().hex[:8]
    eng = sa.create_engine(
        admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with eng.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    eng.dispose()
    return admin.rsplit("/", 1)[0] + "/" + name


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--medallion", default="/tmp/medvenv/bin/medallion")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--million", type=int, default=1_000_000)
    ap.add_argument("--pg-url", default=os.environ.get("ACCORD_TEST_PG_URL"))
    ap.add_argument("--skip-medallion", action="store_true")
    ap.add_argument("--skip-10k", action="store_true")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        "?",
    )
    out: dict = {"machine": {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version()},
                 "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    if not a.skip_10k:
        # Each accord run measures the raw insert just before and just after its ingest
        # (`run_accord_10k`): each ratio compares two figures taken under the same conditions.
        runs = [run_accord_10k(work / f"accord10k-{i}") for i in range(a.reps)]
        raws = [r["raw_insert"] for r in runs]
        raw = statistics.median(raws)
        ingest_rate = statistics.median(r["ingest"]["objects_per_s"] for r in runs)
        paired = [r["ingest"]["objects_per_s"] / w for r, w in zip(runs, raws, strict=True)]
        out["accord_10k"] = {
            "ingest_rate": ingest_rate,
            "read_rate": statistics.median(r["full_read"]["items_per_s"] for r in runs),
            "raw_sqlite_insert_rate": round(raw),
            "raw_sqlite_insert_runs": [round(w) for w in raws],
            "ingest_vs_raw_insert": round(statistics.median(paired), 3),
            "ingest_vs_raw_insert_runs": [round(x, 3) for x in paired],
            "ingest_vs_raw_insert_of_medians": round(ingest_rate / raw, 3),
            "runs": runs,
        }
        print(f"accord 10k: ingest {out['accord_10k']['ingest_rate']:.0f}/s "
              f"({out['accord_10k']['ingest_vs_raw_insert']:.1%} of raw SQLite insert {raw:.0f}/s, "
              f"paired runs {out['accord_10k']['ingest_vs_raw_insert_runs']}), "
              f"read {out['accord_10k']['read_rate']:.0f}/s (median of {a.reps})", file=sys.stderr)  # fmt: skip
        if not a.skip_medallion and Path(a.medallion).exists():
            med = run_medallion(a.medallion, work / "medallion")
            out["medallion_10k"] = {
                "ingest_rate": med["ingest"][0]["objects_per_s"],
                "read_rate": med["full_read"][0]["items_per_s"],
            }
            out["ratios"] = {
                "ingest": round(
                    out["accord_10k"]["ingest_rate"] / out["medallion_10k"]["ingest_rate"], 1
                ),
                "read": round(
                    out["accord_10k"]["read_rate"] / out["medallion_10k"]["read_rate"], 1
                ),
            }
            print(f"medallion 10k: {out['medallion_10k']}; ratios {out['ratios']}", file=sys.stderr)
    if a.million:
        out["million_sqlite"] = run_million(
            f"sqlite:///{work / 'million.db'}", work, a.million, a.reps
        )
        print(f"1M sqlite: {json.dumps({k: v for k, v in out['million_sqlite'].items() if k != 'partner'})} "
              f"partner {out['million_sqlite']['partner']['rate']:.0f}/s p99 "
              f"{out['million_sqlite']['partner']['p99_ms']:.1f} ms", file=sys.stderr)  # fmt: skip
        if a.pg_url:
            out["million_postgresql"] = run_million(fresh_pg(a.pg_url), work, a.million, a.reps)
            mp = out["million_postgresql"]
            print(f"1M postgresql: ceiling {mp['raw_ceiling']}/s partner {mp['partner']['rate']:.0f}/s "
                  f"ratio {mp['ratio']} p99 {mp['partner']['p99_ms']:.1f} ms", file=sys.stderr)  # fmt: skip
    print(json.dumps(out, default=str))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
