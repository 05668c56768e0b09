"""The structural STIX checks on the ingest path (`accord.exchange.stix`), against a plain reading
of STIX 2.1 §2.7 (`type--UUID`) and §3.1 (types)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from accord.exchange.stix import (
    SCO_TYPES,
    SPEC_MISSING,
    check_object,
    inspect,
    timestamp_key,
    version_of,
)

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
    # An id's type ends at its first "--": a type containing "--" has no valid id.
    assert check_object(obj("a--0", f"a--0--{uuid.uuid4()}")) is not None


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


def reference_why(obj: dict[str, object]) -> str | None:
    """The checks as first written (one test after another), the oracle for `inspect`."""
    typ, oid = obj.get("type"), obj.get("id")
    if not isinstance(typ, str) or not REFERENCE_TYPE.match(typ):
        return "type is missing or malformed"
    if not isinstance(oid, str):
        return "id is missing"
    if not reference_ok(typ, oid):
        return f"id {oid[:120]!r} is not '{typ}--<uuid>'"
    spec = obj.get("spec_version")
    sco = typ in SCO_TYPES
    if not sco and spec is None:
        return SPEC_MISSING
    if spec is not None and spec != "2.1":
        return f"spec_version {str(spec)[:20]!r} is not supported (2.1)"
    for key in ("created", "modified"):
        value = obj.get(key)
        if value is not None and (not isinstance(value, str) or timestamp_key(value) is None):
            return f"{key} is not a timestamp"
    if not sco and typ != "marking-definition":
        if obj.get("created") is None or obj.get("modified") is None:
            return "created and modified are required"
    if typ == "marking-definition" and obj.get("created") is None:
        return "created is required"
    refs = obj.get("object_marking_refs")
    if refs is not None and (
        not isinstance(refs, list) or not all(isinstance(r, str) for r in refs)
    ):
        return "object_marking_refs must be a list of ids"
    return None


stamps = st.one_of(
    st.none(),
    st.sampled_from(
        ["", TS, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123456789Z", "2023-02-29T00:00:00Z"]
    ),
    st.integers(),
    st.text(max_size=30),
)


@given(
    typ=st.sampled_from(["indicator", "marking-definition", "file", "x-acme-widget", "Bad"]),
    created=stamps,
    modified=stamps,
    spec=st.sampled_from([None, "2.1", "2.0", 2.1]),
    refs=st.one_of(st.none(), st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3)),
    good_id=st.booleans(),
)
def test_inspect_agrees_with_check_object_and_version_of(
    typ: str, created: object, modified: object, spec: object, refs: object, good_id: bool
) -> None:
    """`inspect` (ingest's one pass) gives exactly what the separate functions give."""
    o: dict[str, object] = {"type": typ, "id": f"{typ}--{uuid.uuid4()}" if good_id else "x"}
    for k, v in (("created", created), ("modified", modified), ("spec_version", spec),
                 ("object_marking_refs", refs)):  # fmt: skip
        if v is not None:
            o[k] = v
    why, ver, key = inspect(o)
    assert why == reference_why(o)
    assert ver == version_of(o)
    if why is None:
        assert key == (timestamp_key(ver) or ver)
    assert inspect([o]) == ("an object must be a JSON object", "", "")
