"""The rule codes of PRODUCT.md §3 that the releasability engine decides (R1–R9)."""

from __future__ import annotations

from enum import StrEnum


class Rule(StrEnum):
    """A rule code, exactly as PRODUCT.md §3 spells it."""

    IN_FORCE = "IN_FORCE"  # R1
    LEVEL_MAPPED = "LEVEL_MAPPED"  # R2
    TOPIC_SCOPE = "TOPIC_SCOPE"  # R3
    PURPOSE = "PURPOSE"  # R4
    ORIGINATOR_RESTRICTION = "ORIGINATOR_RESTRICTION"  # R5
    THIRD_PARTY = "THIRD_PARTY"  # R6
    HUB_ROUTE = "HUB_ROUTE"  # R7
    NO_RECALL = "NO_RECALL"  # R8
    USER_ACCESS = "USER_ACCESS"  # R9


#: R-number of each code, for explanations ("R2 LEVEL_MAPPED").
NUMBER: dict[Rule, str] = {rule: f"R{i + 1}" for i, rule in enumerate(Rule)}
_INDEX: dict[Rule, int] = {rule: i for i, rule in enumerate(Rule)}


def ordered(rules: set[Rule] | frozenset[Rule]) -> tuple[Rule, ...]:
    """Returns the rules in PRODUCT.md order (R1 first): deterministic output for a set."""
    return tuple(sorted(rules, key=_INDEX.__getitem__))


def code(rule: Rule) -> str:
    """Returns `R2 LEVEL_MAPPED` for Rule.LEVEL_MAPPED."""
    return f"{NUMBER[rule]} {rule.value}"
