"""Structural checks of STIX 2.1 objects on the request path (fast; full stix2-validator checking is
a setting). Each check returns why an object is unusable, or None."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

from accord.errors import InputError

_TYPE = re.compile(r"[a-z][a-z0-9-]{1,248}[a-z0-9]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z")
SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip
UNVERSIONED = "1970-01-01T00:00:00.000Z"
#: The media type of TAXII 2.1 resources (TAXII 2.1 §1.6.8): what a server answers and what a
#: client sends and accepts.
MEDIA_TAXII = "application/taxii+json;version=2.1"


@functools.lru_cache(maxsize=65536)
def timestamp_key(value: str) -> str | None:
    """Returns a STIX/TAXII timestamp normalised to `YYYY-MM-DDTHH:MM:SS.ffffffZ` (sortable as
    text), or None when it is not an RFC 3339 UTC timestamp."""
    if not _TS.fullmatch(value):
        return None
    head = value[:19]
    try:
        datetime.fromisoformat(head)  # validates the calendar date and the clock (C speed)
    except ValueError:
        return None
    n = len(value)
    if n == 24:  # milliseconds, the common form
        return f"{head}.{value[20:23]}000Z"
    frac = value[20:-1] if n > 20 else ""
    return f"{head}.{(frac + '000000')[:6]}Z"


def parse_timestamp_us(value: str, name: str) -> int:
    """Returns a TAXII timestamp as microseconds since the epoch; InputError names the parameter."""
    key = timestamp_key(value)
    if key is None:
        raise InputError(f"{name}: {value[:60]!r} is not a timestamp (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    dt = datetime.strptime(key, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def format_us(us: int) -> str:
    """Returns microseconds since the epoch as a TAXII timestamp (`…T…​.ffffffZ`)."""
    dt = datetime.fromtimestamp(us // 1_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}Z"


_UNVERSIONED_KEY = timestamp_key(UNVERSIONED) or UNVERSIONED


@functools.lru_cache(maxsize=4096)
def _type_ok(typ: str) -> bool:
    return _TYPE.fullmatch(typ) is not None


@functools.lru_cache(maxsize=4096)
def _id_pattern(typ: str) -> re.Pattern[str]:
    # `type--` then a UUID, one compiled pattern per (already checked) type: one match per id.
    # An id's type ends at its first `--` (how stix2 reads it), so a type containing `--` has
    # no valid id.
    return re.compile(r"(?!)" if "--" in typ else re.escape(typ) + "--" + _UUID.pattern)


def _id_ok(oid: str, typ: str) -> bool:
    return _id_pattern(typ).fullmatch(oid) is not None


def check_object(obj: Any) -> str | None:
    """Returns why `obj` is not a usable STIX 2.1 object, or None when it is."""
    return inspect(obj)[0]


_NOT_OBJECT = ("an object must be a JSON object", "", "")


def inspect(obj: Any) -> tuple[str | None, str, str]:
    """Returns why `obj` is not a usable STIX 2.1 object (None when it is), its version
    (`version_of`) and that version's key (`timestamp_key`, else the version itself), in one pass
    over the object: ingest runs it on every posted object."""
    if not isinstance(obj, dict):
        return _NOT_OBJECT
    typ, oid = obj.get("type"), obj.get("id")
    created, modified = obj.get("created"), obj.get("modified")
    ver = _version(created, modified)
    why = _why(obj, typ, oid, created, modified)
    if why is not None:
        return why, ver, ver
    if modified:
        return None, ver, timestamp_key(modified) or ver
    if created:
        return None, ver, timestamp_key(created) or ver
    return None, ver, _UNVERSIONED_KEY


def _why(obj: dict[str, Any], typ: Any, oid: Any, created: Any, modified: Any) -> str | None:
    if not isinstance(typ, str) or not _type_ok(typ):
        return "type is missing or malformed"
    if not isinstance(oid, str):
        return "id is missing"
    if not _id_ok(oid, typ):
        return f"id {oid[:120]!r} is not '{typ}--<uuid>'"
    spec = obj.get("spec_version")
    if spec is None:
        if typ not in SCO_TYPES:
            return SPEC_MISSING
    elif spec != "2.1":
        return f"spec_version {str(spec)[:20]!r} is not supported (2.1)"
    if created is not None and (not isinstance(created, str) or timestamp_key(created) is None):
        return "created is not a timestamp"
    if modified is not None and (not isinstance(modified, str) or timestamp_key(modified) is None):
        return "modified is not a timestamp"
    if typ not in SCO_TYPES and typ != "marking-definition":
        if created is None or modified is None:
            return "created and modified are required"
    if typ == "marking-definition" and created is None:
        return "created is required"
    refs = obj.get("object_marking_refs")
    if refs is not None:
        if not isinstance(refs, list):
            return _REFS
        for r in refs:  # a plain loop: faster than all() over a generator for one or two refs
            if not isinstance(r, str):
                return _REFS
    return None


#: Why an object other than an SCO without spec_version is refused: it is STIX 2.0 (or broken).
SPEC_MISSING = (
    "spec_version is missing: STIX 2.0 is not accepted as it is "
    "(accord publish --stix20 upgrades it to 2.1)"
)
_REFS = "object_marking_refs must be a list of ids"


def version_of(obj: dict[str, Any]) -> str:
    """Returns the object's version string: `modified`, else `created`, else a fixed value for
    unversioned objects (TAXII §4.3.1 status-details `version`)."""
    return _version(obj.get("created"), obj.get("modified"))


def _version(created: Any, modified: Any) -> str:
    return str(modified or created or UNVERSIONED)
