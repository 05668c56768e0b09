"""The node's calendar: one "today" for every surface.

Agreements take effect on dates, so the node decides on one calendar whatever the machine's time
zone: the UTC date, unless the `date` setting (`ACCORD_DATE`) fixes the day every command, page
and request decides on (demonstrations of past registry states; never for production).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from accord.errors import InputError


def utc_today() -> date:
    """Returns today's date in UTC (not the machine's local date)."""
    return datetime.now(UTC).date()


def fixed(setting: object) -> date | None:
    """Returns the day the `date` setting fixes (None when unset); InputError names a setting that
    is not a date."""
    if not setting:
        return None
    try:
        return date.fromisoformat(str(setting))
    except ValueError:
        raise InputError(f"ACCORD_DATE: {str(setting)[:40]!r} is not a date (YYYY-MM-DD)") from None


def today(setting: object = None) -> date:
    """Returns the day the node decides on: the `date` setting when set, else the UTC date."""
    return fixed(setting) or utc_today()
