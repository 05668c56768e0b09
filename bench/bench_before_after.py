#!/usr/bin/env python3
"""The TAXII benchmark (bench_taxii.py) on two versions of accord, alternately, in one run:

    .venv/bin/python bench/bench_before_after.py --baseline eff1280 [--reps 3] [--million 200000]
        [--pg-url postgresql://postgres@127.0.0.1:54329/postgres]

The baseline commit is checked out in a temporary git worktree and run with its own source first
on the path (PYTHONPATH), with its own copy of bench_taxii.py; the working tree runs as it is. Each
repetition runs the baseline, then the current version, one after the other (one bench_taxii run
each: ingest of 10,000 objects by a national user, a partner's full paged read, and a partner's
read of `--million` objects beside the raw ceiling of the same store), so that both meet the same
machine. Prints, per figure, the median of each side and the median of the paired after/before
ratios, and one JSON line.

Bounded: `--reps` pairs of runs, each bench_taxii run has its own deadline.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: (label, path into bench_taxii's JSON, higher is better)
FIGURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest objects/s (10k, national user)", ("accord_10k", "ingest_rate")),
    ("ingest / raw SQLite insert (paired)", ("accord_10k", "ingest_vs_raw_insert")),
    ("partner full read items/s (10k)", ("accord_10k", "read_rate")),
    ("partner read objects/s (SQLite, --million)", ("million_sqlite", "partner", "rate")),
    ("partner read / raw ceiling (SQLite)", ("million_sqlite", "ratio")),
    ("partner read objects/s (PostgreSQL)", ("million_postgresql", "partner", "rate")),
    ("partner read / raw ceiling (PostgreSQL)", ("million_postgresql", "ratio")),
)


def _get(data: dict[str, Any], path: tuple[str, ...]) -> float | None:
    cur: Any = data
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return float(cur) if isinstance(cur, int | float) else None


@contextlib.contextmanager
def baseline_tree(commit: str, prefix: str) -> Iterator[tuple[Path, Path]]:
    """Checks `commit` out in a temporary git worktree; yields (the worktree, a scratch folder
    beside it), both removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    base = work / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), commit],
        check=True,
        capture_output=True,
    )
    try:
        yield base, work
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(work, ignore_errors=True)


def run_once(tree: Path, src: Path, args: list[str]) -> dict[str, Any]:
    """Runs `tree`'s bench_taxii.py with `src` first on the path; returns its JSON line."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, str(tree / "bench" / "bench_taxii.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        timeout=3600,
        check=False,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise SystemExit(f"bench_taxii failed in {tree}:\n{out.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", required=True, help="a commit of this repository")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--million", type=int, default=200_000)
    ap.add_argument("--pg-url", default=None)
    a = ap.parse_args()
    args = ["--reps", "1", "--skip-medallion", "--million", str(a.million)]
    if a.pg_url:
        args += ["--pg-url", a.pg_url]
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with baseline_tree(a.baseline, "accord-before-after-") as (base, _work):
        for rep in range(a.reps):
            t0 = time.monotonic()
            runs["before"].append(run_once(base, base / "src", args))
            runs["after"].append(run_once(ROOT, ROOT / "src", args))
            print(f"pair {rep + 1}/{a.reps}: {time.monotonic() - t0:.0f} s", file=sys.stderr)
    summary: dict[str, Any] = {
        "baseline": a.baseline,
        "reps": a.reps,
        "million": a.million,
        "machine": runs["after"][0].get("machine"),
        "date": time.strftime("%Y-%m-%d"),
        "figures": {},
    }
    print(f"{'figure':<45} {'before':>12} {'after':>12} {'after/before':>13}")
    for label, path in FIGURES:
        before = [_get(r, path) for r in runs["before"]]
        after = [_get(r, path) for r in runs["after"]]
        if any(v is None for v in before + after):
            continue
        b = [float(v) for v in before if v is not None]
        f = [float(v) for v in after if v is not None]
        paired = [x / y for x, y in zip(f, b, strict=True) if y]
        row = {
            "before": statistics.median(b),
            "after": statistics.median(f),
            "after_over_before": round(statistics.median(paired), 3),
            "paired": [round(p, 3) for p in paired],
        }
        summary["figures"][label] = row
        print(
            f"{label:<45} {row['before']:>12,.3f} {row['after']:>12,.3f} "
            f"{row['after_over_before']:>12.3f}  {row['paired']}"
        )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
