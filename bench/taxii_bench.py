#!/usr/bin/env python3
"""Generic TAXII 2.1 server benchmark (client side only).

Adapted for accord from ../shared/bench/taxii_bench.py (the team's shared harness): the only change
is `--release-marking FILE`, a marking-definition that every generated object also references and
that each posted envelope carries first, because accord stores only objects with a release
marking. Servers that ignore markings (medallion) simply store it as one more object.

Measures, against any TAXII 2.1 server reachable over HTTP:
  (a) ingest      POST envelopes of N generated STIX 2.1 indicators in batches -> objects/s
  (b) full_read   GET .../objects/ paginated (one pass per --read-limits value) -> objects/s
  (c) filtered    GET .../objects/ with match[type], match[id], added_after      -> requests/s
  (d) manifest    GET .../manifest/ paginated                                   -> entries/s
  (e) latency     single-object GET .../objects/{id}/ from C concurrent clients -> p50/p99 ms

Prints exactly one JSON line on stdout (progress goes to stderr).

Ingest cases run in the order given, all into the one collection named by
--collection, so later cases see a larger store (reported as store_before).
Read phases run on whatever the collection holds after ingest.  To measure
each case on an empty store, reset the server between invocations (see
run_medallion_bench.py for an example driver).

Every loop is bounded: by a request count, by --phase-budget seconds per
phase, and by --max-seconds for the whole run; a phase cut short is marked
"incomplete": true.  Only point this at servers you run yourself (loopback).

Requires: httpx (pip install httpx); orjson is used when installed.
"""

import argparse
import json
import math
import os
import platform
import random
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx

try:
    import orjson

    def jloads(b):
        return orjson.loads(b)

    def jdumps(o):
        return orjson.dumps(o)

    JSON_LIB = "orjson " + orjson.__version__
except ImportError:  # pragma: no cover

    def jloads(b):
        return json.loads(b)

    def jdumps(o):
        return json.dumps(o, separators=(",", ":")).encode()

    JSON_LIB = "json"

TAXII_MT = "application/taxii+json;version=2.1"
IDENTITY = "identity--b1c4b4a4-7e2b-4c5e-9a4c-2f5d3c1d0a01"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
RELEASE_MARKING = None  # set by --release-marking: a marking-definition object (dict)


# ---------------------------------------------------------------- data ----
def stix_ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def make_indicators(n, seed=1, start_index=0, base=None):
    """n deterministic STIX 2.1 indicators (~750 bytes each as compact JSON)."""
    rng = random.Random(seed)
    base = base or datetime(2024, 1, 1, tzinfo=timezone.utc)
    out = []
    for k in range(n):
        i = start_index + k
        ts = stix_ts(base + timedelta(milliseconds=i))
        kind = i % 3
        if kind == 0:
            pattern = "[ipv4-addr:value = '%d.%d.%d.%d']" % (
                rng.randint(1, 223),
                rng.randint(0, 255),
                rng.randint(0, 255),
                rng.randint(1, 254),
            )
        elif kind == 1:
            pattern = "[domain-name:value = 'h%010x.example.com']" % rng.getrandbits(40)
        else:
            pattern = "[file:hashes.'SHA-256' = '%064x']" % rng.getrandbits(256)
        out.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--%s" % uuid.UUID(int=rng.getrandbits(128), version=4),
                "created_by_ref": IDENTITY,
                "created": ts,
                "modified": ts,
                "name": "bench indicator %d" % i,
                "description": "Synthetic indicator %d generated for TAXII throughput benchmarking."
                % i,
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": ts,
                "labels": ["bench", "category-%d" % (i % 8)],
                "confidence": rng.randint(0, 100),
                "object_marking_refs": [TLP_GREEN]
                + ([RELEASE_MARKING["id"]] if RELEASE_MARKING else []),
                "external_references": [{"source_name": "bench", "external_id": "B-%08d" % i}],
            }
        )
    return out


# --------------------------------------------------------------- utils ----
def pct(values, p):
    """Nearest-rank percentile (p in 0..100); None for an empty list."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(math.ceil(p / 100.0 * len(s))) - 1))
    return s[k]


def r3(x):
    return None if x is None else round(x, 3)


def log(*a):
    print("[taxii_bench]", *a, file=sys.stderr, flush=True)


class Deadline:
    def __init__(self, seconds, hard_end):
        self.end = min(time.monotonic() + seconds, hard_end)

    def passed(self):
        return time.monotonic() >= self.end

    def left(self):
        return max(0.0, self.end - time.monotonic())


class Target:
    def __init__(self, a):
        base = a.base_url.rstrip("/")
        root = a.api_root.strip("/")
        self.api_root_url = root + "/" if root.startswith("http") else "%s/%s/" % (base, root)
        self.discovery_url = base + a.discovery_path
        self.coll_url = "%scollections/%s/" % (self.api_root_url, a.collection)
        self.objects_url = self.coll_url + "objects/"
        self.manifest_url = self.coll_url + "manifest/"
        self.status_url = self.api_root_url + "status/"
        self.auth = (a.user, a.password) if a.user is not None else None
        self.headers = {"Accept": TAXII_MT}
        if a.token:
            self.headers["Authorization"] = "Bearer " + a.token
        self.timeout = a.request_timeout

    def client(self):
        return httpx.Client(
            auth=self.auth,
            headers=self.headers,
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )


def timed_get(client, url, params=None):
    t0 = time.perf_counter()
    r = client.get(url, params=params)
    body = r.content
    dt = time.perf_counter() - t0
    return r, body, dt


# -------------------------------------------------------------- phases ----
def phase_ingest(tgt, n, batch, objs, wait_status, dl):
    res = {
        "n": n,
        "batch": batch,
        "requests": 0,
        "success_count": 0,
        "failure_count": 0,
        "pending_count": 0,
        "http_errors": 0,
        "incomplete": False,
    }
    lat = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    with tgt.client() as c:
        sent = 0
        for i in range(0, n, batch):
            if dl.passed():
                res["incomplete"] = True
                break
            batch_objs = objs[i : i + batch]
            if RELEASE_MARKING:
                batch_objs = [RELEASE_MARKING] + batch_objs
            body = jdumps({"objects": batch_objs})
            t1 = time.perf_counter()
            try:
                r = c.post(
                    tgt.objects_url,
                    content=body,
                    headers={"Content-Type": TAXII_MT, "Accept": TAXII_MT},
                )
            except httpx.HTTPError as e:
                res["http_errors"] += 1
                res["error"] = repr(e)[:200]
                res["incomplete"] = True
                break
            res["requests"] += 1
            if r.status_code not in (200, 201, 202):
                res["http_errors"] += 1
                res["error"] = "HTTP %d: %s" % (r.status_code, r.text[:200])
                continue
            st = jloads(r.content)
            if st.get("status") != "complete" and wait_status and st.get("id"):
                while not dl.passed():
                    time.sleep(0.05)
                    sr = c.get(tgt.status_url + st["id"] + "/")
                    if sr.status_code == 200:
                        st = jloads(sr.content)
                        if st.get("status") == "complete":
                            break
            lat.append(time.perf_counter() - t1)
            for k in ("success_count", "failure_count", "pending_count"):
                res[k] += int(st.get(k, 0) or 0)
            sent += len(objs[i : i + batch])
    el = time.perf_counter() - t0
    res.update(
        {
            "objects_sent": sent,
            "seconds": r3(el),
            "objects_per_s": r3(res["success_count"] / el) if el > 0 else None,
            "request_p50_ms": r3(pct(lat, 50) * 1000) if lat else None,
            "request_max_ms": r3(max(lat) * 1000) if lat else None,
            "client_cpu_s": r3(time.process_time() - cpu0),
        }
    )
    return res


def paged(tgt, url, limit, dl, max_pages, collect=None):
    """Follow TAXII 2.1 pagination ('next' token, else added_after from
    X-TAXII-Date-Added-Last).  Returns (stats, items_seen_for_collect)."""
    st = {
        "limit": limit,
        "items": 0,
        "pages": 0,
        "max_page_items": 0,
        "incomplete": False,
        "pagination": None,
    }
    page_lat = []
    kept = []
    params = {"limit": str(limit)}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    with tgt.client() as c:
        while True:
            if dl.passed() or st["pages"] >= max_pages:
                st["incomplete"] = True
                break
            try:
                r, body, dt = timed_get(c, url, params)
            except httpx.HTTPError as e:
                st["incomplete"] = True
                st["error"] = repr(e)[:200]
                break
            if r.status_code != 200:
                st["incomplete"] = True
                st["error"] = "HTTP %d: %s" % (r.status_code, body[:200])
                break
            page_lat.append(dt)
            env = jloads(body) if body else {}
            items = env.get("objects", [])
            st["pages"] += 1
            st["items"] += len(items)
            st["max_page_items"] = max(st["max_page_items"], len(items))
            if collect:
                kept.extend(collect(x) for x in items)
            if not env.get("more"):
                break
            if env.get("next"):
                st["pagination"] = "next"
                params = {"limit": str(limit), "next": str(env["next"])}
            elif r.headers.get("X-TAXII-Date-Added-Last"):
                st["pagination"] = "added_after"
                params = {"limit": str(limit), "added_after": r.headers["X-TAXII-Date-Added-Last"]}
            else:
                st["incomplete"] = True
                st["error"] = "more=true but no next token and no X-TAXII-Date-Added-Last"
                break
    el = time.perf_counter() - t0
    st.update(
        {
            "seconds": r3(el),
            "items_per_s": r3(st["items"] / el) if el > 0 else None,
            "first_page_ms": r3(page_lat[0] * 1000) if page_lat else None,
            "page_p50_ms": r3(pct(page_lat, 50) * 1000) if page_lat else None,
            "client_cpu_s": r3(time.process_time() - cpu0),
        }
    )
    return st, kept


def phase_filtered(tgt, kind, param_sets, count, dl):
    res = {"filter": kind, "requests": 0, "errors": 0, "items_returned": 0, "incomplete": False}
    lat = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    with tgt.client() as c:
        for i in range(count):
            if dl.passed():
                res["incomplete"] = True
                break
            try:
                r, body, dt = timed_get(c, tgt.objects_url, param_sets[i % len(param_sets)])
            except httpx.HTTPError as e:
                res["errors"] += 1
                res["error"] = repr(e)[:200]
                res["incomplete"] = True
                break
            res["requests"] += 1
            if r.status_code != 200:
                res["errors"] += 1
                res["error"] = "HTTP %d" % r.status_code
                continue
            lat.append(dt)
            res["items_returned"] += len((jloads(body) if body else {}).get("objects", []))
    el = time.perf_counter() - t0
    res.update(
        {
            "seconds": r3(el),
            "requests_per_s": r3(res["requests"] / el) if el > 0 else None,
            "p50_ms": r3(pct(lat, 50) * 1000) if lat else None,
            "p99_ms": r3(pct(lat, 99) * 1000) if lat else None,
            "client_cpu_s": r3(time.process_time() - cpu0),
        }
    )
    return res


def phase_latency(tgt, ids, concurrency, total, dl, seed):
    lat, errors = [], []
    lock = threading.Lock()
    per = [total // concurrency + (1 if w < total % concurrency else 0) for w in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def worker(w):
        rng = random.Random(seed * 1000 + w)
        mine = []
        with tgt.client() as c:
            try:  # open the connection before the clock starts
                c.get(tgt.objects_url + ids[0] + "/")
            except httpx.HTTPError:
                pass
            try:
                barrier.wait(timeout=tgt.timeout + 10)
            except threading.BrokenBarrierError:
                return
            for _ in range(per[w]):
                if dl.passed():
                    break
                oid = ids[rng.randrange(len(ids))]
                try:
                    r, body, dt = timed_get(c, tgt.objects_url + oid + "/")
                except httpx.HTTPError as e:
                    with lock:
                        errors.append(repr(e)[:120])
                    break
                if r.status_code == 200 and jloads(body).get("objects"):
                    mine.append(dt)
                else:
                    with lock:
                        errors.append("HTTP %d" % r.status_code)
        with lock:
            lat.extend(mine)

    th = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(concurrency)]
    for t in th:
        t.start()
    try:
        barrier.wait(timeout=tgt.timeout + 10)
    except threading.BrokenBarrierError:
        errors.append("workers did not start")
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for t in th:
        t.join(timeout=dl.left() + tgt.timeout + 5)
    el = time.perf_counter() - t0
    return {
        "concurrency": concurrency,
        "requests_planned": total,
        "requests_ok": len(lat),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "incomplete": len(lat) + len(errors) < total,
        "seconds": r3(el),
        "requests_per_s": r3(len(lat) / el) if el > 0 else None,
        "p50_ms": r3(pct(lat, 50) * 1000) if lat else None,
        "p90_ms": r3(pct(lat, 90) * 1000) if lat else None,
        "p99_ms": r3(pct(lat, 99) * 1000) if lat else None,
        "max_ms": r3(max(lat) * 1000) if lat else None,
        "client_cpu_s": r3(time.process_time() - cpu0),
    }


# ---------------------------------------------------------------- main ----
def parse_cases(s):
    out = []
    for part in filter(None, (p.strip() for p in s.split(","))):
        n, _, b = part.lower().partition("x")
        out.append((int(n), int(b or n)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:5000")
    ap.add_argument("--api-root", required=True, help="api-root path segment (or absolute URL)")
    ap.add_argument("--collection", required=True, help="collection id")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--token", help="bearer token instead of basic auth")
    ap.add_argument("--discovery-path", default="/taxii2/")
    ap.add_argument("--phases", default="ingest,read,manifest,filtered,latency")
    ap.add_argument(
        "--ingest",
        default="1000x100,1000x1000,10000x100,10000x1000",
        help="comma list of NxBATCH cases, run in order into the same collection",
    )
    ap.add_argument("--read-limits", default="100,1000")
    ap.add_argument("--filtered-requests", type=int, default=50, help="requests per filter kind")
    ap.add_argument("--filters", default="match_type,match_id,added_after")
    ap.add_argument("--filter-limit", type=int, default=100, help="limit= sent with filtered reads")
    ap.add_argument(
        "--added-after-tail",
        type=int,
        default=10,
        help="added_after chosen so that about this many objects match",
    )
    ap.add_argument("--latency-requests", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument(
        "--wait-status",
        action="store_true",
        help="poll the status resource until complete when POST answers pending",
    )
    ap.add_argument("--phase-budget", type=float, default=120.0, help="seconds per measured phase")
    ap.add_argument("--max-seconds", type=float, default=1800.0, help="whole-run bound")
    ap.add_argument("--request-timeout", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=None, help="object generator seed (default: time)")
    ap.add_argument("--label", default="", help="free text copied into the result")
    ap.add_argument(
        "--release-marking",
        default=None,
        help="JSON file with a marking-definition every object references (accord)",
    )
    a = ap.parse_args(argv)
    global RELEASE_MARKING
    if a.release_marking:
        with open(a.release_marking, "rb") as fh:
            RELEASE_MARKING = jloads(fh.read())

    hard_end = time.monotonic() + a.max_seconds
    phases = set(p.strip() for p in a.phases.split(","))
    seed = a.seed if a.seed is not None else int(time.time() * 1000) % 2**31
    tgt = Target(a)
    out = {
        "tool": "taxii_bench",
        "schema": 1,
        "label": a.label,
        "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "target": {
            "objects_url": tgt.objects_url,
            "auth": "bearer" if a.token else ("basic" if tgt.auth else "none"),
        },
        "client": {
            "python": platform.python_version(),
            "httpx": httpx.__version__,
            "json": JSON_LIB,
            "cpus": os.cpu_count(),
            "seed": seed,
        },
        "params": {k: v for k, v in vars(a).items() if k not in ("password", "token")},
    }

    # warm-up / sanity: discovery + collection must answer
    with tgt.client() as c:
        for name, url in (("discovery", tgt.discovery_url), ("collection", tgt.coll_url)):
            try:
                r = c.get(url)
                out.setdefault("probe", {})[name] = r.status_code
            except httpx.HTTPError as e:
                out.setdefault("probe", {})[name] = repr(e)[:200]
    if out["probe"].get("collection") != 200:
        out["fatal"] = "collection not reachable"
        print(json.dumps(out))
        return 2

    known_ids = []
    last_batch_time = None
    if "ingest" in phases:
        out["ingest"] = []
        start = 0
        store = 0
        for n, batch in parse_cases(a.ingest):
            objs = make_indicators(
                n,
                seed=seed + start,
                start_index=start,
                base=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1),
            )
            start += n
            log("ingest n=%d batch=%d (store before: %d)" % (n, batch, store))
            dl = Deadline(a.phase_budget, hard_end)
            last_batch_time = datetime.now(timezone.utc)
            res = phase_ingest(tgt, n, batch, objs, a.wait_status, dl)
            res["store_before"] = store
            store += res["success_count"]
            known_ids.extend(o["id"] for o in objs[: res["objects_sent"]])
            out["ingest"].append(res)
        out["store_after_ingest"] = store

    if "read" in phases:
        out["full_read"] = []
        for lim in [int(x) for x in a.read_limits.split(",") if x]:
            log("full read limit=%d" % lim)
            dl = Deadline(a.phase_budget, hard_end)
            want_ids = not known_ids
            st, ids = paged(
                tgt,
                tgt.objects_url,
                lim,
                dl,
                max_pages=100000,
                collect=(lambda o: o.get("id")) if want_ids else None,
            )
            if want_ids:
                known_ids = [i for i in ids if i]
            out["full_read"].append(st)

    date_added = []
    if "manifest" in phases:
        out["manifest"] = []
        for lim in [int(x) for x in a.read_limits.split(",") if x]:
            log("manifest limit=%d" % lim)
            dl = Deadline(a.phase_budget, hard_end)
            st, da = paged(
                tgt,
                tgt.manifest_url,
                lim,
                dl,
                max_pages=100000,
                collect=lambda m: m.get("date_added"),
            )
            if not date_added:
                date_added = sorted(x for x in da if x)
            out["manifest"].append(st)

    if not known_ids and ({"filtered", "latency"} & phases):
        with tgt.client() as c:
            r = c.get(tgt.objects_url, params={"limit": "100"})
            if r.status_code == 200:
                known_ids = [o["id"] for o in jloads(r.content).get("objects", [])]

    if "filtered" in phases and known_ids:
        rng = random.Random(seed)
        out["filtered"] = {}
        aa = None
        # largest date_added with at least --added-after-tail entries strictly after it
        for i in range(len(date_added) - 1 - a.added_after_tail, -1, -1):
            if date_added[i] != date_added[i + 1]:
                aa, aa_src = date_added[i], "manifest"
                break
        if aa is None:
            aa = (last_batch_time or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            aa_src = "client clock before last ingest batch"
        sets = {
            "match_type": [{"match[type]": "indicator", "limit": str(a.filter_limit)}],
            "match_id": [
                {"match[id]": rng.choice(known_ids), "limit": str(a.filter_limit)}
                for _ in range(max(1, a.filtered_requests))
            ],
            "added_after": [{"added_after": aa, "limit": str(a.filter_limit)}],
        }
        for kind, ps in sets.items():
            if kind not in a.filters.split(","):
                continue
            log("filtered %s" % kind)
            dl = Deadline(a.phase_budget, hard_end)
            out["filtered"][kind] = phase_filtered(tgt, kind, ps, a.filtered_requests, dl)
        if "added_after" in out["filtered"]:
            out["filtered"]["added_after"].update(value=aa, value_source=aa_src)

    if "latency" in phases and known_ids:
        log("latency c=%d n=%d" % (a.concurrency, a.latency_requests))
        dl = Deadline(a.phase_budget, hard_end)
        out["latency"] = phase_latency(tgt, known_ids, a.concurrency, a.latency_requests, dl, seed)

    out["finished_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out["hit_max_seconds"] = time.monotonic() >= hard_end
    print(json.dumps(out, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
