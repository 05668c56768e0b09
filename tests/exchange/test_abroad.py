"""`accord.exchange.abroad`: the read path's fast form (`partner_bodies`) is exactly the rows form
(`partner_rows`), and nothing served names a national marking id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from accord.exchange import abroad
from accord.exchange.abroad import Form
from accord.exchange.queries import Row

NATIONAL = [f"marking-definition--0000000{i}-0000-5000-8000-000000000000" for i in range(3)]
PARTNER = [f"marking-definition--1111111{i}-0000-5000-8000-000000000000" for i in (0, 0, 1)]
GROUPED = {
    i: Form(
        "KOR" if i else "JPN",
        NATIONAL[i].encode(),
        PARTNER[i].encode(),
        b'{"id":"' + PARTNER[i].encode() + b'"}',
        NATIONAL[i],
    )
    for i in range(3)
}


@st.composite
def rows(draw: st.DrawFn) -> list[Row]:
    out = []
    for n in range(draw(st.integers(0, 12))):
        marking = draw(st.integers(0, 4))  # 3 and 4: markings without groups
        definition = draw(st.booleans())
        if definition and marking < 3:
            sid = NATIONAL[marking]
        elif definition:
            sid = draw(st.sampled_from(PARTNER))  # a stored plain definition
        else:
            sid = f"indicator--{n:08d}-0000-4000-8000-000000000000"
        ref = NATIONAL[marking] if marking < 3 else "marking-definition--x"
        body = ('{"id":"' + sid + '","object_marking_refs":["' + ref + '"]}').encode()
        out.append(Row(n, sid, "v", n, marking, body))
    return out


@given(rows(), st.sampled_from(["JPN", "USA"]))
def test_the_fast_form_is_the_rows_form(page: list[Row], party: str) -> None:
    slow = abroad.partner_rows(page, GROUPED, party)
    assert abroad.partner_bodies(page, GROUPED, party) == [r.body for r in slow]
    served = b"".join(r.body for r in slow)
    for form in GROUPED.values():
        if form.originator != party:
            assert form.national not in served
    ids = [r.stix_id for r in slow if r.stix_id.startswith("marking-definition--")]
    assert len(ids) == len(set(ids))  # each definition once a page
