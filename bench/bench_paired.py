#!/usr/bin/env python3
"""A baseline commit and the working tree served side by side, their requests alternating:

    .venv/bin/python bench/bench_paired.py --baseline eff1280 [--reps 7] [--envelopes 10]
        [--objects 100000] [--pg-url postgresql://postgres@127.0.0.1:54329/postgres]

`bench_before_after.py` runs the whole of `bench_taxii.py` on one version, then on the other, so
each pair of figures is minutes apart on a machine whose speed drifts within seconds (and the
first read after a store is loaded meets PostgreSQL still setting hint bits and autovacuum
starting). Here both nodes are up at once, each on its own store made by its own code, and every
unit of work goes to both, the order alternating:

- **ingest**: a national user (clearance II, group `bench`, role analyst) POSTs `--envelopes`
  envelopes of 1,000 indicators under a grouped release marking to each node's demonstration
  store (SQLite); the paired figure is objects/s over one repetition's envelopes;
- **partner read**: the JPN partner reads the whole `items` collection (pages of 1,000) of a store
  of `--objects` objects under 2,000 markings, every one naming a need-to-know group
  (`bench_taxii.bulk_load`), on SQLite and, given `--pg-url`, PostgreSQL. The first read of each
  node after it starts (its caches cold) is reported apart from the paired repetitions.

Prints each figure's medians and the median of the paired after/before ratios (with every
ratio), and one JSON line. Bounded: `--reps` repetitions of fixed work; servers on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_taxii as bt  # noqa: E402
import taxii_bench as tb  # noqa: E402
from bench_before_after import baseline_tree  # noqa: E402

SIDES = ("before", "after")


def _load(tree: Path, url: str, n: int) -> None:
    """Fills `url` with `n` objects using `tree`'s own schema and bulk loader."""
    code = "import sys, bench_taxii as b; b.bulk_load(sys.argv[1], int(sys.argv[2]))"
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree / 'bench'}"}
    subprocess.run([sys.executable, "-c", code, url, str(n)], env=env, check=True, cwd=tree)


def _servers(trees: dict[str, Path], urls: dict[str, str], demo: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in SIDES:
        srv = bt.AccordServer(urls[side], Path(tempfile.mkdtemp(prefix=f"accord-{side}-")))
        srv.env["PYTHONPATH"] = str(trees[side] / "src")
        # The write quota (docs/security.md) is charged as always, with a budget this bulk
        # load cannot spend (the baseline has no quota and ignores the settings).
        srv.env["ACCORD_WRITE_QUOTA_OBJECTS"] = str(10**9)
        srv.env["ACCORD_WRITE_QUOTA_BYTES"] = str(10**12)
        if demo:
            srv.cli("demo", "--json")
        srv.credentials()
        out[side] = (srv, srv.start())
    return out


def _stop(servers: dict[str, Any]) -> None:
    for srv, _ in servers.values():
        srv.stop()


def _alternate(reps: int, unit: Callable[[str, int], float]) -> dict[str, list[float]]:
    """Runs `unit(side, rep)` for both sides each repetition, the order alternating."""
    got: dict[str, list[float]] = {s: [] for s in SIDES}
    for rep in range(reps):
        for side in SIDES if rep % 2 == 0 else SIDES[::-1]:
            got[side].append(unit(side, rep))
    return got


def _figure(got: dict[str, list[float]]) -> dict[str, Any]:
    paired = [a / b for b, a in zip(got["before"], got["after"], strict=True) if b]
    return {
        "before": round(statistics.median(got["before"])),
        "after": round(statistics.median(got["after"])),
        "after_over_before": round(statistics.median(paired), 3),
        "paired": [round(p, 3) for p in paired],
    }


def ingest(trees: dict[str, Path], reps: int, envelopes: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="accord-paired-ingest-"))
    urls = {s: f"sqlite:///{work / s}.db" for s in SIDES}
    servers = _servers(trees, urls, demo=True)
    marking = orjson.loads(bt.release_marking_file(work).read_bytes())
    auth = ("bench-analyst", "bench-analyst-pass")
    headers = {"Accept": bt.TAXII, "Content-Type": bt.TAXII}
    clients = {s: httpx.Client(auth=auth, headers=headers, timeout=300) for s in SIDES}
    elapsed: dict[str, float] = {}
    try:
        # Both sides get the same envelopes, one at a time, the order alternating.
        got: dict[str, list[float]] = {s: [] for s in SIDES}
        for rep in range(reps):
            objs = tb.make_indicators(envelopes * 1000, seed=rep + 1)
            for o in objs:
                o.setdefault("object_marking_refs", []).append(marking["id"])
            elapsed = dict.fromkeys(SIDES, 0.0)
            for i in range(envelopes):
                body = orjson.dumps({"objects": [marking, *objs[i * 1000 : (i + 1) * 1000]]})
                for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                    t0 = time.perf_counter()
                    r = clients[side].post(
                        servers[side][1] + "/kor/collections/items/objects/", content=body
                    )
                    status = r.json()
                    if r.status_code != 202 or status.get("success_count", 0) < 1000:
                        raise SystemExit(f"{side}: ingest failed: {r.status_code} {r.text[:300]}")
                    elapsed[side] += time.perf_counter() - t0
            for side in SIDES:
                got[side].append(envelopes * 1000 / elapsed[side])
            print(f"ingest {rep + 1}/{reps}", file=sys.stderr)
    finally:
        for c in clients.values():
            c.close()
        _stop(servers)
        shutil.rmtree(work, ignore_errors=True)
    return _figure(got)


def partner_read(trees: dict[str, Path], urls: dict[str, str], n: int, reps: int) -> dict[str, Any]:
    for side in SIDES:
        _load(trees[side], urls[side], n)
    servers = _servers(trees, urls, demo=False)
    try:
        cold = {s: round(bt.partner_read(servers[s][1], 1)["rate"]) for s in SIDES}
        got = _alternate(reps, lambda side, _: bt.partner_read(servers[side][1], 1)["rate"])
    finally:
        _stop(servers)
    return {**_figure(got), "cold_first_read": cold}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", required=True, help="a commit of this repository")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--envelopes", type=int, default=10, help="envelopes of 1,000 per repetition")
    ap.add_argument("--objects", type=int, default=100_000, help="objects of the read stores")
    ap.add_argument("--pg-url", default=os.environ.get("ACCORD_TEST_PG_URL"))
    a = ap.parse_args()
    figures: dict[str, Any] = {}
    with baseline_tree(a.baseline, "accord-paired-") as (base, work):
        trees = {"before": base, "after": ROOT}
        figures["ingest objects/s (SQLite, national user)"] = ingest(trees, a.reps, a.envelopes)
        sqlite = {s: f"sqlite:///{work / s}-read.db" for s in SIDES}
        figures["partner read objects/s (SQLite)"] = partner_read(trees, sqlite, a.objects, a.reps)
        if a.pg_url:
            pg = {s: bt.fresh_pg(a.pg_url) for s in SIDES}
            figures["partner read objects/s (PostgreSQL)"] = partner_read(
                trees, pg, a.objects, a.reps
            )
    print(f"{'figure':<42} {'before':>9} {'after':>9} {'after/before':>13}")
    for label, row in figures.items():
        print(
            f"{label:<42} {row['before']:>9,} {row['after']:>9,} "
            f"{row['after_over_before']:>12.3f}  {row['paired']}"
            + (f"  cold first read {row['cold_first_read']}" if "cold_first_read" in row else "")
        )
    print(
        json.dumps(
            {
                "baseline": a.baseline,
                "reps": a.reps,
                "envelopes": a.envelopes,
                "objects": a.objects,
                "date": time.strftime("%Y-%m-%d"),
                "figures": figures,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
