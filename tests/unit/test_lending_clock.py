"""The platform's one clock: forward by whole days, never back, and business dates read from it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from lending import clock
from lending.calendar import business_date


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    ahead = clock._Shift.ahead
    yield
    clock._Shift.ahead = ahead


def test_advancing_moves_today_and_now_by_whole_days() -> None:
    # Given the clock as it stands
    before_day, before = clock.today(), clock.now()
    # When it is advanced ten days
    assert clock.advance_to(before_day + timedelta(days=10)) == before_day + timedelta(days=10)
    # Then today, the business date and now have all moved with it
    assert clock.today() == business_date() == before_day + timedelta(days=10)
    assert timedelta(days=10) <= clock.now() - before < timedelta(days=10, minutes=5)


def test_the_clock_never_moves_back() -> None:
    today = clock.today()
    with pytest.raises(ValueError, match="never moves back"):
        clock.advance_to(today - timedelta(days=1))
    assert clock.today() == today
    assert clock.advance_to(today) == today
