"""The five-category grade by days past due, restructure floors and observation (lending.classification)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.catalogue import Classification, LoanClass
from lending.classification import Restructure, by_days_past_due, classify, observation_ends, provision
from lending.money import Money

RULES = Classification()
DAY = date(2027, 3, 1)


@pytest.mark.parametrize(
    ("days", "grade"),
    [
        (0, LoanClass.NORMAL),
        (1, LoanClass.SPECIAL_MENTION),
        (90, LoanClass.SPECIAL_MENTION),
        (91, LoanClass.SUBSTANDARD),
        (270, LoanClass.SUBSTANDARD),
        (271, LoanClass.DOUBTFUL),
        (360, LoanClass.DOUBTFUL),
        (361, LoanClass.LOSS),
    ],
)
def test_days_past_due_give_the_2023_rules_grades(days: int, grade: LoanClass) -> None:
    assert by_days_past_due(days, RULES) is grade
    assert classify(days, DAY, RULES) is grade


def test_a_restructured_loan_is_at_least_special_mention_and_substandard_if_it_was_non_performing() -> None:
    performing = Restructure(date(2027, 1, 10), LoanClass.SPECIAL_MENTION)
    non_performing = Restructure(date(2027, 1, 10), LoanClass.DOUBTFUL)
    assert classify(0, DAY, RULES, restructures=[performing]) is LoanClass.SPECIAL_MENTION
    assert classify(0, DAY, RULES, restructures=[non_performing]) is LoanClass.SUBSTANDARD
    assert classify(200, DAY, RULES, restructures=[performing]) is LoanClass.SUBSTANDARD


def test_no_upgrade_during_observation_and_the_usual_grade_after_it() -> None:
    restructure = Restructure(date(2027, 1, 10), LoanClass.NORMAL)
    ends = observation_ends(restructure, RULES)
    assert ends == date(2028, 1, 10)  # one year is longer than two monthly periods
    assert observation_ends(restructure, RULES, period_months=12) == date(2029, 1, 10)  # two yearly periods
    assert classify(0, DAY, RULES, previous=LoanClass.DOUBTFUL, restructures=[restructure]) is LoanClass.DOUBTFUL
    assert classify(0, ends, RULES, previous=LoanClass.DOUBTFUL, restructures=[restructure]) is LoanClass.NORMAL


@given(days=st.integers(0, 2000), more=st.integers(0, 500))
def test_more_days_past_due_never_gives_a_better_grade(days: int, more: int) -> None:
    assert by_days_past_due(days + more, RULES).rank >= by_days_past_due(days, RULES).rank


def test_provisions_follow_the_configured_rates_to_the_fen() -> None:
    assert provision(LoanClass.NORMAL, Money.of("12345.67"), RULES) == Money.of("123.46")
    assert provision(LoanClass.SPECIAL_MENTION, Money.of("100.00"), RULES) == Money.of("2.00")
    assert provision(LoanClass.DOUBTFUL, Money.of("0.01"), RULES) == Money.of("0.01")  # half up
    assert provision(LoanClass.LOSS, Money.ZERO, RULES) == Money.ZERO


def test_rates_must_not_fall_for_a_worse_grade() -> None:
    with pytest.raises(ValueError, match="never lower"):
        Classification(
            provision_rates={**RULES.provision_rates, LoanClass.LOSS: RULES.provision_rates[LoanClass.NORMAL] / 2}
        )
