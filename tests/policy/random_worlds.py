"""Hypothesis strategies for random, valid registries: parties with small schemes, information
agreements and arrangements (some with hubs and underlying agreements), a logistics agreement now
and then, random but well-formed event histories, consents, and markings.

Dates live on a coarse grid (2010-01-01 + 30·k days) so that query dates often fall exactly on
event dates, notice effective dates and consent bounds — the boundaries where off-by-one bugs live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import strategies as st

from accord.policy import Marking
from accord.registry import files
from accord.registry.model import (
    Agreement,
    Consent,
    Event,
    EventKind,
    Level,
    Party,
    Registry,
    Scope,
)

BASE = date(2010, 1, 1)
TOPICS = ("dprk-nuclear", "dprk-missile", "wmd")
PURPOSES = ("defence", "intelligence")
CODES = ("PA", "PB", "PC", "PD", "PE")
LEVELS = ("A", "B", "C")
ITEMS = ("m1", "m2")


def day(k: int) -> date:
    return BASE + timedelta(days=30 * k)


@dataclass(frozen=True)
class Case:
    """A random world with the markings, holders and dates to decide over."""

    registry: Registry
    markings: tuple[Marking, ...]
    dates: tuple[date, ...]


@st.composite
def parties(draw: st.DrawFn) -> tuple[Party, ...]:
    n = draw(st.integers(3, 4))
    out = []
    for code in CODES[:n]:
        k = draw(st.integers(1, 3))
        levels = tuple(Level(code=lv, name=lv) for lv in (*LEVELS[:k], "U"))
        out.append(Party(code=code, name=code, levels=levels))
    return tuple(out)


@st.composite
def history(draw: st.DrawFn) -> tuple[Event, ...]:
    """A sequence of events a real agreement could have, on strictly increasing dates."""
    k = draw(st.integers(-4, 2))
    events: list[Event] = []
    state, notice = "pre", "none"
    for _ in range(draw(st.integers(1, 4))):
        k += draw(st.integers(1, 12))
        if state == "pre":
            kind = draw(st.sampled_from(["entered-into-force"] * 6 + ["signed"]))
        elif state == "in" and notice == "none":
            kind = draw(
                st.sampled_from(["termination-notified"] * 3 + ["suspended"] * 2 + ["terminated"])
            )
        elif state == "in" and notice == "given":
            kind = draw(
                st.sampled_from(["notice-suspended", "notice-withdrawn", "suspended", "terminated"])
            )
        elif state == "in":
            kind = draw(st.sampled_from(["notice-withdrawn", "suspended", "terminated"]))
        elif state == "suspended":
            kind = draw(st.sampled_from(["resumed", "resumed", "terminated"]))
        else:
            break
        effective = None
        if kind == "entered-into-force":
            state = "in"
        elif kind == "termination-notified":
            effective = day(k + draw(st.integers(0, 6)))
            notice = "given"
        elif kind == "notice-suspended":
            notice = "suspended"
        elif kind == "notice-withdrawn":
            notice = "none"
        elif kind == "suspended":
            state = "suspended"
        elif kind == "resumed":
            state = "in"
            notice = "given" if notice == "given" else "none"
        elif kind == "terminated":
            state = "ended"
        events.append(Event(date=day(k), kind=EventKind(kind), effective=effective))
    return tuple(events)


def _rows(draw: st.DrawFn, members: tuple[Party, ...]) -> tuple[dict[str, str], ...]:
    used: dict[str, set[str]] = {p.code: set() for p in members}
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        row: dict[str, str] = {}
        for p in members:
            free = [lv for lv in p.level_codes() if lv not in used[p.code]]
            if free and draw(st.integers(0, 4)) > 0:
                row[p.code] = free[0] if draw(st.integers(0, 2)) else draw(st.sampled_from(free))
        if len(row) >= 2:
            for code, lv in row.items():
                used[code].add(lv)
            rows.append(row)
    return tuple(rows)


def _full_rows(members: tuple[Party, ...]) -> tuple[dict[str, str], ...]:
    """Rows pairing each party's levels rank by rank (highest with highest)."""
    depth = min(len(p.levels) for p in members)
    return tuple({p.code: p.level_codes()[i] for p in members} for i in range(depth))


@st.composite
def hub_trio(draw: st.DrawFn, ps: tuple[Party, ...]) -> list[Agreement]:
    """A TISA-like trio: two bilaterals with a hub and an arrangement resting on both."""
    a, b, hub = draw(st.permutations(ps))[:3]
    out = []
    for i, pair in enumerate(((a, hub), (b, hub))):
        members = tuple(sorted(pair, key=lambda p: p.code))
        out.append(
            Agreement(
                id=f"bi{i}",
                title=f"bilateral {i}",
                kind="information-security",
                parties=tuple(p.code for p in members),
                equivalence=_full_rows(members),
                events=draw(history()),
            )
        )
    trio = tuple(sorted((a, b, hub), key=lambda p: p.code))
    topics = draw(st.one_of(st.just("all"), st.lists(st.sampled_from(TOPICS), unique=True)))
    out.append(
        Agreement(
            id="hub",
            title="hub arrangement",
            kind="information-arrangement",
            legal_form="arrangement",
            parties=tuple(p.code for p in trio),
            hub=hub.code,
            underlying=("bi0", "bi1"),
            scope=Scope(topics=topics if topics == "all" else tuple(topics)),
            equivalence=_full_rows(trio) if draw(st.integers(0, 3)) else _rows(draw, trio),
            events=draw(history()),
        )
    )
    return out


@st.composite
def agreements(draw: st.DrawFn, ps: tuple[Party, ...]) -> tuple[Agreement, ...]:
    out: list[Agreement] = draw(hub_trio(ps)) if draw(st.booleans()) else []
    for i in range(draw(st.integers(2, 7))):
        kind = draw(
            st.sampled_from(
                ["information-security"] * 6
                + ["information-arrangement"] * 3
                + ["logistics-support"]
            )
        )
        size = draw(st.sampled_from([2, 2, 3]) if kind != "information-arrangement" else st.just(3))
        members = tuple(
            sorted(
                draw(st.lists(st.sampled_from(ps), min_size=size, max_size=size, unique=True)),
                key=lambda p: p.code,
            )
        )
        codes = tuple(p.code for p in members)
        hub = None
        underlying: tuple[str, ...] = ()
        if kind == "information-arrangement":
            if draw(st.integers(0, 3)) > 0:
                hub = draw(st.sampled_from(codes))
            inside = [a.id for a in out if set(a.parties) <= set(codes)]
            if inside:
                underlying = tuple(draw(st.lists(st.sampled_from(inside), unique=True, max_size=2)))
        topics = draw(
            st.one_of(
                st.just("all"), st.just("all"), st.lists(st.sampled_from(TOPICS), unique=True)
            )
        )
        purposes = draw(st.one_of(st.just("all"), st.lists(st.sampled_from(PURPOSES), unique=True)))
        if kind == "logistics-support":
            purposes = "all"  # logistics purposes are another vocabulary (R11)
        out.append(
            Agreement(
                id=f"ag{i}",
                title=f"agreement {i}",
                kind=kind,
                parties=codes,
                hub=hub,
                underlying=underlying,
                scope=Scope(
                    topics=topics if topics == "all" else tuple(topics),
                    purposes=purposes if purposes == "all" else tuple(purposes),
                ),
                equivalence=_rows(draw, members),
                events=draw(history()),
            )
        )
    return tuple(out)


@st.composite
def consents(
    draw: st.DrawFn, ps: tuple[Party, ...], ags: tuple[Agreement, ...]
) -> tuple[Consent, ...]:
    codes = [p.code for p in ps]
    by_code = {p.code: p for p in ps}
    out = []
    for i in range(draw(st.integers(0, 8))):
        o, h = draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
        recipients = tuple(draw(st.lists(st.sampled_from(codes), unique=True, max_size=2)))
        arrangement = draw(st.one_of(st.none(), st.sampled_from([a.id for a in ags])))
        if not recipients and arrangement is None:
            recipients = (draw(st.sampled_from(codes)),)
        k = draw(st.integers(0, 20))
        until = draw(st.one_of(st.none(), st.integers(k, k + 20)))
        topics = draw(
            st.one_of(
                st.just("all"), st.just("all"), st.lists(st.sampled_from(TOPICS), unique=True)
            )
        )
        out.append(
            Consent(
                id=f"c{i}",
                originator=o,
                holder=h,
                recipients=recipients,
                arrangement=arrangement,
                items=tuple(
                    draw(st.lists(st.sampled_from(ITEMS), unique=True, max_size=2))
                    if draw(st.integers(0, 2)) == 0
                    else ()
                ),
                topics=topics if topics == "all" else tuple(topics),
                max_level=draw(
                    st.one_of(st.none(), st.none(), st.sampled_from(by_code[o].level_codes()))
                ),
                valid_from=day(k),
                valid_until=None if until is None else day(until),
            )
        )
    return tuple(out)


@st.composite
def markings(draw: st.DrawFn, ps: tuple[Party, ...], n: int) -> tuple[Marking, ...]:
    codes = [p.code for p in ps]
    out = []
    for _ in range(n):
        p = draw(st.sampled_from(ps))
        rel = draw(
            st.one_of(
                st.none(), st.none(), st.lists(st.sampled_from(codes), unique=True, max_size=3)
            )
        )
        out.append(
            Marking.of(
                p.code,
                draw(st.sampled_from(p.level_codes())),
                draw(st.lists(st.sampled_from(TOPICS), unique=True, max_size=2)),
                draw(st.sampled_from(PURPOSES[:1] * 3 + PURPOSES[1:])),
                rel_to=rel,
                noforn=draw(st.integers(0, 14)) == 0,
                orcon=draw(st.integers(0, 5)) == 0,
                id=draw(st.one_of(st.none(), st.sampled_from(ITEMS))),
            )
        )
    return tuple(out)


@st.composite
def registries(draw: st.DrawFn) -> Registry:
    ps = draw(parties())
    ags = draw(agreements(ps))
    cs = draw(consents(ps, ags))
    reg = Registry(parties=ps, agreements=ags, consents=cs)
    files.validate_against(Registry(), reg)  # the generator only makes valid registries
    return reg


@st.composite
def cases(draw: st.DrawFn, n_markings: int = 6, n_dates: int = 3) -> Case:
    reg = draw(registries())
    ms = draw(markings(reg.parties, n_markings))
    dates = tuple(draw(st.lists(st.integers(0, 36).map(day), min_size=n_dates, max_size=n_dates)))
    return Case(reg, ms, dates)


def describe(case: Case) -> str:
    """Returns the world as the YAML `accord import` reads, plus the markings and dates."""
    text = files.dump(case.registry)
    text += "\n# markings:\n" + "\n".join(f"#   {m!r}" for m in case.markings)
    text += "\n# dates: " + ", ".join(d.isoformat() for d in case.dates) + "\n"
    return text
