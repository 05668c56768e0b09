"""The structural STIX checks on the ingest path (`accord.exchange.stix`), against a plain reading
of STIX 2.1 §2.7 (`type--UUID`) and §3.1 (types)."""

from __future__ import annotations

import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from accord.exchange.stix import check_object

REFERENCE_TYPE = re.compile(r"\A[a-z][a-z0-9-]{1,248}[a-z0-9]\Z")
REFERENCE_UUID = re.compile(r"\A[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\Z")
TS = "2024-01-01T00:00:00.000Z"


def obj(typ: str, oid: str) -> dict[str, object]:
    return {"type": typ, "id": oid, "spec_version": "2.1", "created": TS, "modified": TS}


def reference_ok(typ: str, oid: str) -> bool:
    head, sep, tail = oid.partition("--")
    return (
        bool(REFERENCE_TYPE.match(typ))
        and sep == "--"
        and head == typ
        and bool(REFERENCE_UUID.match(tail))
    )


types = st.one_of(
    st.sampled_from(["indicator", "x-acme-widget", "ab", "a", "Indicator", "indicator-", "-x"]),
    st.from_regex(REFERENCE_TYPE, fullmatch=True).map(lambda t: t[:40]),
)
tails = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: str(u) + "\n"),
    st.uuids().map(lambda u: str(u)[:-1]),
    st.uuids().map(lambda u: u.hex),
    st.text(alphabet="0123456789abcdef-g\n", max_size=40),
)


@given(typ=types, other=types, tail=tails, sep=st.sampled_from(["--", "-", "---", "__"]))
def test_an_id_is_accepted_exactly_when_it_is_type_dash_dash_uuid(
    typ: str, other: str, tail: str, sep: str
) -> None:
    for prefix in (typ, other):
        oid = prefix + sep + tail
        accepted = check_object(obj(typ, oid)) is None
        assert accepted == reference_ok(typ, oid), oid


def test_a_trailing_newline_is_not_part_of_a_valid_type_or_id() -> None:
    good = f"indicator--{uuid.uuid4()}"
    assert check_object(obj("indicator", good)) is None
    assert check_object(obj("indicator", good + "\n")) is not None
    assert check_object(obj("indicator\n", f"indicator\n--{uuid.uuid4()}")) is not None
