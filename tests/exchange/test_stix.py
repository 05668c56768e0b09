"""The structural STIX checks on the ingest path (`accord.exchange.stix`), against a plain reading
of STIX 2.1 §2.7 (`type--UUID`) and §3.1 (types)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from accord.exchange.stix import check_object, timestamp_key

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


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    digits=st.integers(min_value=0, max_value=9),
)
def test_timestamp_keys_give_the_time_to_the_microsecond(moment: datetime, digits: int) -> None:
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    frac = f"{moment.microsecond:06d}000"[:digits]
    value = f"{text}.{frac}Z" if digits else f"{text}Z"
    expected_us = (f"{moment.microsecond:06d}000"[:digits] + "000000")[:6]
    assert timestamp_key(value) == f"{text}.{expected_us}Z"
    assert timestamp_key(value + "\n") is None
    assert timestamp_key(value[:-1]) is None  # no zone: not RFC 3339 UTC


def test_impossible_dates_and_clocks_are_not_timestamps() -> None:
    for bad in ("2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z",
                "2024-01-01T00:60:00Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567890Z",
                "2024-01-01 00:00:00Z", "+2024-01-01T00:00:00Z"):  # fmt: skip
        assert timestamp_key(bad) is None, bad
    assert timestamp_key("2024-02-29T23:59:59.999999999Z") == "2024-02-29T23:59:59.999999Z"
