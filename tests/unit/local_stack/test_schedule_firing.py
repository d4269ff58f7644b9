"""When the local test clock fires a template schedule: daily crons for every day, a monthly one for one day a month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from infra.local.control import firing_time, next_firing
from infra.local.template import load_template, schedules


def test_a_daily_schedule_fires_for_every_day_after_it_ends_in_china() -> None:
    # The close at 00:30 China time: 16:30 UTC on the day itself
    assert firing_time("cron(30 16 * * ? *)", date(2027, 1, 31)) == datetime(2027, 1, 31, 16, 30, tzinfo=UTC)
    # The auto-debit at 01:00 China time the next morning
    assert firing_time("cron(0 17 * * ? *)", date(2027, 1, 31)) == datetime(2027, 1, 31, 17, 0, tzinfo=UTC)


def test_the_monthly_recheck_fires_once_a_month_on_the_first_at_nine_in_china() -> None:
    expression = "cron(0 1 1 * ? *)"
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    fired = [(day, firing_time(expression, day)) for day in days if firing_time(expression, day) is not None]
    # For the last day of each month, at 01:00 UTC on the 1st (09:00 China time)
    assert len(fired) == 12
    assert fired[0] == (date(2027, 1, 31), datetime(2027, 2, 1, 1, 0, tzinfo=UTC))
    assert fired[1] == (date(2027, 2, 28), datetime(2027, 3, 1, 1, 0, tzinfo=UTC))
    # And asked for another day, it is the next first of a month
    assert next_firing(expression, date(2027, 2, 10)) == datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


def test_every_schedule_of_the_template_is_one_the_local_clock_fires() -> None:
    for schedule in schedules(load_template()).values():
        assert next_firing(schedule.expression, date(2027, 1, 31)) is not None


def test_an_expression_the_local_clock_cannot_fire_is_refused() -> None:
    with pytest.raises(ValueError, match="monthly"):
        firing_time("rate(1 day)", date(2027, 1, 1))
