"""The records a store lacks, against what was kept apart from it: a signed checkpoint (as
`accord audit checkpoint --json` prints it, or inside what `accord backup --json` prints) or an
export (`accord audit export`, JSON lines).

A store restored from a backup, or copied back by hand, holds its chain up to the backup and
whatever came after; `verify` alone then finds it intact. Held against a later checkpoint or
export, the records after the backup show: `missing` (numbers the store never reached again)
and `differs` (numbers it now holds with other records).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from accord.audit import checkpoints, log
from accord.errors import InputError
from accord.store import Store
from accord.store.audit_schema import audit_head, audit_log


@dataclass
class Comparison:
    """The store against a file: `kind` ("checkpoint" or "export"), the records `checked`,
    those it lacks as `missing` and `differs` (seqs), `problems` with the file itself, and
    `notes` explaining what was inferred."""

    file: str
    kind: str
    checked: int = 0
    missing: list[int] = field(default_factory=list)
    differs: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not (self.missing or self.differs or self.problems)

    def lacks(self) -> list[tuple[int, int]]:
        """The seqs the store lacks (missing or held with other records), as ranges."""
        return ranges(sorted({*self.missing, *self.differs}))

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "checked": self.checked,
            "intact": self.intact,
            "missing": self.missing,
            "differs": self.differs,
            "lacks": [list(r) for r in self.lacks()],
            "problems": self.problems,
            "notes": self.notes,
        }


def ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Returns sorted seqs as (first, last) runs."""
    out: list[tuple[int, int]] = []
    for s in seqs:
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def compare(store: Store, path: Path) -> Comparison:
    """Compares the store's chain with the checkpoint or export at `path`; InputError when the
    file is neither."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    first = text.lstrip()[:1]
    if first == b"":
        return Comparison(str(path), "export")  # the export of an empty log
    if first != b"{":
        raise InputError(f"{path} is neither a signed checkpoint nor an audit export")
    try:
        whole = orjson.loads(text)
    except orjson.JSONDecodeError:
        whole = None  # JSON lines: an export
    if isinstance(whole, dict) and "checkpoint" in whole and "out" in whole:
        whole = whole["checkpoint"]  # what `accord backup --json` printed: its checkpoint
        if whole is None:
            out = Comparison(str(path), "checkpoint")
            out.notes.append("the backup's audit log was empty: it holds the store to nothing")
            return out
    if isinstance(whole, dict) and "signature" in whole:
        return _against_checkpoint(store, str(path), checkpoints.parse(whole))
    return _against_export(store, str(path), text.splitlines())


def _head(store: Store) -> int:
    with store.read() as conn:
        head = conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar()
    return int(head or 0)


def _against_checkpoint(store: Store, path: str, cp: checkpoints.Checkpoint) -> Comparison:
    out = Comparison(path, "checkpoint", checked=1)
    if not checkpoints.check_signature(cp):
        out.problems.append(f"the checkpoint of record {cp.seq} does not verify")
        return out
    own = checkpoints.public_key_hex(store)
    if cp.public_key != own:
        out.problems.append(
            f"the checkpoint was signed by another key ({cp.public_key[:16]}…) than this "
            f"store's ({own[:16]}…)"
        )
        return out
    head = _head(store)
    with store.read() as conn:
        held = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == cp.seq)).scalar()
    if held == cp.hash:
        return out  # the chain passes through it: `verify` holds every record before it
    # The signed record is gone. A restore recorded before it explains from where.
    since = None
    for r in log.restores(store):
        if r.from_seq < cp.seq:
            since = r.from_seq
    if since is None:
        if held is not None:
            out.differs.append(cp.seq)
        out.missing.extend(range(head + 1, cp.seq + 1))
        out.notes.append(
            f"record {cp.seq} as signed is not in the store; records before it may differ too "
            "(an export names each one)"
        )
        return out
    out.differs.extend(range(since + 1, min(head, cp.seq) + 1))
    out.missing.extend(range(max(head, since) + 1, cp.seq + 1))
    out.notes.append(
        f"the store was restored from a backup at record {since}: "
        f"records {since + 1} to {cp.seq} as signed are not in it"
    )
    return out


def _file_records(lines: list[bytes], path: str, out: Comparison) -> Iterator[tuple[int, str]]:
    # Each record of the export with its hash recomputed: a file whose own chain does not
    # hold is named, and compared no further than it holds.
    prev = None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r: Any = orjson.loads(line)
            seq, h = int(r["seq"]), str(r["hash"])
            body = orjson.dumps(r["body"], option=orjson.OPT_SORT_KEYS).decode()
            again = log.record_hash(
                str(r["prev"]), seq, int(r["at"]), r["kind"], r["actor"], r["subject"], body
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            out.problems.append(f"{path}:{n} is not an audit record")
            return
        if again != h or (prev is not None and str(r["prev"]) != prev):
            out.problems.append(f"{path}:{n}: record {seq} does not hold in the file's own chain")
            return
        prev = h
        yield seq, h


def _against_export(store: Store, path: str, lines: list[bytes]) -> Comparison:
    out = Comparison(path, "export")
    records = _file_records(lines, path, out)
    with store.read() as conn:
        rows = iter(
            conn.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq)
            ).yield_per(5000)
        )
        ours = next(rows, None)
        for seq, h in records:
            out.checked += 1
            while ours is not None and int(ours[0]) < seq:
                ours = next(rows, None)
            if ours is None or int(ours[0]) != seq:
                out.missing.append(seq)
            elif ours[1] != h:
                out.differs.append(seq)
    return out
