#!/usr/bin/env python3
"""Releasability engine benchmark (issue 3): accord's `decide`, its bulk `ReleaseTable` and the
same rules as a Cedar policy through cedarpy, side by side on one synthetic workload.

    .venv/bin/python bench/bench_policy.py [--reps 5] [--seed 7]

Workload (deterministic from --seed): 30 parties (TS/S/C/U schemes), 200 agreements with event
histories (bilateral information-security agreements, hub arrangements resting on them, a few
logistics agreements), 300 consents, 5,000 distinct markings; one date. A decision is (marking,
recipient) with holder = originator, so the full table is 5,000 × 29 = 145,000 decisions.

Cedar runs the oracle's policy text (tests/policy/cedar_oracle.py, POLICIES) with pre-parsed
PolicySet and Entities handles. Cedar cannot quantify over agreements, so — as in
docs/reference/perf-anchors.md §2 ("ctx") — the harness looks up the agreements binding the pair and asks
once per candidate (plus the R6 question, and the hub hops when no direct route permits); one
decision therefore costs a few Cedar requests. Modes: `is_authorized` per request, and
`is_authorized_batch` over all requests of 500 decisions per stage.

Prints a readable table and one JSON line (medians of --reps runs, ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "policy"))

import cedarpy  # noqa: E402
from cedar_oracle import _POLICY_SET, Oracle, _map_id, _ref  # noqa: E402

from accord.policy import Marking, ReleaseTable, World, decide  # noqa: E402
from accord.registry import files  # noqa: E402
from accord.registry.model import (  # noqa: E402
    Agreement,
    Consent,
    Event,
    EventKind,
    Level,
    Party,
    Registry,
    Scope,
)

TOPICS = ("dprk-nuclear", "dprk-missile", "wmd", "general-military", "maritime-security", "cyber")
PURPOSES = ("defence", "intelligence", "early-warning")
LEVELS = ("TS", "S", "C", "U")
AT = date(2020, 1, 1)


def d(rng: random.Random, lo: int, hi: int) -> date:
    return date(lo, 1, 1) + timedelta(days=rng.randrange((date(hi, 1, 1) - date(lo, 1, 1)).days))


def history(rng: random.Random) -> tuple[Event, ...]:
    start = d(rng, 1990, 2016)
    evs = [
        Event(date=start, kind=EventKind.SIGNED),
        Event(date=start, kind=EventKind.ENTERED_INTO_FORCE),
    ]
    r = rng.random()
    if r < 0.10:
        t = start + timedelta(days=rng.randrange(400, 9000))
        evs.append(Event(date=t, kind=EventKind.TERMINATED))
    elif r < 0.20:
        t = start + timedelta(days=rng.randrange(400, 9000))
        evs.append(Event(date=t, kind=EventKind.SUSPENDED))
        evs.append(Event(date=t + timedelta(days=rng.randrange(30, 2000)), kind=EventKind.RESUMED))
    elif r < 0.30:
        t = start + timedelta(days=rng.randrange(400, 9000))
        evs.append(
            Event(date=t, kind=EventKind.TERMINATION_NOTIFIED, effective=t + timedelta(days=90))
        )
        evs.append(Event(date=t + timedelta(days=89), kind=EventKind.NOTICE_SUSPENDED))
    return tuple(evs)


def build(seed: int) -> tuple[Registry, list[Marking]]:
    rng = random.Random(seed)
    codes = [f"P{i:02d}" for i in range(30)]
    parties = tuple(
        Party(code=c, name=c, levels=tuple(Level(code=lv, name=lv) for lv in LEVELS)) for c in codes
    )
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    rng.shuffle(pairs)
    ags: list[Agreement] = []
    for k, (a, b) in enumerate(pairs[:175]):
        depth = rng.choice([2, 3, 3, 4])
        topics: Any = "all" if rng.random() < 0.7 else tuple(rng.sample(TOPICS, rng.randint(2, 5)))
        purposes: Any = "all" if rng.random() < 0.8 else tuple(rng.sample(PURPOSES, 2))
        ags.append(
            Agreement(
                id=f"isa-{k:03d}",
                title=f"{a}–{b}",
                kind="information-security",
                parties=(a, b),
                scope=Scope(topics=topics, purposes=purposes),
                equivalence=tuple({a: lv, b: lv} for lv in LEVELS[:depth]),
                events=history(rng),
            )
        )
    bilateral = {frozenset(ag.parties): ag.id for ag in ags}
    for k in range(20):
        hub = rng.choice(codes)
        members = [hub, *rng.sample([c for c in codes if c != hub], rng.randint(2, 4))]
        under = tuple(
            bilateral[frozenset((hub, m))] for m in members[1:] if frozenset((hub, m)) in bilateral
        )
        ags.append(
            Agreement(
                id=f"arr-{k:02d}",
                title=f"arrangement {k}",
                kind="information-arrangement",
                legal_form="arrangement",
                parties=tuple(sorted(members)),
                hub=hub,
                underlying=under,
                scope=Scope(topics=tuple(rng.sample(TOPICS, 2))),
                equivalence=tuple({m: lv for m in members} for lv in LEVELS[:3]),
                events=history(rng),
            )
        )
    for k in range(5):
        a, b = pairs[200 + k]
        ags.append(
            Agreement(
                id=f"acsa-{k}",
                title="acsa",
                kind="logistics-support",
                parties=(a, b),
                events=history(rng),
            )
        )
    consents = []
    for k in range(300):
        o, h = rng.sample(codes, 2)
        consents.append(
            Consent(
                id=f"c-{k:03d}",
                originator=o,
                holder=h,
                recipients=tuple(rng.sample(codes, rng.randint(1, 4))),
                topics="all" if rng.random() < 0.5 else tuple(rng.sample(TOPICS, 3)),
                max_level=rng.choice([None, "S", "C"]),
                items=tuple(f"item-{rng.randrange(500)}" for _ in range(rng.randint(0, 2))),
                valid_from=d(rng, 2000, 2019),
            )
        )
    reg = Registry(parties=parties, agreements=tuple(ags), consents=tuple(consents))
    files.validate_against(Registry(), reg)
    markings: dict[Marking, None] = {}
    while len(markings) < 5000:
        o = rng.choice(codes)
        rel = None if rng.random() < 0.8 else rng.sample(codes, rng.randint(1, 6))
        orcon = rng.random() < 0.1
        markings[
            Marking.of(
                o,
                rng.choice(LEVELS),
                rng.sample(TOPICS, rng.randint(1, 2)),
                rng.choice(PURPOSES),
                rel_to=rel,
                noforn=rng.random() < 0.03,
                orcon=orcon,
                id=f"item-{rng.randrange(500)}" if orcon or rng.random() < 0.2 else None,
            )
        ] = None
    return reg, list(markings)


# ---- Cedar harness -------------------------------------------------------------------------
class CedarHarness:
    """Asks the oracle's Cedar policy about decisions, candidates prefiltered by pair."""

    def __init__(self, reg: Registry, markings: list[Marking]) -> None:
        t0 = time.perf_counter()
        self.o = Oracle(reg, markings)
        self.parse_s = time.perf_counter() - t0
        self.world = World(reg)
        live = {r["__entity"]["id"] for r in self.o.inforce(AT)}
        self.live = live
        self.inf_of = {
            ag.id: [_ref("Agreement", i) for i in (ag.id, *ag.underlying) if i in live]
            for ag in reg.agreements
        }

    def _release(self, m: Marking, h: str, hl: str, to: str, aid: str) -> dict[str, Any]:
        # Only the in-force facts this question reads (the agreement and those it rests on):
        # a context listing all ~170 in-force agreements costs Cedar ~1 ms a request to parse.
        return self.o._req(
            "release",
            m,
            to,
            holder=_ref("Party", h),
            agreement=_ref("Agreement", aid),
            inforce=self.inf_of[aid],
            holder_level=hl,
            map=_ref("Map", _map_id(aid, h, hl, to)),
        )

    def _tp(self, m: Marking, h: str, to: str, route_holder: str, cid: str) -> dict[str, Any]:
        return self.o._req(
            "third-party",
            m,
            to,
            holder=_ref("Party", h),
            route_holder=_ref("Party", route_holder),
            day=AT.toordinal(),
            consent=_ref("Consent", cid),
        )

    def stage1(self, m: Marking, to: str) -> list[dict[str, Any]]:
        h = m.originator
        reqs = [self._release(m, h, m.level, to, a.id) for a in self.world.direct_candidates(h, to)]
        return [*reqs, self._tp(m, h, to, h, "-")]

    def hub_requests(self, m: Marking, to: str) -> list[tuple[str, list[dict[str, Any]]]]:
        h = m.originator
        # R7: the hub serves only members without a direct agreement in force (PRODUCT.md §3).
        if any(
            a.id in self.live and all(u in self.live for u in a.underlying)
            for a in self.world.direct_candidates(h, to)
        ):
            return []
        out = []
        for x in self.world.hub_arrangements(h, to):
            hub = x.hub
            assert hub is not None
            l1 = m.level  # identity rows in this workload: the hub holds it at the same level
            out.append(
                (
                    x.id,
                    [
                        self._release(m, h, m.level, hub, x.id),
                        self._tp(m, h, hub, h, "-"),
                        self._release(m, hub, l1, to, x.id),
                        self._tp(m, hub, to, h, "-"),
                    ],
                )
            )
        return out

    def decide_single(self, m: Marking, to: str) -> bool:
        def ask(r: dict[str, Any]) -> bool:
            return bool(cedarpy.is_authorized(r, _POLICY_SET, self.o.entities).allowed)

        reqs = self.stage1(m, to)
        if ask(reqs[-1]) and any(ask(r) for r in reqs[:-1]):
            return True
        return any(all(ask(r) for r in rs) for _, rs in self.hub_requests(m, to))

    def decide_batch(self, work: list[tuple[Marking, str]]) -> list[bool]:
        reqs: list[dict[str, Any]] = []
        spans = []
        for m, to in work:
            rs = self.stage1(m, to)
            spans.append((len(reqs), len(rs)))
            reqs += rs
        res = [r.allowed for r in cedarpy.is_authorized_batch(reqs, _POLICY_SET, self.o.entities)]
        out = []
        for s, n in spans:
            out.append(res[s + n - 1] and any(res[s : s + n - 1]))
        hub_reqs: list[dict[str, Any]] = []
        hub_spans: list[tuple[int, list[int]]] = []
        for i, (m, to) in enumerate(work):
            if out[i]:
                continue
            starts = []
            for _, rs in self.hub_requests(m, to):
                starts.append(len(hub_reqs))
                hub_reqs += rs
            if starts:
                hub_spans.append((i, starts))
        if hub_reqs:
            hres = [
                r.allowed
                for r in cedarpy.is_authorized_batch(hub_reqs, _POLICY_SET, self.o.entities)
            ]
            for i, starts in hub_spans:
                out[i] = any(all(hres[s : s + 4]) for s in starts)
        return out


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--single", type=int, default=20000, help="decide() calls per run")
    ap.add_argument("--cedar", type=int, default=3000, help="Cedar decisions per run")
    a = ap.parse_args()

    reg, markings = build(a.seed)
    codes = sorted(p.code for p in reg.parties)
    rng = random.Random(a.seed + 1)
    sample = [
        (m, rng.choice([c for c in codes if c != m.originator]))
        for m in rng.choices(markings, k=max(a.single, a.cedar))
    ]

    runs: list[dict[str, float]] = []
    mismatches = 0
    cedar = CedarHarness(reg, markings)
    for rep in range(a.reps):
        row: dict[str, float] = {}
        world = World(reg)
        t0 = time.perf_counter()
        answers = [decide(m, to, AT, world=world).allowed for m, to in sample[: a.single]]
        row["decide_per_s"] = a.single / (time.perf_counter() - t0)

        world = World(reg)
        t0 = time.perf_counter()
        table = ReleaseTable(world, markings, AT)
        el = time.perf_counter() - t0
        row["table_build_ms"] = el * 1000
        row["table_per_s"] = table.decisions() / el
        mismatches += sum(
            table.allowed(m, to) != ok
            for (m, to), ok in zip(sample[: a.single], answers, strict=True)
        )

        # Registry changes: an agreement suspended, a new consent, an arrangement terminated.
        changes = []
        for k in range(6):
            crng = random.Random(a.seed * 100 + rep * 10 + k)
            if k % 3 == 0:
                ag = crng.choice([x for x in reg.agreements if x.id.startswith("isa")])
                ev = Event(date=max(AT, max(e.date for e in ag.events)), kind=EventKind.SUSPENDED)
                changes.append(
                    Registry(agreements=(ag.model_copy(update={"events": (*ag.events, ev)}),))
                )
            elif k % 3 == 1:
                o, h = crng.sample(codes, 2)
                changes.append(
                    Registry(
                        consents=(
                            Consent(
                                id=f"new-{rep}-{k}",
                                originator=o,
                                holder=h,
                                recipients=tuple(crng.sample(codes, 3)),
                                valid_from=date(2019, 1, 1),
                            ),
                        )
                    )
                )
            else:
                ag = crng.choice([x for x in reg.agreements if x.id.startswith("arr")])
                ev = Event(date=max(AT, max(e.date for e in ag.events)), kind=EventKind.TERMINATED)
                changes.append(
                    Registry(agreements=(ag.model_copy(update={"events": (*ag.events, ev)}),))
                )
        times, touched = [], []
        for part in changes:
            t0 = time.perf_counter()
            new_world = World(files.merge(table.world.registry, part))
            pairs = table.refresh(new_world)
            times.append((time.perf_counter() - t0) * 1000)
            touched.append(len(pairs))
        row["refresh_ms_median"] = median(times)
        row["refresh_ms_max"] = max(times)
        row["refresh_pairs_median"] = median([float(t) for t in touched])
        check = ReleaseTable(table.world, markings, AT)
        mismatches += sum(table.pair(*p) != check.pair(*p) for p in check.pairs())

        work = sample[: a.cedar]
        t0 = time.perf_counter()
        single = [cedar.decide_single(m, to) for m, to in work]
        row["cedar_single_per_s"] = a.cedar / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        batch: list[bool] = []
        for i in range(0, len(work), 500):
            batch += cedar.decide_batch(work[i : i + 500])
        row["cedar_batch_per_s"] = a.cedar / (time.perf_counter() - t0)
        mismatches += sum(x != y for x, y in zip(single, answers, strict=False))
        mismatches += sum(x != y for x, y in zip(batch, answers, strict=False))
        runs.append(row)
        print(f"[bench_policy] rep {rep + 1}/{a.reps} done", file=sys.stderr, flush=True)

    med = {k: median([r[k] for r in runs]) for k in runs[0]}
    ratios = {
        "table_vs_cedar_single": med["table_per_s"] / med["cedar_single_per_s"],
        "table_vs_cedar_batch": med["table_per_s"] / med["cedar_batch_per_s"],
        "decide_vs_cedar_single": med["decide_per_s"] / med["cedar_single_per_s"],
        "table_vs_decide": med["table_per_s"] / med["decide_per_s"],
    }
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    allowed = sum(answers)
    out = {
        "tool": "bench_policy",
        "date": date.today().isoformat(),
        "machine": {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version()},
        "world": {
            "parties": len(reg.parties),
            "agreements": len(reg.agreements),
            "consents": len(reg.consents),
            "markings": len(markings),
            "table_decisions": table.decisions(),
            "allow_rate_sample": round(allowed / len(answers), 3),
        },
        "reps": a.reps,
        "median": {k: round(v, 2) for k, v in med.items()},
        "ratios": {k: round(v, 1) for k, v in ratios.items()},
        "goals": {
            "table_ge_100x_cedar_single": ratios["table_vs_cedar_single"] >= 100,
            "refresh_lt_100ms": med["refresh_ms_max"] < 100,
        },
        "mismatches": mismatches,
        "cedar_parse_entities_s": round(cedar.parse_s, 3),
    }
    rows = [
        ("decide(), one call per decision", f"{med['decide_per_s']:,.0f}", "decisions/s"),
        ("ReleaseTable, whole table (145,000)", f"{med['table_per_s']:,.0f}", "decisions/s"),
        ("  table build time", f"{med['table_build_ms']:,.1f}", "ms"),
        ("Cedar is_authorized per request", f"{med['cedar_single_per_s']:,.0f}", "decisions/s"),
        ("Cedar is_authorized_batch (500 dec.)", f"{med['cedar_batch_per_s']:,.0f}", "decisions/s"),
        ("registry change re-decided (median)", f"{med['refresh_ms_median']:,.1f}", "ms"),
        ("registry change re-decided (max)", f"{med['refresh_ms_max']:,.1f}", "ms"),
        ("table ÷ Cedar single", f"{ratios['table_vs_cedar_single']:,.0f}×", ""),
        ("table ÷ Cedar batch", f"{ratios['table_vs_cedar_batch']:,.0f}×", ""),
        ("decide() ÷ Cedar single", f"{ratios['decide_vs_cedar_single']:,.1f}×", ""),
        ("mismatches (table/Cedar vs decide)", str(mismatches), ""),
    ]
    print(
        f"Releasability engine — medians of {a.reps} runs; {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    for name, val, unit in rows:
        print(f"  {name:<40} {val:>14} {unit}")
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
