"""The early-warning rules (lending.early_warning): which facts match which rule, and what a match does to a loan."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lending.early_warning import (
    BureauDefault,
    RecheckFacts,
    WarningAction,
    WarningKind,
    decide,
    delinquency_warning,
    matches,
)
from lending.money import Money
from lending.risk.policy import DecisionPolicy, PolicyError, parse_policy

OPENED = date(2026, 11, 20)
MONTH = date(2027, 2, 1)
NOW = datetime(2027, 2, 1, 1, 0, tzinfo=UTC)
STEADY_KWH = tuple(
    Decimal(v) for v in ("1000", "1040", "980", "1010", "990", "1020", "1000", "995", "1005", "1010", "985")
)


def _facts(**changes: object) -> RecheckFacts:
    values: dict[str, object] = {
        "opened_on": OPENED,
        "recent_inflows": (Money.of("100000.00"),),
        "origination_inflow": Money.of("100000.00"),
        "defaults": (),
        "electricity_kwh": (*STEADY_KWH, Decimal("1000")),
    }
    values.update(changes)
    return RecheckFacts(**values)  # type: ignore[arg-type]


def _kinds(facts: RecheckFacts, policy: DecisionPolicy) -> list[WarningKind]:
    return [m.kind for m in matches(facts, policy.early_warning)]


def test_an_ordinary_month_matches_no_rule(policy: DecisionPolicy) -> None:
    assert _kinds(_facts(recent_inflows=(Money.of("61000.00"),)), policy) == []


@pytest.mark.parametrize(("inflow", "fires"), [("60000.00", False), ("59999.99", True), ("0.00", True)])
def test_inflow_down_more_than_40_percent_against_origination_is_a_cash_flow_drop(
    policy: DecisionPolicy, inflow: str, fires: bool
) -> None:
    found = matches(_facts(recent_inflows=(Money.of(inflow),)), policy.early_warning)
    assert [m.kind for m in found] == ([WarningKind.CASH_FLOW_DROP] if fires else [])
    if fires:
        assert found[0].evidence["before"] == "100000.00"
        assert found[0].evidence["after"] == inflow
        assert Decimal(found[0].evidence["share"]) >= Decimal("0.40")  # shown to four places


def test_the_tax_office_s_declared_revenue_is_shown_beside_the_bank_s_inflow(policy: DecisionPolicy) -> None:
    facts = _facts(recent_inflows=(Money.of("40000.00"),), recent_declared=Money.of("39000.00"))
    [found] = matches(facts, policy.early_warning)
    assert found.evidence["declared_revenue"] == "39000.00"


def test_no_origination_review_no_cash_flow_rule(policy: DecisionPolicy) -> None:
    assert _kinds(_facts(recent_inflows=(Money.ZERO,), origination_inflow=None), policy) == []


def test_a_default_reported_after_the_loan_opened_is_a_bureau_change_and_an_older_one_is_not(
    policy: DecisionPolicy,
) -> None:
    old = BureauDefault(date(2025, 3, 1), Money.of("5000.00"))
    assert _kinds(_facts(defaults=(old,)), policy) == []
    new = BureauDefault(date(2026, 12, 20), Money.of("80000.00"))
    [found] = matches(_facts(defaults=(old, new)), policy.early_warning)
    assert found.kind is WarningKind.BUREAU_CHANGE
    assert found.evidence == {"before": 1, "after": 2, "reported_on": "2026-12-20", "amount": "80000.00"}


@pytest.mark.parametrize(("latest", "fires"), [("500", False), ("499", True), ("300", True)])
def test_electricity_down_more_than_half_against_the_months_before_is_an_electricity_drop(
    policy: DecisionPolicy, latest: str, fires: bool
) -> None:
    # The median of the months before the latest is 1000 kWh
    facts = _facts(electricity_kwh=(*STEADY_KWH, Decimal(latest)))
    assert _kinds(facts, policy) == ([WarningKind.ELECTRICITY_DROP] if fires else [])


def _decide(policy: DecisionPolicy, kinds: list[WarningKind], state: dict[str, object], *, line: bool = True):  # type: ignore[no-untyped-def]
    facts = _facts(
        recent_inflows=(Money.of("10000.00"),) if WarningKind.CASH_FLOW_DROP in kinds else (Money.of("100000.00"),),
        defaults=(BureauDefault(date(2027, 1, 5), Money.of("1.00")),) if WarningKind.BUREAU_CHANGE in kinds else (),
        electricity_kwh=(*STEADY_KWH, Decimal("100" if WarningKind.ELECTRICITY_DROP in kinds else "1000")),
    )
    return decide(
        "loan-1",
        month=MONTH,
        found=matches(facts, policy.early_warning),
        state=state,
        is_line=line,
        drawn=Money.of("20000.00"),
        policy=policy.early_warning,
        now=NOW,
        as_of=date(2027, 1, 31),
    )


def test_each_rule_takes_its_policy_s_action_on_a_line(policy: DecisionPolicy) -> None:
    outcome = _decide(policy, list(WarningKind)[:3], {})
    assert [(w.kind, w.action) for w in outcome.warnings] == [
        (WarningKind.CASH_FLOW_DROP, WarningAction.LIMIT_CUT),
        (WarningKind.BUREAU_CHANGE, WarningAction.FREEZE),
        (WarningKind.ELECTRICITY_DROP, WarningAction.NONE),
    ]
    assert outcome.changes["limit_cut"] == {
        "to": "20000.00",
        "warning_id": "loan-1/2027-02/cash_flow_drop",
        "on": "2027-01-31",
    }
    assert outcome.changes["warning_freeze"] == {"warning_id": "loan-1/2027-02/bureau_change", "on": "2027-01-31"}
    assert outcome.changes["early_warnings"] == {
        "cash_flow_drop": "loan-1/2027-02/cash_flow_drop",
        "bureau_change": "loan-1/2027-02/bureau_change",
        "electricity_drop": "loan-1/2027-02/electricity_drop",
    }


def test_an_instalment_loan_is_warned_about_but_nothing_is_cut_or_frozen(policy: DecisionPolicy) -> None:
    outcome = _decide(policy, [WarningKind.CASH_FLOW_DROP, WarningKind.BUREAU_CHANGE], {}, line=False)
    assert [w.action for w in outcome.warnings] == [WarningAction.NONE, WarningAction.NONE]
    assert set(outcome.changes) == {"early_warnings"}


def test_the_same_month_again_raises_and_changes_nothing(policy: DecisionPolicy) -> None:
    first = _decide(policy, [WarningKind.CASH_FLOW_DROP], {})
    again = _decide(policy, [WarningKind.CASH_FLOW_DROP], dict(first.changes))
    assert (again.warnings, again.changes) == ((), {})


def test_a_rule_that_stopped_matching_is_forgotten_and_raises_again_when_it_matches_again(
    policy: DecisionPolicy,
) -> None:
    raised = _decide(policy, [WarningKind.ELECTRICITY_DROP], {}).changes
    cleared = _decide(policy, [], dict(raised))
    assert (cleared.warnings, cleared.changes) == ((), {"early_warnings": {}})
    again = _decide(policy, [WarningKind.ELECTRICITY_DROP], dict(cleared.changes))
    assert [w.kind for w in again.warnings] == [WarningKind.ELECTRICITY_DROP]


def test_a_notice_tells_the_borrower_why_without_personal_data(policy: DecisionPolicy) -> None:
    [warning] = _decide(policy, [WarningKind.BUREAU_CHANGE], {}).warnings
    assert warning.notice() == {
        "notice_id": "early_warning/loan-1/2027-02/bureau_change",
        "loan_id": "loan-1",
        "kind": "early_warning",
        "reason": "bureau_change",
        "action": "freeze",
        "as_of": "2027-01-31",
    }


def test_the_daily_close_s_warning_is_kept_as_delinquency_worsened() -> None:
    close = {
        "warning_id": "loan-1/2027-01-08/dpd_1_30",
        "loan_id": "loan-1",
        "as_of": "2027-01-08",
        "bucket": "dpd_1_30",
        "days_past_due": 3,
        "principal_outstanding": "100.00",
        "frozen": True,
    }
    kept = delinquency_warning(close, NOW).to_record()
    assert (kept["kind"], kept["action"], kept["warning_id"]) == ("delinquency_worsened", "freeze", close["warning_id"])
    assert kept["evidence"] == {"bucket": "dpd_1_30", "days_past_due": 3, "principal_outstanding": "100.00"}


def test_a_policy_rule_without_its_threshold_or_with_an_unknown_action_is_refused(policy: DecisionPolicy) -> None:
    document = policy.model_dump(mode="json")
    document["early_warning"]["rules"]["cash_flow_drop"].pop("threshold")
    with pytest.raises(PolicyError, match="threshold"):
        parse_policy(__import__("json").dumps(document))
    document = policy.model_dump(mode="json")
    document["early_warning"]["rules"]["bureau_change"]["action"] = "close"
    with pytest.raises(PolicyError, match="action"):
        parse_policy(__import__("json").dumps(document))
