"""Who may write what: the authority model over stored items (PRODUCT.md §7; docs/security.md).

Reading is decided by the rules (R1–R9); writing by authority. Every write path — TAXII Add Objects
and Delete, notices, federation pull, `accord publish`, the web publish page — names its writer as a
`Writer` and asks this module, so that one rule holds on every surface:

- **Ownership.** An object id has one owner, fixed when the node first stores it: the party that
  originated it (for the node's own items, the node's party, whose authority its publishing users
  and its host exercise). Ids are unique per node across collections.
- **Authority over an existing id.** A new version, a notice or a deletion takes effect on the
  owner's instance only from a writer with the owner's authority that may read the id's current
  version (`Target.OWNER`). A writer that may read it but lacks the authority is refused
  (`Target.REFUSED`): it learns nothing it could not read.
- **Polyinstantiation.** A writer that may not read the current version is told nothing: its write
  becomes its own instance of the id (`Target.OWN`), stored and answered exactly as a write of a
  fresh id would be, visible to that writer alone and never to anyone else, and recorded in the
  audit trail for those cleared for the original. Refusing only when the id exists would answer
  differently for a hidden id than for an absent one; multilevel-secure databases meet the same
  problem this way (docs/security.md, "Why polyinstantiation").
- **Roles gate writes.** A national user publishes (and deletes) only with a publishing role;
  logistics officers, auditors, operators and legal officers do not publish.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from accord.errors import Forbidden
from accord.principals import Principal

#: The roles whose holders publish the node's items (PRODUCT.md §7 "Roles gate writes").
PUBLISHING_ROLES = frozenset({"analyst"})

#: The writer kind of the node's own host: `accord publish` and first-run samples, run by whoever
#: administers the node (the root of trust: it holds the store itself).
HOST = "host"


@dataclass(frozen=True)
class Writer:
    """Who writes: `name` (the audit actor, and the key of its own instances), `party`, `kind`
    (partner | user | host), `view`, the marking rows it may read (None: every marking, the
    host), and `home`, the party of the node it writes to. `pulled`: this node itself storing
    what it read from a peer (federation pull), whose outcomes reach no one outside the node."""

    name: str
    party: str
    kind: str
    view: frozenset[int] | None
    home: str = ""  # the node's party
    pulled: bool = False
    #: How its deliveries' originator signatures are checked (accord.exchange.signatures):
    #: "" for the node's own people and host (what they originate is signed), "pinned" or
    #: "required" for a peer, "unverified" for a peer that is not an accord node.
    provenance: str = ""

    def reads(self, marking_row: int) -> bool:
        """True when the writer may read versions stored under this marking."""
        return self.view is None or marking_row in self.view

    @staticmethod
    def of(who: Principal, view: frozenset[int], home: str, signatures: str = "pinned") -> Writer:
        """A principal writing: a partner's deliveries are verified as `signatures` says
        (pinned | required), a national user's own items are signed."""
        if who.is_partner:
            return Writer(who.name, who.party, "partner", view, home, provenance=signatures)
        return Writer(who.name, who.party, "user", view, home)

    @staticmethod
    def host(name: str, party: str) -> Writer:
        return Writer(name, party, HOST, None, party)

    def names(self, marking_row: int, originator: str) -> bool:
        """True when a reference to the stored marking `marking_row` counts: a national user's to
        a marking it may not read, or a partner's to one of this node's own, counts as naming
        none, so the answer does not tell which release classes exist (a partner may deliver no
        item of this node's party in any case)."""
        if self.kind == "user":
            return self.reads(marking_row)
        if self.kind == "partner":
            return originator != self.home
        return True


def require_publisher(who: Principal) -> None:
    """Raises Forbidden unless `who` may publish on this node: a partner delivers (its own checks
    follow), a national user needs a publishing role."""
    if who.is_partner:
        return
    if not who.roles & PUBLISHING_ROLES:
        roles = ", ".join(sorted(PUBLISHING_ROLES))
        raise Forbidden(f"publishing needs a publishing role ({roles}); {who.name} holds none")


def has_authority(writer: Writer, owner: str, first_by: str) -> bool:
    """True when `writer` acts with the authority of `owner` over an id: the node's host and its
    publishing users for the node's own items; for a partner's items, that partner's nodes, or the
    node that first delivered the item (a relay acting under R6/R7 for the originator)."""
    if writer.kind in (HOST, "user"):
        # The gates before this (can_write, the publishing role, R9 at publish) admit only the
        # node's own people, so the node's party is the writer's.
        return owner == writer.party
    return writer.party == owner or writer.name == first_by


class Target(enum.Enum):
    """Where a write to an existing id goes."""

    OWNER = "owner"  # the owner's instance: a new version of the item
    OWN = "own"  # the writer's own instance (it may not read the current version)
    REFUSED = "refused"  # it may read the item but has no authority over it


def target(
    writer: Writer,
    *,
    owner: str,
    first_by: str,
    current_marking: int,
    has_own_instance: bool,
) -> Target:
    """Decides where `writer`'s write to an id that is stored goes (module docstring). A writer
    that already has an instance of its own keeps writing there."""
    if has_own_instance or not writer.reads(current_marking):
        return Target.OWN
    if has_authority(writer, owner, first_by):
        return Target.OWNER
    return Target.REFUSED


def refusal(item: str, owner: str) -> str:
    """The message of a refused write to an item the writer may read."""
    return (
        f"{item} belongs to {owner}: only its owner's authority adds versions, notices or deletions"
    )
