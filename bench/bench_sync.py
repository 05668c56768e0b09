#!/usr/bin/env python3
"""Federation benchmark (issue #5), one command, every server on loopback:

    .venv/bin/python bench/bench_sync.py [--objects 100000] [--reps 3]

Korea's node (`accord serve`, SQLite) holds `--objects` indicators, all releasable to Japan.
Side by side in the same run, against the same server:
- ceiling: a plain paged TAXII read of those objects by Japan's partner credential (pages of
  the size sync uses, following `next`), no storing;
- pull: Japan's node runs `accord sync kor` (pull only) into a fresh store;
- push: Korea's node runs `accord sync jpn` (push only) to a fresh Japanese node;
- each of these twice per repetition, back to back: with originator signatures verified and
  receipts signed (Korea's key pinned, `ACCORD_SIGNATURES=pinned`) and with both off
  (`ACCORD_SIGNATURES=off`); Korea's items are vouched for by signed provenance notes (one per
  marking) in both;
- the push's receiver runs without a write quota (`ACCORD_WRITE_QUOTA_INTERVAL=0`): a push of
  100,000 objects exceeds the default window's budget and would be paced by it;
- bare receiver (a bound, not accord): the same pages fetched on a thread, parsed, each object
  given its id hash and serialised, and inserted into a fresh receiver store's objects table in
  transactions of sync's size — no checks, no registry re-check, no audit record, no cursor:
  what this machine allows any pull into that table to reach.
Objects/s are medians of `--reps` runs; ratios to the ceiling are printed with one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import queue
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_taxii as bt  # noqa: E402

ACCORD = bt.ACCORD
TAXII = bt.TAXII
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from accord.exchange.ingest import INSERT_COLUMNS  # noqa: E402
from accord.federation.sync import PAGE, PULL_BATCH  # noqa: E402 — pages of sync's size
from accord.store import open_store  # noqa: E402
from accord.store.exchange_schema import id_hash  # noqa: E402

#: Signatures on (Korea's key pinned, verified, receipts signed) and off, alternating.
MODES = ("pinned", "off")


def load_kor(url: str, n: int) -> None:
    """Bulk-loads n objects under 200 KOR II/III markings (all releasable to Japan), each
    marking's items vouched for by one signed provenance note."""
    bt.bulk_load(url, n, n_markings=200, hide_half=False, signed=True)


def partner() -> httpx.Client:
    """A client with Japan's partner credential on Korea's server."""
    return httpx.Client(
        auth=("bench-jpn", "bench-jpn-pass"), headers={"Accept": TAXII}, timeout=120
    )


def partner_pages(c: httpx.Client, base: str) -> Iterator[list[dict]]:
    """Yields the objects of each page of Japan's view of Korea's items, in pages of sync's
    size, following `next`: the plain paged read."""
    params: dict[str, str] = {"limit": str(PAGE), "match[version]": "all"}
    while True:
        r = c.get(f"{base}/kor/collections/items/objects/", params=params)
        r.raise_for_status()
        env = orjson.loads(r.content)
        yield env.get("objects", [])
        if not env.get("more"):
            return
        params = {**params, "next": env["next"]}


def ceiling(base: str, reps: int) -> float:
    rates = []
    for _ in range(reps):
        n = 0
        with partner() as c:
            t0 = time.perf_counter()
            for objs in partner_pages(c, base):
                n += len(objs)
            rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def bare_receiver(base: str, work: Path, reps: int) -> float:
    """Objects/s of the least a pull receiver does (module docstring): the pages read as the
    ceiling reads them, on a fetching thread, while the main thread stores the previous ones
    with the driver's executemany into the objects table of a fresh store (the node's pragmas:
    WAL, synchronous=NORMAL, 64 MiB cache)."""
    sql = (
        f"INSERT INTO objects ({', '.join(INSERT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})"
    )
    rates = []
    for rep in range(reps):
        path = work / f"bare-{rep}.db"
        open_store(f"sqlite:///{path}").close()  # the receiver's schema, at the head revision
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA cache_size=-65536")
        pages: queue.Queue[list[dict] | None] = queue.Queue(maxsize=2)

        def fetch(c: httpx.Client, pages: queue.Queue[list[dict] | None]) -> None:
            for objs in partner_pages(c, base):
                pages.put(objs)
            pages.put(None)

        client = partner()
        gc.collect()
        t0 = time.perf_counter()
        fetcher = threading.Thread(target=fetch, args=(client, pages), daemon=True)
        fetcher.start()
        n, added, rows, batch = 0, 1_800_000_000_000_000, [], 0
        while True:
            objs = pages.get()
            for o in objs or ():
                added += 1
                ver = o.get("modified") or o.get("created")
                rows.append((1, o["id"], id_hash(o["id"]), o["type"], ver, ver, "2.1", added, 1,
                             False, False, "peer:kor", orjson.dumps(o).decode(), "KOR", ""))  # fmt: skip
            batch += 1
            if rows and (batch >= PULL_BATCH or objs is None):
                db.execute("BEGIN IMMEDIATE")
                db.executemany(sql, rows)
                db.execute("COMMIT")
                n, rows, batch = n + len(rows), [], 0
            if objs is None:
                break
        rates.append(n / (time.perf_counter() - t0))
        fetcher.join()
        client.close()
        db.close()
    return statistics.median(rates)


def timed_sync(env: dict[str, str], cwd: Path, peer: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [ACCORD, "sync", peer, "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"sync failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    return elapsed, json.loads(out.stdout)[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accord-sync-"))
    kor_url = f"sqlite:///{work / 'kor.db'}"
    load_kor(kor_url, a.objects)
    kor = bt.AccordServer(kor_url, work, date="2017-06-01")
    kor.credentials()  # bench-analyst (KOR user) and bench-jpn (JPN partner)
    kor_base = kor.start()
    results: dict = {"objects": a.objects, "date": time.strftime("%Y-%m-%d")}
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        "?",
    )
    results["machine"] = {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}
    try:
        results["ceiling"] = round(ceiling(kor_base, a.reps))
        print(f"ceiling (plain paged read): {results['ceiling']}/s", file=sys.stderr)
        results["bare_receiver"] = round(bare_receiver(kor_base, work, a.reps))
        results["bare_receiver_ratio"] = round(results["bare_receiver"] / results["ceiling"], 3)
        print(f"bare receiver (a bound): {results['bare_receiver']}/s", file=sys.stderr)
        pulls: dict[str, list[float]] = {m: [] for m in MODES}
        pushes: dict[str, list[float]] = {m: [] for m in MODES}
        idles: list[float] = []
        nets: list[float] = []
        kor_key = json.loads(
            subprocess.run([ACCORD, "key", "show", "--json"], env=kor.env, cwd=work, check=True,
                           capture_output=True, text=True).stdout
        )["public_key"]  # fmt: skip
        for rep in range(a.reps):
            for mode in MODES:
                # pull: a fresh Japanese store pulls from Korea's server, verifying Korea's
                # signatures (its key pinned, ACCORD_SIGNATURES=pinned) or not (off).
                jdir = work / f"jpn-pull-{rep}-{mode}"
                jdir.mkdir()
                jenv = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{jdir / 'jpn.db'}", "ACCORD_PARTY": "JPN",
                        "ACCORD_DATE": "2017-06-01", "ACCORD_PEER_PASSWORD": "bench-jpn-pass",
                        "ACCORD_SIGNATURES": mode}  # fmt: skip
                subprocess.run(
                    [ACCORD, "init", "--party", "JPN"], env=jenv, cwd=jdir, check=True, capture_output=True
                )  # fmt: skip
                subprocess.run(
                    [ACCORD, "demo", "--json"], env=jenv, cwd=jdir, check=True, capture_output=True
                )
                pin = ["--key", kor_key] if mode == "pinned" else []
                add = [ACCORD, "peer", "add", "kor", "--party", "KOR", "--url", kor_base,
                       "--user", "bench-jpn", "--no-push", *pin]  # fmt: skip
                subprocess.run(add, env=jenv, cwd=jdir, check=True, capture_output=True)
                el, rep_json = timed_sync(jenv, jdir, "kor")
                pulls[mode].append(rep_json["pulled"] / el)
                print(
                    f"pull run {rep} ({mode}): {rep_json['pulled']} objects in {el:.1f} s",
                    file=sys.stderr,
                )
                assert rep_json["pull_refused"] == 0, rep_json
                if mode == "pinned":
                    assert rep_json["receipts"] == 0  # receipts go to Korea on its own sync
                    # The same command with nothing left to pull: the process's start-up and one
                    # empty page, part of every figure above (a sync inside `accord serve` does
                    # not pay it).
                    idle, again = timed_sync(jenv, jdir, "kor")
                    assert again["pulled"] == 0, again
                    idles.append(idle)
                    nets.append(rep_json["pulled"] / max(el - idle, 1e-9))
            for mode in MODES:
                # push: Korea pushes to a fresh Japanese server, which verifies Korea's
                # signatures and signs receipts (pinned) or neither (off).
                pdir = work / f"jpn-push-{rep}-{mode}"
                pdir.mkdir()
                jsrv = bt.AccordServer(f"sqlite:///{pdir / 'jpn.db'}", pdir, date="2017-06-01")
                jsrv.env["ACCORD_PARTY"] = "JPN"
                jsrv.env["ACCORD_SIGNATURES"] = mode
                # No write quota at the receiver: it would pace a 100,000-object push to its
                # window (accord.taxii.quota), and this measures the sync.
                jsrv.env["ACCORD_WRITE_QUOTA_INTERVAL"] = "0"
                jsrv.cli("init", "--party", "JPN")
                jsrv.cli("demo", "--json")
                pin = ["--key", kor_key] if mode == "pinned" else []
                jsrv.cli(
                    "credential", "add", "kor-peer", "--party", "KOR", "--kind", "partner", *pin,
                    stdin="kor-peer-pass\n",
                )  # fmt: skip
                jbase = jsrv.start()
                kenv = {**kor.env, "ACCORD_PEER_PASSWORD": "kor-peer-pass"}
                subprocess.run(
                    [ACCORD, "peer", "remove", "jpn"], env=kenv, cwd=work, capture_output=True
                )
                subprocess.run([ACCORD, "peer", "add", "jpn", "--party", "JPN", "--url", jbase, "--user", "kor-peer",
                                "--no-pull"], env=kenv, cwd=work, check=True, capture_output=True)  # fmt: skip
                try:
                    el, rep_json = timed_sync(kenv, work, "jpn")
                finally:
                    jsrv.stop()
                pushed = rep_json["pushed"]
                pushes[mode].append(pushed / el)
                print(f"push run {rep} ({mode}): {pushed} objects in {el:.1f} s, "
                      f"{rep_json['receipts']} receipted", file=sys.stderr)  # fmt: skip
        results["pull"] = round(statistics.median(pulls["pinned"]))
        results["push"] = round(statistics.median(pushes["pinned"]))
        results["pull_unsigned"] = round(statistics.median(pulls["off"]))
        results["push_unsigned"] = round(statistics.median(pushes["off"]))
        results["pull_ratio"] = round(results["pull"] / results["ceiling"], 3)
        results["push_ratio"] = round(results["push"] / results["ceiling"], 3)
        # Signatures' cost: paired per repetition (the two modes ran back to back).
        results["signatures_pull"] = round(
            statistics.median(a / b for a, b in zip(pulls["pinned"], pulls["off"], strict=True)), 3
        )
        results["signatures_push"] = round(
            statistics.median(a / b for a, b in zip(pushes["pinned"], pushes["off"], strict=True)),
            3,
        )
        results["pull_vs_bare_receiver"] = round(results["pull"] / results["bare_receiver"], 3)
        results["runs"] = {
            "pull": {m: [round(x) for x in v] for m, v in pulls.items()},
            "push": {m: [round(x) for x in v] for m, v in pushes.items()},
        }
        results["idle_sync_s"] = round(statistics.median(idles), 2)
        # Informative only: the pull without the command's own start-up (what a sync inside
        # `accord serve` would take); the figures above are the command's.
        results["pull_without_startup"] = round(statistics.median(nets))
    finally:
        kor.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"ceiling {results['ceiling']}/s | pull {results['pull']}/s ({results['pull_ratio']:.0%}) | "
        f"push {results['push']}/s ({results['push_ratio']:.0%}); an idle `accord sync` takes "
        f"{results['idle_sync_s']} s (pull without it: {results['pull_without_startup']}/s); "
        f"bare receiver {results['bare_receiver']}/s ({results['bare_receiver_ratio']:.0%}); "
        f"signatures on/off: pull {results['signatures_pull']}, push {results['signatures_push']}; "
        f"signed pull / bare receiver {results['pull_vs_bare_receiver']:.0%}",
        file=sys.stderr,
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
