"""R9 USER_ACCESS: may a person at a node see an item (GSOMIA Art. 7; domain.md §6 rule 5).

A user sees an item only with a clearance (a level of the node's own scheme) at least the item's
level mapped into the node's scheme, and a need-to-know group the item names. Rank, appointment or
clearance alone never grants access. An unclassified item (rank 0 in the node's scheme) needs no
group. An item received from another party names none of its originator's groups (they never
leave the originator's node: `accord.exchange.abroad`); its need-to-know is the receiver's, by
subject: a group named after one of its topics. A node that holds no level for the item (no agreement maps it) denies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from accord.errors import NotFound
from accord.i18n import _, day, listing
from accord.policy.explain import topics_text

from .marking import Marking
from .rules import Rule
from .world import World


@dataclass(frozen=True)
class User:
    """A person at a node: `node` is the node's party, `clearance` a level of its scheme."""

    name: str
    node: str
    clearance: str
    groups: frozenset[str] = field(default_factory=frozenset)
    nationality: str | None = None


@dataclass(frozen=True)
class AccessDecision:
    """`allowed`; `rules` (USER_ACCESS); `level` — the item's level in the node's scheme;
    `explanation`."""

    allowed: bool
    rules: tuple[Rule, ...]
    level: str | None
    explanation: str


def may_access(user: User, marking: Marking, at: date, *, world: World) -> AccessDecision:
    """Decides R9 for `user` and `marking` on `at`; raises NotFound for an unknown node party or
    a clearance that is not a level of the node's scheme."""
    node = world.party(user.node)
    if not world.has_level(node.code, user.clearance):
        raise NotFound(
            f"{user.clearance!r} is not a level of {node.code} ({', '.join(node.level_codes())})"
        )
    world.check_marking(marking)
    level = world.holder_level(marking, node.code)
    who = f"{user.name} ({node.code} {user.clearance})"
    if level is None:
        return AccessDecision(
            False,
            (Rule.USER_ACCESS,),
            None,
            _(
                "DENIED: %(node)s holds %(originator)s %(level)s at no level of its own scheme, "
                "so %(who)s cannot be cleared for it (R9 USER_ACCESS)."
            )
            % {
                "node": node.code,
                "originator": marking.originator,
                "level": marking.level,
                "who": who,
            },
        )
    rank = world.rank(node.code, level)
    cleared = world.rank(node.code, user.clearance) >= rank
    need = rank == 0 or bool(marking.groups & user.groups)
    received = marking.originator != node.code and not marking.groups
    if received and not need:
        # An item from another party names none of its originator's groups (they never leave
        # its node): need-to-know for it is the receiver's, by subject — a group named after one
        # of its topics (GSOMIA Art. 7: access under the receiver's law).
        need = bool(marking.topics & user.groups)
    why = []
    if not cleared:
        why.append(
            _("clearance %(clearance)s is below the item's %(node)s level %(level)s")
            % {"clearance": user.clearance, "node": node.code, "level": level}
        )
    if not need and received:
        why.append(
            _(
                "no need-to-know: an item received from %(originator)s is read by a group named "
                "after one of its topics (%(topics)s); clearance alone never grants access "
                "(GSOMIA Art. 7)"
            )
            % {
                "originator": marking.originator,
                "topics": topics_text(sorted(marking.topics)) or _("none"),
            }
        )
    elif not need:
        why.append(
            _(
                "no need-to-know: the item names the groups %(groups)s; clearance alone never "
                "grants access (GSOMIA Art. 7)"
            )
            % {"groups": listing(sorted(marking.groups), _("none"))}
        )
    if why:
        text = _("DENIED: %(who)s may not see it on %(at)s: %(why)s.") % {
            "who": who,
            "at": day(at),
            "why": "; ".join(why),
        }
        return AccessDecision(False, (Rule.USER_ACCESS,), level, text)
    if received and rank > 0 and not (marking.groups & user.groups):
        text = _(
            "ALLOWED: %(who)s is cleared at or above %(level)s and holds a group named after one "
            "of its topics (need-to-know by subject) (R9 USER_ACCESS)."
        )
    else:
        text = _(
            "ALLOWED: %(who)s is cleared at or above %(level)s and shares a need-to-know group "
            "the item names (R9 USER_ACCESS)."
        )
    return AccessDecision(True, (Rule.USER_ACCESS,), level, text % {"who": who, "level": level})
