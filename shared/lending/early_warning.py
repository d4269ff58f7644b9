"""Early warning before a missed payment: the monthly re-check of an open line or business loan against fresh data.

Once a month every open credit line and business loan is looked at again with what the business review looked at
(the bank statement, the tax filings, the bureau) and the premises' electricity use. The risk policy
(``early_warning`` in lending/data/policy.json) names the rules and what each one does:

- ``cash_flow_drop``: the average operating inflow of the latest whole months fell by more than the threshold
  against the average the business assessment found at origination;
- ``bureau_change``: the bureau shows a default at another lender reported since the loan was opened;
- ``electricity_drop``: the latest month's electricity use fell by more than the threshold against the median of
  the months before it.

A rule's action is ``cut_limit`` (a line's limit is cut to what is drawn, so nothing more can be drawn),
``freeze`` (no drawdowns) or ``flag`` (a warning only). On an instalment loan nothing can be cut or frozen: the
warning is raised with action ``none``. A warning's id derives from the loan, the month and the rule, so a re-run of
the month raises and acts nothing twice; a rule already raised on the loan is not raised again while it still
matches (``servicing.early_warnings`` keeps which are), and raises anew once it stopped matching and matches again.

Nothing here does I/O: lending.steps.early_warning reads the vendors and writes the results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lending.money import CONTEXT, Money, Rounding, total
from lending.rates import format_rate
from lending.risk.policy import EarlyWarningPolicy, WarningRule
from lending.risk.statistics import mean, median


class WarningKind(StrEnum):
    """What a warning is about (the daily close raises ``delinquency_worsened``; the monthly re-check the rest)."""

    CASH_FLOW_DROP = "cash_flow_drop"
    BUREAU_CHANGE = "bureau_change"
    ELECTRICITY_DROP = "electricity_drop"
    DELINQUENCY_WORSENED = "delinquency_worsened"


class WarningAction(StrEnum):
    """What was done to the loan when the warning was raised."""

    LIMIT_CUT = "limit_cut"
    FREEZE = "freeze"
    NONE = "none"


#: The action a rule's policy word takes on a line.
_ON_A_LINE = {"cut_limit": WarningAction.LIMIT_CUT, "freeze": WarningAction.FREEZE, "flag": WarningAction.NONE}


@dataclass(frozen=True, slots=True)
class BureauDefault:
    """A default the bureau reports at another lender."""

    reported_on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class RecheckFacts:
    """What the re-check learnt about one loan's borrower this month, beside what origination found.

    ``recent_inflows``: operating inflow of the latest whole months, oldest first (None: no statement);
    ``origination_inflow``: the average monthly inflow of the business assessment at origination (None: not kept);
    ``recent_declared``: revenue the tax filings declare for those months, shown beside the bank's inflow;
    ``electricity_kwh``: monthly use, oldest first, the latest month last (empty: no readings).
    """

    opened_on: date
    recent_inflows: tuple[Money, ...] | None
    origination_inflow: Money | None
    defaults: tuple[BureauDefault, ...] = ()
    electricity_kwh: tuple[Decimal, ...] = ()
    #: Revenue declared to the tax office for the same latest months (None: no filing covers them): evidence.
    recent_declared: Money | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched, with its evidence (figures only: no personal data)."""

    kind: WarningKind
    evidence: dict[str, Any]


def _share(value: Decimal) -> str:
    return format_rate(value)


def _fall(before: Decimal, after: Decimal) -> Decimal:
    """The share ``after`` fell by from ``before`` (negative when it rose)."""
    return CONTEXT.divide(CONTEXT.subtract(before, after), before)


def matches(facts: RecheckFacts, policy: EarlyWarningPolicy) -> list[Match]:
    """The rules of the policy that this month's facts match, each with its evidence, in the policy's order."""
    rules = policy.rules
    found: list[Match] = []
    if facts.recent_inflows and facts.origination_inflow is not None and facts.origination_inflow.is_positive:
        recent = mean([m.to_decimal() for m in facts.recent_inflows[-policy.recent_months :]])
        before = facts.origination_inflow.to_decimal()
        fall = _fall(before, recent)
        assert rules.cash_flow_drop.threshold is not None
        if fall > rules.cash_flow_drop.threshold:
            evidence: dict[str, Any] = {
                "before": str(facts.origination_inflow),
                "after": str(Money.from_decimal(recent, Rounding.HALF_UP)),
                "share": _share(fall),
                "months": min(policy.recent_months, len(facts.recent_inflows)),
            }
            if facts.recent_declared is not None:
                evidence["declared_revenue"] = str(facts.recent_declared)
            found.append(Match(WarningKind.CASH_FLOW_DROP, evidence))
    new = [d for d in facts.defaults if d.reported_on > facts.opened_on]
    if new:
        latest = max(new, key=lambda d: d.reported_on)
        found.append(
            Match(
                WarningKind.BUREAU_CHANGE,
                {
                    "before": len(facts.defaults) - len(new),
                    "after": len(facts.defaults),
                    "reported_on": latest.reported_on.isoformat(),
                    "amount": str(total(d.amount for d in new)),
                },
            )
        )
    readings = facts.electricity_kwh[-policy.electricity_window_months :]
    if len(readings) >= 2:
        usual = median(list(readings[:-1]))
        latest_kwh = readings[-1]
        assert rules.electricity_drop.threshold is not None
        if usual > 0:
            fall = _fall(usual, latest_kwh)
            if fall > rules.electricity_drop.threshold:
                found.append(
                    Match(
                        WarningKind.ELECTRICITY_DROP,
                        {
                            "before": f"{usual.quantize(Decimal(1))} kWh",
                            "after": f"{latest_kwh.quantize(Decimal(1))} kWh",
                            "share": _share(fall),
                            "months": len(readings) - 1,
                        },
                    )
                )
    return found


def warning_id(loan_id: str, month: date, kind: WarningKind) -> str:
    """One warning per loan, month and rule: a re-run of the month finds it raised."""
    return f"{loan_id}/{month:%Y-%m}/{kind.value}"


@dataclass(frozen=True, slots=True)
class Warning:
    """A raised warning, as the warnings table and GET /v1/ops/warnings keep it."""

    warning_id: str
    loan_id: str
    kind: WarningKind
    raised_at: datetime
    as_of: date
    evidence: Mapping[str, Any]
    action: WarningAction

    def to_record(self) -> dict[str, Any]:
        return {
            "warning_id": self.warning_id,
            "loan_id": self.loan_id,
            "kind": self.kind.value,
            "raised_at": self.raised_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "evidence": dict(self.evidence),
            "action": self.action.value,
        }

    def notice(self) -> dict[str, str]:
        """What the borrower is told (the notifications topic): the loan, why and what changed; no personal data."""
        return {
            "notice_id": f"early_warning/{self.warning_id}",
            "loan_id": self.loan_id,
            "kind": "early_warning",
            "reason": self.kind.value,
            "action": self.action.value,
            "as_of": self.as_of.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a re-check does to one loan: the warnings to raise and the servicing state to set (empty: nothing)."""

    warnings: tuple[Warning, ...]
    changes: dict[str, Any] = field(default_factory=dict)


def rule_of(policy: EarlyWarningPolicy, kind: WarningKind) -> WarningRule:
    rule: WarningRule = getattr(policy.rules, kind.value)
    return rule


def decide(
    loan_id: str,
    *,
    month: date,
    found: Sequence[Match],
    state: Mapping[str, Any],
    is_line: bool,
    drawn: Money,
    policy: EarlyWarningPolicy,
    now: datetime,
    as_of: date,
) -> Outcome:
    """The warnings this month's matches raise on a loan whose servicing state is ``state``, and the state they set.

    ``drawn``: a line's principal outstanding now (what a limit cut cuts to). Rules already raised and still
    matching raise nothing; rules no longer matching are forgotten, so a recurrence raises again.
    """
    raised: dict[str, str] = {str(k): str(v) for k, v in (state.get("early_warnings") or {}).items()}
    still = {m.kind.value for m in found}
    kept = {kind: wid for kind, wid in raised.items() if kind in still}
    warnings: list[Warning] = []
    changes: dict[str, Any] = {}
    for match in found:
        if match.kind.value in kept:
            continue
        wid = warning_id(loan_id, month, match.kind)
        action = _ON_A_LINE[rule_of(policy, match.kind).action] if is_line else WarningAction.NONE
        if action is WarningAction.LIMIT_CUT:
            cut = state.get("limit_cut")
            if cut is None or Money.of(str(cut["to"])) > drawn:
                changes["limit_cut"] = {"to": str(drawn), "warning_id": wid, "on": as_of.isoformat()}
        elif action is WarningAction.FREEZE and state.get("warning_freeze") is None:
            changes["warning_freeze"] = {"warning_id": wid, "on": as_of.isoformat()}
        warnings.append(Warning(wid, loan_id, match.kind, now, as_of, match.evidence, action))
        kept[match.kind.value] = wid
    if kept != raised:
        changes["early_warnings"] = kept
    return Outcome(tuple(warnings), changes)


def delinquency_warning(close_warning: Mapping[str, Any], raised_at: datetime) -> Warning:
    """The daily close's warning (a loan entered or worsened a delinquency bucket) as the warnings table keeps it:
    its id is the close's (loan, day, bucket), the action the freeze the close applied, if any."""
    return Warning(
        warning_id=str(close_warning["warning_id"]),
        loan_id=str(close_warning["loan_id"]),
        kind=WarningKind.DELINQUENCY_WORSENED,
        raised_at=raised_at,
        as_of=date.fromisoformat(str(close_warning["as_of"])),
        evidence={
            "bucket": close_warning["bucket"],
            "days_past_due": int(close_warning["days_past_due"]),
            "principal_outstanding": str(close_warning["principal_outstanding"]),
        },
        action=WarningAction.FREEZE if close_warning.get("frozen") else WarningAction.NONE,
    )
