"""The platform's one clock: forward by whole days, never back, and business dates read from it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest

from lending import clock
from lending.calendar import business_date

#: The system clock these tests see: a second before midnight in China, where two readings of a running clock
#: would fall on different days. Held still, every reading agrees, whenever the suite runs.
SYSTEM_NOW = datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)


class _StillDatetime(datetime):
    """``datetime`` whose ``now`` is SYSTEM_NOW: the system clock, held still."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _StillDatetime:
        return cls.fromtimestamp(SYSTEM_NOW.timestamp(), tz)


@pytest.fixture(autouse=True)
def _restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(clock, "datetime", _StillDatetime)
    ahead = clock._Shift.ahead
    clock._Shift.ahead = timedelta(0)
    yield
    clock._Shift.ahead = ahead


def test_advancing_moves_today_and_now_by_whole_days() -> None:
    # Given the clock as it stands
    before_day, before = clock.today(), clock.now()
    # When it is advanced ten days
    assert clock.advance_to(before_day + timedelta(days=10)) == before_day + timedelta(days=10)
    # Then today, the business date and now have all moved with it
    assert clock.today() == business_date() == before_day + timedelta(days=10)
    assert clock.now() - before == timedelta(days=10)


def test_the_system_clock_is_held_still_a_second_before_midnight_in_china() -> None:
    assert (clock.today(), clock.now()) == (date(2026, 3, 1), SYSTEM_NOW)


def test_the_clock_never_moves_back() -> None:
    today = clock.today()
    with pytest.raises(ValueError, match="never moves back"):
        clock.advance_to(today - timedelta(days=1))
    assert clock.today() == today
    assert clock.advance_to(today) == today
