"""Structural checks of STIX 2.1 objects on the request path (fast; full stix2-validator checking is
a setting). Each check returns why an object is unusable, or None."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

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


@functools.lru_cache(maxsize=4096)
def _type_ok(typ: str) -> bool:
    return _TYPE.fullmatch(typ) is not None


def _id_ok(oid: str, typ: str) -> bool:
    # `type--` then a UUID, with the type already known (ingest's hot loop: no regex over the type).
    n = len(typ)
    return (
        len(oid) == n + 38
        and oid.startswith(typ)
        and oid[n : n + 2] == "--"
        and _UUID.fullmatch(oid, n + 2) is not None
    )


def check_object(obj: Any) -> str | None:
    """Returns why `obj` is not a usable STIX 2.1 object, or None when it is."""
    if not isinstance(obj, dict):
        return "an object must be a JSON object"
    typ, oid = obj.get("type"), obj.get("id")
    if not isinstance(typ, str) or not _type_ok(typ):
        return "type is missing or malformed"
    if not isinstance(oid, str):
        return "id is missing"
    if not _id_ok(oid, typ):
        return f"id {oid[:120]!r} is not '{typ}--<uuid>'"
    spec = obj.get("spec_version")
    if typ not in SCO_TYPES and spec is None:
        return "spec_version is missing (STIX 2.0 objects are not accepted)"
    if spec is not None and spec != "2.1":
        return f"spec_version {str(spec)[:20]!r} is not supported (2.1)"
    for key in ("created", "modified"):
        value = obj.get(key)
        if value is not None and (not isinstance(value, str) or timestamp_key(value) is None):
            return f"{key} is not a timestamp"
    if typ not in SCO_TYPES and typ != "marking-definition":
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


def version_of(obj: dict[str, Any]) -> str:
    """Returns the object's version string: `modified`, else `created`, else a fixed value for
    unversioned objects (TAXII §4.3.1 status-details `version`)."""
    return str(obj.get("modified") or obj.get("created") or UNVERSIONED)
