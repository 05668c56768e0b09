"""Explanations a legal officer can check against the agreement texts.

Each reason names the agreement (its id and, where the registry records it, the article), the
date, the levels and the parties; `paragraph` joins them into the one-paragraph explanation a
`Decision` carries.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from accord import labels
from accord.i18n import DEFAULT, _, day, language, listing
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
            parts.append(_("%(agreement)s is not in the registry") % {"agreement": aid})
            continue
        st = lifecycle.status(other, at).value
        since = lifecycle.force_date(other)
        shown = st if language() == DEFAULT else labels.status(st)
        values = {"agreement": aid, "at": day(at), "status": shown, "base": ag.id}
        if since is not None:
            values["since"] = day(since)
        if aid != ag.id:
            if since is not None and since > at:
                text = _(
                    "%(base)s rests on %(agreement)s, which is not in force on %(at)s (status "
                    "%(status)s; enters into force %(since)s)"
                )
            elif since is not None:
                text = _(
                    "%(base)s rests on %(agreement)s, which is not in force on %(at)s (status "
                    "%(status)s; was in force from %(since)s — what was released then stays "
                    "protected, R8 NO_RECALL)"
                )
            else:
                text = _(
                    "%(base)s rests on %(agreement)s, which is not in force on %(at)s (status "
                    "%(status)s)"
                )
        elif since is not None and since > at:
            text = _(
                "%(agreement)s is not in force on %(at)s (status %(status)s; enters into force "
                "%(since)s)"
            )
        elif since is not None:
            text = _(
                "%(agreement)s is not in force on %(at)s (status %(status)s; was in force from "
                "%(since)s — what was released then stays protected, R8 NO_RECALL)"
            )
        else:
            text = _("%(agreement)s is not in force on %(at)s (status %(status)s)")
        parts.append(text % values)
    return "; ".join(parts)


def no_row(
    world: World, m: Marking, ag: Agreement, holder: str, level: str | None, recipient: str
) -> str:
    """Returns why R2 fails: the holder has no level for the item, or `ag` has no row."""
    if level is None:
        return _(
            "no agreement between %(originator)s and %(holder)s maps %(originator)s %(level)s, "
            "so %(holder)s holds it at no level of its own scheme"
        ) % {"originator": m.originator, "holder": holder, "level": m.level}
    mapped = sorted(
        {
            lv
            for (aid, fp, lv, tp) in world.maps
            if aid == ag.id and fp == holder and tp == recipient
        },
        key=lambda lv: -world.rank(holder, lv),
    )
    return _(
        "%(agreement)s has no equivalence row for %(holder)s %(level)s towards %(recipient)s "
        "(rows for %(holder)s: %(rows)s); no row, no release — never the nearest level"
    ) % {
        "agreement": ag.id,
        "holder": holder,
        "level": level,
        "recipient": recipient,
        "rows": listing(mapped, _("none")),
    } + article(ag, "equivalence")


def route_failure(hop1: HopCheck, hop2: HopCheck) -> str:
    """Returns why the hub route failed, hop by hop."""
    order = list(Rule).index
    parts = [
        _("hop %(holder)s → %(recipient)s on %(rules)s")
        % {
            "holder": hop.holder,
            "recipient": hop.recipient,
            "rules": ", ".join(r.value for r in sorted(hop.failed, key=order)),
        }
        for hop in (hop1, hop2)
        if hop.failed
    ]
    return _(
        "no direct release passes, and the route %(route)s under %(agreement)s fails: %(why)s"
    ) % {
        "route": f"{hop1.holder} → {hop1.recipient} → {hop2.recipient}",
        "agreement": hop1.agreement.id,
        "why": "; ".join(parts),
    }


def restrictions(m: Marking) -> list[str]:
    """Returns the originator's restriction words of a marking (REL TO …, NOFORN, ORCON)."""
    extras = []
    if m.rel_to is not None:
        extras.append("REL TO " + listing(sorted(m.rel_to), _("nobody")))
    if m.noforn:
        extras.append("NOFORN")
    if m.orcon:
        extras.append("ORCON")
    return extras


def topics_text(codes: list[str] | tuple[str, ...]) -> str:
    """Returns topics as a sentence names them: their codes in English (as the CLI and the API
    print them), their words in another language (accord.labels)."""
    if language() == DEFAULT:
        return listing(list(codes))
    return listing([labels.topic(t) for t in codes])


def purpose_text(code: str) -> str:
    return code if language() == DEFAULT else labels.purpose(code)


def _item(m: Marking) -> str:
    values = {
        "originator": m.originator,
        "level": m.level,
        "topics": topics_text(sorted(m.topics)) or _("no topic"),
        "purpose": purpose_text(m.purpose),
    }
    text = _("a %(originator)s %(level)s item on %(topics)s for %(purpose)s") % values
    extras = restrictions(m)
    return text + (f" ({'; '.join(extras)})" if extras else "")


def in_force_text(world: World, ag: Agreement, at: date) -> str:
    """Returns how `ag` is in force on `at`: `in force on that date`, or, while a termination
    notice runs, `in force until 2019-11-23: notice given 2019-08-23` — the release rests on a
    basis that is ending (PRODUCT.md §2). An agreement it rests on under notice is named too."""
    notice = lifecycle.pending_notice(ag, at)
    if notice is None:
        text = _("in force on that date")
    else:
        text = _("in force until %(until)s: notice given %(given)s") % {
            "until": day(notice[1]),
            "given": day(notice[0].date),
        }
    for aid in ag.underlying:
        other = world.agreements.get(aid)
        below = lifecycle.pending_notice(other, at) if other is not None else None
        if below is not None:
            text += _(
                " (it rests on %(agreement)s, in force until %(until)s: notice given %(given)s)"
            ) % {"agreement": aid, "until": day(below[1]), "given": day(below[0].date)}
    return text


def moved_text(world: World, holder: str, recipient: str, at: date) -> str:
    """Returns, for a release that goes through the hub, which direct agreement stopped and when
    (` kor-jpn-gsomia-2016, which bound them directly, is suspended since 2019-12-02.`): the
    route changed because the direct basis moved; '' when none did."""
    out = ""
    for ag in world.direct_candidates(holder, recipient):
        step = lifecycle.stopped(ag, at)
        if step is None:
            continue
        st = step.status.value
        out += " " + _(
            "%(agreement)s, which bound them directly, is %(status)s since %(since)s."
        ) % {
            "agreement": ag.id,
            "status": st if language() == DEFAULT else labels.status(st),
            "since": day(step.event.date),
        }
    return out


def notices(world: World, basis: tuple[str, ...], at: date) -> list[dict[str, object]]:
    """Returns the termination notices running on `at` against the agreements of `basis`, as
    JSON-ready mappings (`agreement`, `event`, `given`, `effective`): what `accord check --json`
    and `POST /api/v1/decisions` carry beside the explanation that names them."""
    out: list[dict[str, object]] = []
    for aid in basis:
        ag = world.agreements.get(aid)
        notice = lifecycle.pending_notice(ag, at) if ag is not None else None
        if notice is not None:
            out.append(
                {
                    "agreement": aid,
                    "event": notice[0].kind.value,
                    "given": notice[0].date.isoformat(),
                    "effective": notice[1].isoformat(),
                }
            )
    return out


def _hop_text(world: World, c: HopCheck, at: date, first: bool = True) -> str:
    ag = c.agreement
    # The registry's titles are English text: another language names the agreement by its id.
    title = f"{ag.id} ({ag.title})" if first and language() == DEFAULT else ag.id
    under = ""
    if ag.underlying and first:
        under = _(", with the agreements it rests on (%(agreements)s),") % {
            "agreements": listing(list(ag.underlying))
        }
    topics = (
        _("every topic is within its scope")
        if ag.scope.topics != "all"
        else _("it covers all topics")
    )
    consent = {
        "originator": lambda: _("%(holder)s is the originator, so no consent is needed"),
        "to-originator": lambda: _("it returns to the originator %(recipient)s"),
        "recorded": lambda: _("consent %(consent)s of the originator covers it"),
        "implied": lambda: _(
            "the originator's sending through the hub records its consent to this onward release"
        ),
    }.get(c.consent_kind, lambda: "")()
    consent = consent % {
        "holder": c.holder,
        "recipient": c.recipient,
        "consent": c.consent.id if c.consent else "",
    }
    return _(
        "%(holder)s → %(recipient)s under %(title)s, which%(under)s is %(in_force)s; its "
        "equivalence table maps %(holder)s %(level)s to %(recipient)s %(recipient_level)s"
        "%(article)s; %(topics)s and the purpose is covered; the originator's restrictions allow "
        "%(recipient)s; %(consent)s"
    ) % {
        "holder": c.holder,
        "recipient": c.recipient,
        "title": title,
        "under": under,
        "in_force": in_force_text(world, ag, at),
        "level": c.level,
        "recipient_level": c.recipient_level,
        "article": article(ag, "equivalence"),
        "topics": topics,
        "consent": consent,
    }


def paragraph(world: World, d: Decision, checks: list[HopCheck], reasons: dict[Rule, str]) -> str:
    """Returns the one-paragraph explanation of decision `d`, in the current language
    (accord.i18n: English unless a web page asked for another)."""
    m = d.marking
    values = {
        "holder": d.holder,
        "item": _item(m),
        "recipient": d.recipient,
        "at": day(d.at),
        "by": m.originator,
    }
    if d.holder == m.originator:
        head = (
            _("ALLOWED: %(holder)s may release %(item)s to %(recipient)s on %(at)s.")
            if d.allowed
            else _("DENIED: %(holder)s may not release %(item)s to %(recipient)s on %(at)s.")
        ) % values
    else:
        head = (
            _(
                "ALLOWED: %(holder)s may release %(item)s held by %(holder)s to %(recipient)s "
                "on %(at)s."
            )
            if d.allowed
            else _(
                "DENIED: %(holder)s may not release %(item)s held by %(holder)s to "
                "%(recipient)s on %(at)s."
            )
        ) % values
    if d.allowed:
        if len(checks) > 1:
            body = " " + _(
                "No agreement binding them directly allows it on that date, so it goes through "
                "the hub %(hub)s (R7 HUB_ROUTE), each hop a separate release: %(hops)s."
            ) % {
                "hub": checks[0].recipient,
                "hops": _("; then ").join(
                    _hop_text(world, c, d.at, i == 0) for i, c in enumerate(checks)
                ),
            }
            body += moved_text(world, d.holder, d.recipient, d.at)
        else:
            body = " " + _("Basis: %(hop)s.") % {"hop": _hop_text(world, checks[0], d.at)}
        tail = " " + _(
            "%(recipient)s must mark it %(level)s with the originator's name %(by)s. Releases "
            "are final (R8 NO_RECALL): once delivered it is not recalled and stays protected "
            "even if the agreement later ends."
        ) % {**values, "level": d.recipient_level}
        if d.recorded_consent is not None:
            rc = d.recorded_consent
            tail += " " + _(
                "This release records %(originator)s's consent for %(holder)s to pass it on to "
                "%(recipient)s."
            ) % {"originator": rc.originator, "holder": rc.holder, "recipient": rc.recipient}
        return head + body + tail
    lines = [f"{code(r)}: {reasons[r]}" for r in d.failed if r in reasons]
    return head + " " + "; ".join(lines) + "."
