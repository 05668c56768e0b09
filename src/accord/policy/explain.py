"""Explanations a legal officer can check against the agreement texts.

Each reason names the agreement (its id and, where the registry records it, the article), the
date, the levels and the parties; `paragraph` joins them into the one-paragraph explanation a
`Decision` carries.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from accord.registry import lifecycle
from accord.registry.model import Agreement

from .marking import Marking
from .rules import Rule, code

if TYPE_CHECKING:  # imported for types only: decide imports this module
    from .decide import Decision, HopCheck
    from .world import World


def article(ag: Agreement, key: str) -> str:
    """Returns ` (Art. 4)` when the registry records which article of `ag` says `key`, else ''."""
    where = ag.articles.get(key)
    return f" ({where})" if where else ""


def not_in_force(world: World, ag: Agreement, missing: tuple[str, ...], at: date) -> str:
    """Returns why `ag` is no basis on `at`: itself or an underlying agreement not in force."""
    parts = []
    for aid in missing:
        other = world.agreements.get(aid)
        if other is None:
            parts.append(f"{aid} is not in the registry")
            continue
        st = lifecycle.status(other, at).value
        since = lifecycle.force_date(other)
        text = f"{aid} is not in force on {at.isoformat()} (status {st}"
        if since is not None and since > at:
            text += f"; enters into force {since.isoformat()}"
        elif since is not None:
            text += (
                f"; was in force from {since.isoformat()} — what was released then stays "
                "protected, R8 NO_RECALL"
            )
        text += ")"
        if aid != ag.id:
            text = f"{ag.id} rests on {aid}, which " + text.split(" ", 1)[1]
        parts.append(text)
    return "; ".join(parts)


def no_row(
    world: World, m: Marking, ag: Agreement, holder: str, level: str | None, recipient: str
) -> str:
    """Returns why R2 fails: the holder has no level for the item, or `ag` has no row."""
    if level is None:
        return (
            f"no agreement between {m.originator} and {holder} maps {m.originator} {m.level}, "
            f"so {holder} holds it at no level of its own scheme"
        )
    mapped = sorted(
        {
            lv
            for (aid, fp, lv, tp) in world.maps
            if aid == ag.id and fp == holder and tp == recipient
        },
        key=lambda lv: -world.rank(holder, lv),
    )
    rows = ", ".join(mapped) if mapped else "none"
    return (
        f"{ag.id} has no equivalence row for {holder} {level} towards {recipient} "
        f"(rows for {holder}: {rows}); no row, no release — never the nearest level"
        + article(ag, "equivalence")
    )


def route_failure(hop1: HopCheck, hop2: HopCheck) -> str:
    """Returns why the hub route failed, hop by hop."""
    order = list(Rule).index
    parts = [
        f"hop {hop.holder} → {hop.recipient} on "
        + ", ".join(r.value for r in sorted(hop.failed, key=order))
        for hop in (hop1, hop2)
        if hop.failed
    ]
    route = f"{hop1.holder} → {hop1.recipient} → {hop2.recipient}"
    return (
        f"no direct release passes, and the route {route} under {hop1.agreement.id} "
        f"fails: {'; '.join(parts)}"
    )


def _item(m: Marking) -> str:
    topics = ", ".join(sorted(m.topics)) or "no topic"
    text = f"a {m.originator} {m.level} item on {topics} for {m.purpose}"
    extras = []
    if m.rel_to is not None:
        extras.append("REL TO " + (", ".join(sorted(m.rel_to)) or "nobody"))
    if m.noforn:
        extras.append("NOFORN")
    if m.orcon:
        extras.append("ORCON")
    return text + (f" ({'; '.join(extras)})" if extras else "")


def _hop_text(world: World, c: HopCheck, first: bool = True) -> str:
    ag = c.agreement
    title = f"{ag.id} ({ag.title})" if first else ag.id
    under = ""
    if ag.underlying and first:
        under = f", with the agreements it rests on ({', '.join(ag.underlying)}),"
    topics = (
        "every topic is within its scope" if ag.scope.topics != "all" else "it covers all topics"
    )
    consent = {
        "originator": f"{c.holder} is the originator, so no consent is needed",
        "to-originator": f"it returns to the originator {c.recipient}",
        "recorded": f"consent {c.consent.id if c.consent else ''} of the originator covers it",
        "implied": (
            "the originator's sending through the hub records its consent to this onward release"
        ),
    }.get(c.consent_kind, "")
    return (
        f"{c.holder} → {c.recipient} under {title}, which{under} is in force on that date; its "
        f"equivalence table maps {c.holder} {c.level} to {c.recipient} {c.recipient_level}"
        f"{article(ag, 'equivalence')}; {topics} and the purpose is covered; the originator's "
        f"restrictions allow {c.recipient}; {consent}"
    )


def paragraph(world: World, d: Decision, checks: list[HopCheck], reasons: dict[Rule, str]) -> str:
    """Returns the one-paragraph explanation of decision `d`."""
    m = d.marking
    held = "" if d.holder == m.originator else f" held by {d.holder}"
    head = (
        f"{'ALLOWED' if d.allowed else 'DENIED'}: {d.holder} "
        f"{'may' if d.allowed else 'may not'} release {_item(m)}{held} to {d.recipient} on "
        f"{d.at.isoformat()}."
    )
    if d.allowed:
        if len(checks) > 1:
            body = (
                f" No agreement binding them directly allows it on that date, so it goes through "
                f"the hub "
                f"{checks[0].recipient} (R7 HUB_ROUTE), each hop a separate release: "
                + "; then ".join(_hop_text(world, c, i == 0) for i, c in enumerate(checks))
                + "."
            )
        else:
            body = " Basis: " + _hop_text(world, checks[0]) + "."
        tail = (
            f" {d.recipient} must mark it {d.recipient_level} with the originator's name "
            f"{m.originator}. Releases are final (R8 NO_RECALL): once delivered it is not "
            "recalled and stays protected even if the agreement later ends."
        )
        if d.recorded_consent is not None:
            rc = d.recorded_consent
            tail += (
                f" This release records {rc.originator}'s consent for {rc.holder} to pass it on to "
                f"{rc.recipient}."
            )
        return head + body + tail
    lines = [f"{code(r)}: {reasons[r]}" for r in d.failed if r in reasons]
    return head + " " + "; ".join(lines) + "."
