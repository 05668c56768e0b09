"""The network page: parties as nodes, agreements as edges, on a chosen date, with a timeline.

`/network?at=DATE&focus=P|all` renders the page; `/network/figure?…` only the figure (the SVG and
its table), which the timeline's script fetches as the slider moves. Everything is computed from
the registry by `accord.registry.lifecycle.status`; the model of one (registry version, date,
focus) is cached, so moving back and forth along the timeline costs nothing the second time.
The cached model holds codes and the registry's English only: the templates put kinds, statuses,
party names, key events and dates into the reader's language (`accord.i18n`, `labels`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from starlette.responses import Response

from accord import i18n
from accord.i18n import N_
from accord.labels import KINDS
from accord.policy.world import World
from accord.registry.lifecycle import IN_FORCE_STATES, Status, on_date, ordered_events
from accord.registry.model import Agreement
from accord.registry.precision import proven
from accord.web import layout
from accord.web.pages import Ctx, page

#: The moments of the Korea–Japan story the timeline marks (PRODUCT.md §2, §6); their labels are
#: translated where shown.
KEY_EVENTS: tuple[tuple[date, str], ...] = (
    (date(2014, 12, 29), N_("TISA in force")),
    (date(2016, 11, 23), N_("Korea–Japan GSOMIA in force")),
    (date(2019, 8, 23), N_("Korea gives notice")),
    (date(2019, 11, 22), N_("Notice suspended")),
    (date(2023, 3, 21), N_("Notes withdrawn")),
)
PROMINENT = ("KOR", "JPN", "USA")
#: Statuses labelled on the edge itself (the legend explains the rest).
LABELLED = frozenset({Status.NOTICE_GIVEN, Status.NOTICE_SUSPENDED, Status.SUSPENDED})
PRE_FORCE = frozenset({Status.NEGOTIATING, Status.INITIALLED, Status.SIGNED})


@dataclass(frozen=True)
class Dot:
    """A party drawn: code, name, centre, radius, role (`self`, `core`, `outer`), label place."""

    code: str
    name: str
    x: float
    y: float
    r: float
    role: str
    lx: float
    ly: float
    anchor: str
    agreements: int


@dataclass(frozen=True)
class Link:
    """An agreement drawn between two parties: path `d`, label place, kind, status (codes: the
    words are the reader's language's, chosen when the figure is rendered), whether the status
    is written on the line itself."""

    agreement: str
    title: str
    kind: str
    status: str
    a: str
    b: str
    d: str
    mx: float
    my: float
    labelled: bool
    in_force: bool
    core: bool


@dataclass(frozen=True)
class Row:
    """One agreement in the table under the figure: its parties as `KOR–JPN`, and its hub."""

    agreement: str
    title: str
    kind: str
    status: str
    parties: str
    hub: str | None
    since: date | None
    illustrative: bool


@dataclass(frozen=True)
class Network:
    """The figure on one date: parties, links, the agreements table and the canvas."""

    at: date
    focus: str
    dots: tuple[Dot, ...]
    links: tuple[Link, ...]
    rows: tuple[Row, ...]
    canvas: layout.Canvas

    @property
    def in_force(self) -> int:
        return sum(1 for r in self.rows if r.status in IN_FORCE_STATES)


def _pairs(ag: Agreement) -> list[tuple[str, str]]:
    """The edges an agreement is drawn as: hub to each member, else every pair of parties."""
    ps = ag.parties
    if ag.hub is not None and ag.hub in ps:
        return [(ag.hub, p) for p in ps if p != ag.hub]
    return [(a, b) for i, a in enumerate(ps) for b in ps[i + 1 :]]


def _since(ag: Agreement, at: date) -> date | None:
    last = None
    for ev in ordered_events(ag):
        if proven(ev) > at:
            break
        last = proven(ev)
    return last


def build(world: World, node_party: str, at: date, focus: str) -> Network:
    """Returns the network on `at`: every agreement with a status other than `none`, among the
    focused party, its partners and the prominent parties (or among everyone for `all`)."""
    live = on_date(world.registry.agreements, at)
    involved = {p for ag, _ in live for p in ag.parties}
    core = [p for p in dict.fromkeys((node_party, *PROMINENT)) if p in world.parties]
    if focus == "all":
        shown = set(involved) | set(core)
    else:
        shown = {focus, *core}
        for ag, _ in live:
            if focus in ag.parties:
                shown.update(ag.parties)
    links_of: dict[str, set[str]] = defaultdict(set)
    drawn: list[tuple[Agreement, Status, str, str]] = []
    for ag, st in sorted(live, key=lambda x: (x[0].kind.value, x[0].id)):
        for a, b in _pairs(ag):
            if a in shown and b in shown:
                drawn.append((ag, st, a, b))
                links_of[a].add(b)
                links_of[b].add(a)
    core = [p for p in core if p in shown]
    outer = sorted(shown - set(core))
    canvas = layout.Canvas()
    pos = layout.circular_layout(core, outer, {k: frozenset(v) for k, v in links_of.items()})
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (_, _, a, b) in enumerate(drawn):
        by_pair[(min(a, b), max(a, b))].append(i)
    bend_of: dict[int, float] = {}
    for (lo, _hi), idxs in by_pair.items():
        for i, bend in zip(idxs, layout.bends(len(idxs)), strict=True):
            # Bends are measured from the pair's lower code, whichever way the edge was listed.
            bend_of[i] = bend if drawn[i][2] == lo else -bend
    links = []
    count: dict[str, int] = defaultdict(int)
    for i, (ag, st, a, b) in enumerate(drawn):
        d, mid = layout.edge_path(pos[a], pos[b], bend_of[i])
        both_core = a in core and b in core
        labelled = st in LABELLED or (both_core and st in PRE_FORCE)
        count[a] += 1
        count[b] += 1
        links.append(
            Link(
                ag.id,
                ag.title,
                ag.kind.value,
                st.value,
                a,
                b,
                d,
                round(mid.x, 1),
                round(mid.y, 1),
                labelled,
                st in IN_FORCE_STATES,
                both_core,
            )
        )
    dots = []
    for code in [*core, *outer]:
        p = pos[code]
        role = "self" if code == node_party else ("core" if code in core else "outer")
        r = {"self": 27.0, "core": 24.0, "outer": 12.0}[role]
        lab, anchor = (
            (layout.Point(p.x, p.y + 4), "middle")
            if role != "outer"
            else layout.label_anchor(p, canvas.centre, r + 5)
        )
        dots.append(
            Dot(
                code, world.parties[code].name, p.x, p.y, r, role, lab.x, lab.y, anchor, count[code]
            )
        )
    seen: set[str] = set()
    rows = []
    for ag, st, _a, _b in drawn:
        if ag.id in seen:
            continue
        seen.add(ag.id)
        rows.append(
            Row(
                ag.id,
                ag.title,
                ag.kind.value,
                st.value,
                "–".join(ag.parties),
                ag.hub,
                _since(ag, at),
                ag.illustrative,
            )
        )
    rows.sort(
        key=lambda r: (r.status not in IN_FORCE_STATES, r.kind, r.parties, r.hub or "", r.agreement)
    )
    links.sort(key=lambda link: link.core)  # the prominent parties' links are drawn on top
    return Network(at, focus, tuple(dots), tuple(links), tuple(rows), canvas)


_cache: dict[tuple[object, ...], Network] = {}


def network(ctx: Ctx, at: date, focus: str) -> Network:
    """Returns the network for the node on `at`, cached per registry version."""
    version, world = ctx.node.world()
    key = (ctx.node.store.url, version, ctx.node.party, at, focus)
    found = _cache.get(key)
    if found is None:
        if len(_cache) > 512:
            _cache.clear()
        found = build(world, ctx.node.party, at, focus)
        _cache[key] = found
    return found


_dates: dict[tuple[object, ...], tuple[date, ...]] = {}


def timeline_dates(ctx: Ctx) -> tuple[date, ...]:
    """Returns every date on which some agreement's status changes, plus today, in order."""
    version, world = ctx.node.world()
    key = (ctx.node.store.url, version, ctx.node.today())
    found = _dates.get(key)
    if found is None:
        days = {ev.date for ag in world.registry.agreements for ev in ag.events}
        days.add(ctx.node.today())
        days.update(d for d, _ in KEY_EVENTS)
        found = tuple(sorted(days))
        _dates.clear()
        _dates[key] = found
    return found


def _focus(ctx: Ctx) -> str:
    focus = ctx.param("focus").upper() or ctx.node.party
    if focus == "ALL":
        return "all"
    ctx.world().party(focus)  # NotFound (404) for an unknown party
    return focus


@page
def network_page(ctx: Ctx) -> Response:
    """The network page on `?at=` (default today), focused on `?focus=` (default this node)."""
    at = ctx.date_param()
    focus = _focus(ctx)
    net = network(ctx, at, focus)
    days = sorted(set(timeline_dates(ctx)) | {at})
    world = ctx.world()
    return ctx.render(
        "network.html",
        section="network",
        net=net,
        days=[d.isoformat() for d in days],
        # Each date as the reader's language writes it, for the timeline's script (network.js).
        day_texts=[i18n.date_text(d, "long") for d in days],
        index=days.index(at),
        keys=[(d, label, days.index(d)) for d, label in KEY_EVENTS],
        kinds=list(KINDS),
        parties=[(code, world.parties[code].name) for code in sorted(world.parties)],
    )


@page
def network_figure(ctx: Ctx) -> Response:
    """Only the figure and its table, for the timeline's script."""
    net = network(ctx, ctx.date_param(), _focus(ctx))
    return ctx.render("network_figure.html", net=net)
