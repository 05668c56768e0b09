"""Query parameters of the TAXII endpoints (§3.4): parsed once, malformed ones are a 400."""

from __future__ import annotations

from collections.abc import Sequence

from accord.errors import InputError
from accord.exchange.queries import Query
from accord.exchange.stix import parse_timestamp_us, timestamp_key

_ALLOWED = {
    "objects": {
        "added_after",
        "limit",
        "next",
        "match[id]",
        "match[type]",
        "match[version]",
        "match[spec_version]",
    },
    "object": {"added_after", "limit", "next", "match[version]", "match[spec_version]"},
    "delete": {"match[version]", "match[spec_version]"},
    "versions": {"added_after", "limit", "next", "match[spec_version]"},
}


def _one(params: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise InputError(f"{name} may be given once")
    return values[0] if values else None


def _list(value: str | None, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = tuple(value.split(","))
    if not all(items) or any(" " in i for i in items):
        raise InputError(f"{name}: {value[:80]!r} is not a comma-separated list without spaces")
    return items


def parse(
    params: Sequence[tuple[str, str]], endpoint: str, max_limit: int
) -> tuple[Query, int, str | None]:
    """Returns (query, limit, next token) for an endpoint's parameters; raises InputError (400)
    for a malformed or repeated one. Unknown `match[...]` fields are ignored (§3.4.1 MAY)."""
    for k, _ in params:
        if k not in _ALLOWED[endpoint] and not k.startswith("match["):
            if k in ("added_after", "limit", "next") or k.startswith("match"):
                raise InputError(f"{k} is not a filter of this endpoint")
    added_after = _one(params, "added_after")
    limit_text = _one(params, "limit")
    nxt = _one(params, "next")
    limit = max_limit
    if limit_text is not None:
        if not limit_text.isdigit() or int(limit_text) <= 0:
            raise InputError(f"limit: {limit_text[:40]!r} is not a positive integer")
        limit = min(int(limit_text), max_limit)
    versions = _list(_one(params, "match[version]"), "match[version]") or ("last",)
    if "all" in versions and len(versions) > 1:
        raise InputError("match[version]: 'all' cannot be combined with other values")
    if len(set(versions)) != len(versions):
        raise InputError("match[version]: a value is repeated")
    for v in versions:
        if v not in ("all", "first", "last") and timestamp_key(v) is None:
            raise InputError(f"match[version]: {v[:60]!r} is not last, first, all or a timestamp")
    spec_versions = _list(_one(params, "match[spec_version]"), "match[spec_version]")
    for sv in spec_versions:
        if sv not in ("2.0", "2.1"):
            raise InputError(f"match[spec_version]: {sv[:20]!r} is not a STIX spec version")
    ids = _list(_one(params, "match[id]"), "match[id]")
    types = _list(_one(params, "match[type]"), "match[type]")
    query = Query(
        ids=ids,
        types=types,
        versions=versions,
        spec_versions=spec_versions,
        added_after=None if added_after is None else parse_timestamp_us(added_after, "added_after"),
    )
    if nxt is not None and not nxt:
        raise InputError("next: an empty token")
    return query, limit, nxt
