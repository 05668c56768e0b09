"""Who may put which items into this node: the check at the receiving end (both ends check), used
by TAXII POST and by pulls alike.

- A partner delivers only what it may release to this node: its own items, or a third party's that
  the engine lets it pass on directly (R6 consent, R7 hub relay) — never an item naming this node's
  own party as originator. Anything else is refused and reported, never stored.
- A user of this node publishes the node's own items, at a level it is cleared for (R9).
"""

from __future__ import annotations

from datetime import date

from accord.errors import InputError
from accord.exchange.ingest import PublishCheck
from accord.policy.access import User, may_access
from accord.policy.decide import decide
from accord.policy.marking import Marking
from accord.policy.world import World


def partner_may_deliver(world: World, node_party: str, sender: str, today: date) -> PublishCheck:
    """Returns the check for items delivered by partner `sender` to this node."""

    def check(m: Marking) -> str | None:
        try:
            world.check_marking(m)
        except InputError as exc:
            return f"release marking: {exc}"
        if m.originator == node_party:
            # Only this node speaks for its own party: an item claiming to be ours from a partner
            # is a forgery or a copy, and a copy of ours we hold already (PRODUCT.md §7).
            return f"{sender} may not deliver items that name {node_party} as originator"
        if m.originator == sender:
            return None
        d = decide(m, node_party, today, holder=sender, world=world)
        if d.direct:
            return None
        rules = ", ".join(r.value for r in d.rules)
        return f"{sender} may not release this {m.originator} item to {node_party} ({rules})"

    return check


def user_may_publish(world: World, node_party: str, user: User, today: date) -> PublishCheck:
    """Returns the check for items a user of this node publishes."""

    def check(m: Marking) -> str | None:
        try:
            world.check_marking(m)
        except InputError as exc:
            return f"release marking: {exc}"
        if m.originator != node_party:
            return f"a user of {node_party} publishes {node_party} items only (originator {m.originator})"
        if not may_access(user, m, today, world=world).allowed:
            return f"{user.name} is not cleared for {m.originator} {m.level} with these groups (R9)"
        return None

    return check
