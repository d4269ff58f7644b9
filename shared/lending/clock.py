"""The platform's one clock: what moment it is, and so what business day.

Everything that asks "what time is it" or "what day is it" asks :func:`now` or :func:`today` (the API, the
webhooks' future-date check, offers, reviews, the audit chain, the daily close and every scheduled job). In AWS it
is the system clock. The local stack's test clock (``POST {control_url}/clock``, as payment providers' test clocks
do) moves it forward by whole days with :func:`advance_to` and runs each day's scheduled jobs; it never moves back.
Transport checks that compare with the sender's own clock (a webhook signature's ``t``) keep to real time.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

#: Business dates are China Standard Time (UTC+8, no daylight saving).
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


class _Shift:
    """How far the test clock stands ahead of the system clock (zero in AWS: nothing there moves it)."""

    ahead = timedelta(0)
    moving = threading.Lock()


def now() -> datetime:
    """The platform's present moment, aware, in UTC."""
    return datetime.now(UTC) + _Shift.ahead


def today() -> date:
    """The platform's business date: the calendar date in China now."""
    return now().astimezone(CHINA_STANDARD_TIME).date()


def advance_to(day: date) -> date:
    """Move the clock forward to ``day`` (same time of day); a day before today is refused. Answers today."""
    with _Shift.moving:
        current = today()
        if day < current:
            raise ValueError(f"the clock never moves back: today is {current.isoformat()}")
        _Shift.ahead += timedelta(days=(day - current).days)
        return today()
