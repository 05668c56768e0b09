"""The web interface's pure parts: the graph layout, the network model on the demonstration
registry, the what-if preset against examples/whatif-kor-jpn-2011.yaml, form parsing, the ageing
chart, redaction in the audit view, redirects after sign-in, and the session signer."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from starlette.requests import Request

from accord.errors import InputError
from accord.exchange.redaction import HIDDEN, HIDDEN_MARKING, Sight, redact_record
from accord.i18n import number_text as digits
from accord.policy.world import World
from accord.registry import files, service
from accord.store import Store
from accord.web import layout
from accord.web.auth import safe_next
from accord.web.ledger import ageing_charts
from accord.web.network import build
from accord.web.sessions import Session, Sessions, shared_key
from accord.web.whatif import _BLANK, PRESETS, hypothesis, parse_rows

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "whatif-kor-jpn-2011.yaml"


@pytest.fixture(scope="module")
def world() -> World:
    registry, _ = files.read_file(service.scenario_path())
    return World(registry)


def test_circular_layout_is_deterministic_with_the_core_inside() -> None:
    links = {"AUS": frozenset({"KOR"}), "GBR": frozenset({"JPN"}), "CHN": frozenset()}
    a = layout.circular_layout(["KOR", "JPN", "USA"], ["AUS", "GBR", "CHN", "FRA"], links)
    b = layout.circular_layout(["KOR", "JPN", "USA"], ["AUS", "GBR", "CHN", "FRA"], links)
    assert a == b
    canvas = layout.Canvas()
    c = canvas.centre
    for code in ("KOR", "JPN", "USA"):
        assert math.hypot(a[code].x - c.x, a[code].y - c.y) == pytest.approx(canvas.inner, abs=0.2)
    for code in ("AUS", "GBR", "CHN", "FRA"):
        assert math.hypot(a[code].x - c.x, a[code].y - c.y) == pytest.approx(canvas.outer, abs=0.2)
    assert a["KOR"].y < c.y  # the first core party sits at the top
    assert a["KOR"].x == pytest.approx(c.x)


def test_edge_paths_and_bends() -> None:
    d, mid = layout.edge_path(layout.Point(0, 0), layout.Point(100, 0), 0)
    assert d == "M0.0,0.0 L100.0,0.0" and mid == layout.Point(50, 0)
    d, mid = layout.edge_path(layout.Point(0, 0), layout.Point(100, 0), 10)
    assert d.startswith("M0.0,0.0 Q") and mid == layout.Point(50, 10)
    assert layout.bends(1) == [0.0]
    assert layout.bends(3) == [-14.0, 0.0, 14.0]


@pytest.mark.parametrize(
    ("day", "status"),
    [
        ("2011-01-09", None),
        ("2016-06-01", "negotiating"),
        ("2016-11-22", "initialled"),
        ("2016-11-23", "in-force"),
        ("2019-08-23", "notice-given"),
        ("2019-11-22", "notice-suspended"),
        ("2019-11-23", "notice-suspended"),  # the notice never took effect
        ("2023-03-21", "in-force"),
    ],
)
def test_the_korea_japan_edge_on_each_date(world: World, day: str, status: str | None) -> None:
    net = build(world, "KOR", date.fromisoformat(day), "KOR")
    found = [link.status for link in net.links if link.agreement == "kor-jpn-gsomia-2016"]
    assert found == ([] if status is None else [status])


def test_network_model_on_the_demonstration_registry(world: World) -> None:
    at = date(2019, 11, 22)
    everyone = build(world, "KOR", at, "all")
    kor = build(world, "KOR", at, "KOR")
    assert {d.code for d in kor.dots} <= {d.code for d in everyone.dots}
    assert {"KOR", "JPN", "USA"} <= {d.code for d in kor.dots if d.role != "outer"}
    assert all(link.status != "none" for link in everyone.links)
    # TISA is drawn from its hub to each member, never directly between Korea and Japan.
    tisa = {frozenset((link.a, link.b)) for link in everyone.links if link.agreement == "tisa-2014"}
    assert tisa == {frozenset({"USA", "KOR"}), frozenset({"USA", "JPN"})}
    # Every agreement in the table is drawn, and the table counts what is in force.
    assert {r.agreement for r in kor.rows} == {link.agreement for link in kor.links}
    assert kor.in_force == sum(1 for r in kor.rows if r.status.startswith(("in-force", "notice")))
    # Nothing before the first agreement.
    assert build(world, "KOR", date(1950, 1, 1), "all").links == ()


def test_the_preset_is_the_example_file(world: World) -> None:
    values = dict(_BLANK, **{k: v for k, v in PRESETS["kor-jpn-2011"].items() if k in _BLANK})
    mine = hypothesis(values).agreements[0]
    theirs = files.read_file(EXAMPLE)[0].agreements[0]
    assert mine.id == theirs.id and mine.title == theirs.title
    assert (mine.kind, mine.parties, mine.hub) == (theirs.kind, theirs.parties, theirs.hub)
    assert mine.scope == theirs.scope
    assert mine.equivalence == theirs.equivalence
    assert [(e.date, e.kind) for e in mine.events] == [(e.date, e.kind) for e in theirs.events]
    world.with_additions(hypothesis(values))  # accepted by the registry checks


def test_form_parsing() -> None:
    assert parse_rows("KOR=II JPN=GOKUHI\n\nkor:iii, jpn:hi") == (
        {"KOR": "II", "JPN": "GOKUHI"},
        {"KOR": "III", "JPN": "HI"},
    )
    with pytest.raises(InputError, match="row 1"):
        parse_rows("KOR II")
    with pytest.raises(InputError, match="signing or entry-into-force"):
        hypothesis(dict(_BLANK, ag_parties="KOR JPN"))
    assert digits("19600000") == "19,600,000"
    assert digits("-69700.00 USD") == "-69,700.00 USD"
    assert digits("—") == "—"


def test_ageing_chart_per_currency() -> None:
    rows = [
        {"direction": "payable", "partner": "USA", "currency": "USD", "current": 0,
         "1-29": 0, "30-89": 6970000, "90-179": 0, "180-364": 0, "365+": 0, "total": 6970000},
        {"direction": "receivable", "partner": "AUS", "currency": "KRW", "current": 100,
         "1-29": 0, "30-89": 0, "90-179": 300, "180-364": 0, "365+": 0, "total": 400},
    ]  # fmt: skip
    charts = ageing_charts(rows)
    assert [c.currency for c in charts] == ["KRW", "USD"]
    krw = charts[0].bars[0]
    assert [s.bucket for s in krw.segments] == ["current", "90-179"]
    assert krw.segments[1].width == pytest.approx(3 * krw.segments[0].width, rel=0.02)
    assert "300 KRW" in charts[0].summary


def test_redaction() -> None:
    item = "indicator--11111111-2222-4333-8444-555555555555"
    mark = "marking-definition--11111111-2222-4333-8444-555555555555"
    other = "indicator--99999999-2222-4333-8444-555555555555"
    _, out = redact_record(
        "registry-change", "registry", {"ids": [item, mark, other]}, Sight(frozenset({other}))
    )
    assert out == {"ids": [HIDDEN, HIDDEN_MARKING, other]}


def _request(root: str = "/ui") -> Request:
    return Request({"type": "http", "root_path": root, "path": root + "/login", "headers": []})


def test_after_sign_in_only_paths_inside_the_interface() -> None:
    r = _request()
    assert safe_next(r, "/ui/items?topic=wmd") == "/ui/items?topic=wmd"
    for bad in ("https://evil.example/ui/", "//evil.example", "/ui/../admin", "/other", "",
                None, "/ui/login", "/ui\\evil"):  # fmt: skip
        assert safe_next(r, bad) == "/ui/network"


def test_sessions_share_one_key_per_store(store: Store) -> None:
    key = shared_key(store)
    assert shared_key(store) == key
    a, b = Sessions(store), Sessions(store)
    assert a.fingerprint("hash") == b.fingerprint("hash") != a.fingerprint("other")
    s = Session.signed_in("clerk", a.fingerprint("hash"))
    assert s.csrf_ok(s.csrf) and not s.csrf_ok("x") and not s.csrf_ok(None)
    assert Session.anonymous().csrf != Session.anonymous().csrf


def test_the_suite_writes_its_screenshots_outside_the_tracked_tree() -> None:
    """Running the suite changes no tracked file: screenshots go to a temporary folder unless
    `scripts/screenshots` asks for docs/screenshots (ACCORD_SCREENSHOTS)."""
    import os

    from ui_support import SCREENSHOTS

    root = Path(__file__).resolve().parents[2]
    asked = os.environ.get("ACCORD_SCREENSHOTS")
    assert asked or root not in SCREENSHOTS.resolve().parents, SCREENSHOTS
