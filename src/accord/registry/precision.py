"""How exact an event's date is, and which day a decision may rely on.

The public record gives some dates to the day and others only to the month, the year, or as "no
later than" (an agreement listed in force in a white paper of that date). An event records the
date as the scenario writes it and its `precision` (docs/registry.md): `month` dates are written
on the 1st, `year` dates on 31 December, `by` dates on the day the record proves.

A release decided on a date must rest on what the record proves on that date. So the date a
decision uses (`proven`) is the LAST day the record allows for an event that brings an agreement
(closer) into force or keeps it there — entry into force, resumption, a notice withdrawn or
suspended, signature, initialling, amendment — and the FIRST day it allows for an event that ends
or suspends force or gives notice: an agreement is never taken to be in force on a day the record
does not prove it was. A `by` date is the last possible day, and for an ending event the record
gives no earlier bound: the date itself is used.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections import Counter

from accord.registry.model import Event, EventKind, Registry

#: Events after which an agreement may bind less than before: their earliest possible day counts.
ENDING = frozenset(
    {
        EventKind.TERMINATION_NOTIFIED,
        EventKind.SUSPENDED,
        EventKind.TERMINATED,
        EventKind.EXPIRED,
    }
)


def window(day: dt.date, precision: str) -> tuple[dt.date | None, dt.date]:
    """Returns the first and last days a date of this precision may stand for (None: no earlier
    bound, for `by`)."""
    if precision == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    if precision == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    if precision == "by":
        return None, day
    return day, day


def proven(event: Event) -> dt.date:
    """Returns the day a decision takes the event to have happened (module docstring)."""
    if event.precision == "day":  # most events: the status of every agreement reads this
        return event.date
    return _proven(event.date, event.precision, event.kind in ENDING)


@functools.lru_cache(maxsize=4096)
def _proven(day: dt.date, precision: str, ending: bool) -> dt.date:
    first, last = window(day, precision)
    return (first or day) if ending else last


def phrase(event: Event) -> str:
    """Returns the event's date as a reader should take it: `2016-11-23`, `by 2016-12-31`,
    `2011-10 (day not public)`, `2017 (month and day not public)`."""
    day = event.date
    if event.precision == "by":
        return f"by {day.isoformat()}"
    if event.precision == "month":
        return f"{day.year:04d}-{day.month:02d} (day not public)"
    if event.precision == "year":
        return f"{day.year:04d} (month and day not public)"
    return day.isoformat()


def cited(event: Event) -> str:
    """Returns the event's source keys, `(S11, S13)`, or an empty string."""
    refs = [s.ref for s in event.sources]
    return f"({', '.join(refs)})" if refs else ""


def knowledge(registry: Registry) -> str:
    """Returns, as a Markdown table, how sure the registry is of its dates: the events per
    precision (how many inferred), and the sources cited most (docs/registry.md prints this;
    a test keeps the two equal)."""
    events = [ev for ag in registry.agreements for ev in ag.events]
    by_precision = Counter(ev.precision for ev in events)
    inferred = Counter(ev.precision for ev in events if ev.illustrative)
    lines = [
        f"{len(registry.agreements)} agreements, {len(events)} dated events, "
        f"{len(registry.parties)} parties, {len(registry.facilities)} facilities.",
        "",
        "| date known | events | of which inferred |",
        "|---|---:|---:|",
    ]
    names = {
        "day": "to the day",
        "month": "to the month",
        "year": "to the year",
        "by": "as a latest date",
    }
    for p in ("day", "month", "year", "by"):
        lines.append(f"| {names[p]} | {by_precision[p]} | {inferred[p]} |")
    cited: Counter[str] = Counter()
    for ag in registry.agreements:
        for ev in ag.events:
            cited.update(s.ref for s in ev.sources)
    lines += ["", "| source (docs/sources.md) | events citing it |", "|---|---:|"]
    for ref, n in sorted(cited.items(), key=lambda kv: (-kv[1], int(kv[0][1:])))[:10]:
        lines.append(f"| {ref} | {n} |")
    lines.append(
        f"| {len(cited) - min(len(cited), 10)} other sources | "
        f"{sum(cited.values()) - sum(n for _, n in cited.most_common(10))} |"
    )
    return "\n".join(lines) + "\n"
