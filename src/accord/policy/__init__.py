"""accord's releasability engine (PRODUCT.md §3, R1–R9): pure functions over an indexed registry.

    from accord.policy import World, Marking, decide
    world = World(registry)
    d = decide(Marking.of("KOR", "II", ["dprk-nuclear"]), "JPN", date(2015, 6, 1), world=world)
    d.allowed, d.rules, d.route, d.recipient_level, d.explanation

`policy` never writes to a store and never imports the CLI or a web framework.
"""

from .access import AccessDecision, User, may_access
from .decide import Decision, Hop, RecordedConsent, decide
from .marking import DEFAULT_PURPOSE, Marking
from .rules import Rule
from .table import ReleaseTable
from .whatif import PairDiff, WorldDiff, diff, marking_universe
from .world import World

__all__ = [
    "DEFAULT_PURPOSE",
    "AccessDecision",
    "Decision",
    "Hop",
    "Marking",
    "PairDiff",
    "RecordedConsent",
    "ReleaseTable",
    "Rule",
    "User",
    "World",
    "WorldDiff",
    "decide",
    "diff",
    "marking_universe",
    "may_access",
]
