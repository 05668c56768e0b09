#!/usr/bin/env python3
"""CLI start-up benchmark, one command, every server on loopback:

    .venv/bin/python bench/bench_startup.py [--reps 7]

Wall time (median of `--reps` runs, each a fresh process) of commands that do little besides
starting: `accord --help`, `accord sync --help`, `accord key show --json` on an initialised
SQLite store, and an idle `accord sync kor --json` (a Japanese node pulling from a Korean
`accord serve` with nothing left to pull: start-up plus one empty page, the `idle_sync_s` of
bench/bench_sync.py). Prints one line per command and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_taxii as bt  # noqa: E402

ACCORD = bt.ACCORD


def wall(args: list[str], env: dict[str, str], cwd: Path, reps: int) -> float:
    """The median wall time of `accord ARGS` over `reps` fresh processes (each must succeed)."""
    times: list[float] = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = subprocess.run([ACCORD, *args], env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
        if out.returncode != 0:
            raise SystemExit(
                f"accord {' '.join(args)} failed: {out.stdout[-500:]!r} {out.stderr[-500:]!r}"
            )
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accord-startup-"))
    kor = bt.AccordServer(f"sqlite:///{work / 'kor.db'}", work, date="2017-06-01")
    kor.env["ACCORD_PARTY"] = "KOR"
    kor.cli("init", "--party", "KOR")
    kor.cli("demo", "--json")
    kor.credentials()  # bench-jpn: Japan's partner credential on Korea's node
    jdir = work / "jpn"
    jdir.mkdir()
    jenv = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{jdir / 'jpn.db'}",
            "ACCORD_PARTY": "JPN", "ACCORD_DATE": "2017-06-01",
            "ACCORD_PEER_PASSWORD": "bench-jpn-pass"}  # fmt: skip
    results: dict = {
        "reps": a.reps,
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    try:
        base = kor.start()
        for args in (["init", "--party", "JPN"], ["demo", "--json"],
                     ["peer", "add", "kor", "--party", "KOR", "--url", base, "--user", "bench-jpn",
                      "--no-push"], ["sync", "kor", "--json"]):  # fmt: skip
            subprocess.run([ACCORD, *args], env=jenv, cwd=jdir, check=True, capture_output=True)
        figures = {
            "idle_sync_s": (["sync", "kor", "--json"], jenv, jdir),
            "help_s": (["--help"], kor.env, work),
            "sync_help_s": (["sync", "--help"], kor.env, work),
            "key_show_s": (["key", "show", "--json"], kor.env, work),
        }
        for name, (args, env, cwd) in figures.items():
            results[name] = round(wall(args, env, cwd, a.reps), 3)
            print(f"accord {' '.join(args)}: {results[name]:.3f} s", file=sys.stderr)
    finally:
        kor.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
