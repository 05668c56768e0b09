"""Originator signatures that survive the hub: signed provenance of item versions.

Every item version a node originates is vouched for by its originator's signature (PRODUCT.md §8;
KR–JP GSOMIA Art. 12, protected transfer; the originator's control after release, domain.md
§1.2). One public-key operation per object would cost more than the whole of a pull
(BENCHMARKS.md), so a node signs **one provenance object per envelope and release marking**: an
STIX 2.1 `note` (§4.12: a note `object_refs` the items it is about) whose property extension
(`PROVENANCE_EXTENSION`, STIX 2.1 §7.3) lists, for each item version stored under that marking,
its id, version and the SHA-256 of its canonical form, with the marking it was released under;
the signature covers the extension. A standard object, so every STIX 2.1 tool (taxii2-client,
the stix2 library, validators) reads it as a note. The provenance object is stored beside the items, under the same
release marking, so exactly those who may read the items read it, and it travels with them
through every hop (push, pull, TAXII reads, hubs) unchanged.

**Canonical form.** An object's canonical form is its JSON without `object_marking_refs`,
with keys sorted and no whitespace, as orjson writes it (`canonical`). For STIX objects — ASCII
property names, integer numbers — that is exactly RFC 8785 (JCS), which a test checks on generated
objects; it is ~20 times faster than a general JCS implementation. The release marking is left
out of the hash and signed beside it (`x_marking`): what leaves the node is the marking's partner
form (need-to-know groups removed, `accord.exchange.abroad`), which is what the originator signs.
accord relays the originator's own marking unchanged through a hub (the receiver maps levels
through its own equivalence table on reading, never by re-marking the object), so the receiver
checks that the object names exactly the signed marking.

**What a verified item proves** (docs/security.md): the originator's key signed this content under
this marking; no hub or partner altered a byte of it (apart from the markings list) or invented
it. It does not prove the item is current (a later version may exist), nor anything about
who else holds it (receipts do that, `accord.trust.receipts`).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.trust.keys import PartyKey, fingerprint, public_hex

PROVENANCE_TYPE = "note"
PROVENANCE_EXTENSION = "extension-definition--5c4f3b1a-9d2e-4f6a-8b7c-1e0d2a3b4c5d"
_PREFIX = "note--"
_UNSIGNED = "object_marking_refs"


def canonical(obj: Mapping[str, Any]) -> bytes:
    """Returns the object's canonical form (module docstring): its JSON without
    `object_marking_refs`, keys sorted, no whitespace."""
    if _UNSIGNED in obj:
        obj = dict(obj)
        del obj[_UNSIGNED]
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def content_hash(obj: Mapping[str, Any]) -> str:
    """Returns the hex SHA-256 of the object's canonical form."""
    return hashlib.sha256(canonical(obj)).hexdigest()


def is_provenance(obj: Any) -> bool:
    """True for a note carrying accord's provenance extension."""
    if not isinstance(obj, dict) or obj.get("type") != PROVENANCE_TYPE:
        return False
    exts = obj.get("extensions")
    return isinstance(exts, dict) and isinstance(exts.get(PROVENANCE_EXTENSION), dict)


def _ext(body: Mapping[str, Any]) -> dict[str, Any]:
    ext: dict[str, Any] = body["extensions"][PROVENANCE_EXTENSION]
    return ext


def _signed_part(ext: Mapping[str, Any]) -> bytes:
    return orjson.dumps(
        {k: v for k, v in ext.items() if k != "signature"}, option=orjson.OPT_SORT_KEYS
    )


def _stamp(us: int) -> str:
    t = time.gmtime(us // 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{(us % 1_000_000) // 1000:03d}Z"


def build(
    originator: str,
    key: Ed25519PrivateKey,
    marking: str,
    stored_marking: str,
    entries: Sequence[tuple[str, str, str]],
    at: int,
) -> dict[str, Any]:
    """Returns the provenance note `originator` signs for `entries` ((id, version, content
    hash) of item versions) released under `marking` (the partner form's id); it is stored under
    `stored_marking` (the marking's id at this node), so those who may read the items read it."""
    public = public_hex(key)
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "originator": originator,
        "key": fingerprint(public),
        "at": at,
        "marking": marking,
        "entries": [list(e) for e in entries],
    }
    signed = _signed_part(ext)
    digest = hashlib.sha256(signed).digest()
    ext["signature"] = key.sign(signed).hex()
    stamp = _stamp(at)
    return {
        "type": PROVENANCE_TYPE,
        "spec_version": "2.1",
        "id": _PREFIX + str(uuid.UUID(bytes=digest[:16], version=4)),
        "created": stamp,
        "modified": stamp,
        "abstract": "accord provenance",
        "content": (
            f"{originator}'s node signed these {len(entries)} item version(s) "
            f"with its key {ext['key']}"
        ),
        "object_refs": sorted({e[0] for e in entries}),
        "extensions": {PROVENANCE_EXTENSION: ext},
        "object_marking_refs": [stored_marking],
    }


class Signed(NamedTuple):
    """What one verified note says of all the item versions it lists: who signed, under which
    marking (its partner form's id), and the note's id."""

    originator: str
    marking: str
    provenance: str


#: An item version's entry: the content hash signed for it and the note that signed it.
Entry = tuple[str, Signed]


def vouched_by(body: Mapping[str, Any]) -> dict[tuple[str, str], Entry]:
    """Returns (id, version) → entry for each item version a verified note vouches for."""
    ext = _ext(body)
    signed = Signed(ext["originator"], ext["marking"], body["id"])
    return {(sid, ver): (h, signed) for sid, ver, h in ext["entries"]}


def first_entry(body: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """Returns (id, version, originator) of a verified note's first entry, the key of its first
    row in `provenance_entries`."""
    ext = _ext(body)
    entries = ext["entries"]
    return (entries[0][0], entries[0][1], ext["originator"]) if entries else None


def entry_rows(body: Mapping[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """Returns the note's entries as rows of `provenance_entries` (id, version, originator,
    hash, marking, note id)."""
    ext = _ext(body)
    originator, marking, pid = ext["originator"], ext["marking"], body["id"]
    return [(e[0], e[1], originator, e[2], marking, pid) for e in ext["entries"]]


def _well_formed(entries: list[Any]) -> bool:
    """True when every entry is a list of three strings (id, version, hash): one pass, no
    generator per entry (a note lists thousands)."""
    for e in entries:
        if type(e) is not list or len(e) != 3:
            return False
        a, b, c = e
        if type(a) is not str or type(b) is not str or type(c) is not str:
            return False
    return True


def verify(body: Mapping[str, Any], keys: Mapping[str, Sequence[PartyKey]]) -> str | None:
    """Returns None when the provenance note's signature verifies with a key pinned for its
    originator that was current when it signed, else why not (`keys`: party → its keys)."""
    try:
        ext = _ext(body)
        originator, fp, at = ext["originator"], ext["key"], ext["at"]
        signature = bytes.fromhex(ext["signature"])
        entries, marking = ext["entries"], ext["marking"]
    except (KeyError, TypeError, ValueError):
        return "a provenance note needs originator, key, at, marking, entries and signature"
    if not (
        isinstance(originator, str)
        and isinstance(fp, str)
        and isinstance(at, int)
        and isinstance(marking, str)
        and isinstance(entries, list)
        and entries
        and _well_formed(entries)
    ):
        return "a provenance note's fields are malformed"
    candidates = [k for k in keys.get(originator, ()) if k.fingerprint == fp]
    if not candidates:
        return f"no key {fp[:23]}… is pinned for {originator[:16]}"
    key = candidates[0]
    if not key.valid_at(at):
        return f"signed with {originator}'s key after it was retired"
    signed = _signed_part(ext)
    if not key.verifies(signed, signature):
        return f"the signature does not verify with {originator}'s pinned key"
    if body.get("id") != _PREFIX + str(
        uuid.UUID(bytes=hashlib.sha256(signed).digest()[:16], version=4)
    ):
        return "a provenance note's id is not derived from what was signed"
    return None
