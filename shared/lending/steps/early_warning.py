"""The monthly re-check of open lines and business loans (lending.early_warning), a batch at a time.

The EarlyWarningFlow workflow lists the open loans from the OpenLoans index in bounded batches
(:func:`list_open_loans`) and checks each batch (:func:`recheck_batch`): for each loan, the borrower's fresh bank
statement and tax filings, bureau report and electricity use, through the vendor clients the business review uses,
against what the review found at origination (kept on the application).

Safe to run again: a warning's id derives from the loan, the month and the rule; it is recorded once (the first
record wins) and published once it is recorded; the loan's servicing state says which rules were raised, so a rule
that matched before is not raised again. A notice published before the servicing write may repeat after a crash
(same warning id) but is never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from lending import clock
from lending.applicant import APPLICANT_FIELDS, Applicant, Person
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.early_warning import BureauDefault, RecheckFacts, Warning, decide, matches
from lending.errors import LendingError
from lending.money import Money, total
from lending.risk.cash_flow import summarise_cash_flow
from lending.risk.electricity import MeterReading
from lending.risk.policy import DecisionPolicy
from lending.risk.tax import TaxFiling
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanStatus, LoanTerms, replay
from lending.steps.assessment import BankData
from lending.steps.ports import Applications, Decrypt, LoanStore
from lending.steps.servicing import redo


class BureauDefaults(Protocol):
    @property
    def defaults(self) -> Iterable[Any]: ...


class Bureau(Protocol):
    def fetch_report(self, applicant: Person, consent_reference: str) -> BureauDefaults: ...


class Electricity(Protocol):
    def fetch_readings(self, business_name: str, months: int = 12, *, holder: Person) -> tuple[MeterReading, ...]: ...


class Warnings(Protocol):
    def record(self, warning: Mapping[str, Any]) -> dict[str, Any]: ...
    def mark_published(self, warning_id: str, at: str) -> None: ...


def recheck_month(event: Mapping[str, Any]) -> date:
    """The month a run re-checks (its first day): ``month`` (YYYY-MM) when given, else the month the schedule fired
    in, in China (the run looks at the whole months before it)."""
    if event.get("month"):
        return date.fromisoformat(f"{event['month']}-01")
    fired = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return business_date(fired).replace(day=1)


def watched_products(catalogue: Catalogue) -> frozenset[str]:
    """The products the re-check watches: credit lines, and every product lent to businesses."""
    products = catalogue.products.items()
    return frozenset(code for code, p in products if p.kind == "revolving" or p.borrower == "business")


def batches(loan_ids: list[str], size: int) -> list[list[str]]:
    """The ids in batches of at most ``size``, in order."""
    return [loan_ids[i : i + size] for i in range(0, len(loan_ids), size)]


class _Checked:
    """What a batch did, counted."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {"loans_checked": 0, "loans_skipped": 0, "warnings": 0, "loans_failed": 0}

    def add(self, name: str, count: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + count


def recheck_batch(
    loan_ids: Iterable[str],
    month: date,
    *,
    store: LoanStore,
    applications: Applications,
    decrypt: Decrypt,
    bank_data: BankData,
    bureau: Bureau,
    electricity: Electricity,
    warnings: Warnings,
    publish: Callable[[Mapping[str, Any]], None],
    notify: Callable[[Mapping[str, Any]], None],
    catalogue: Catalogue,
    policy: DecisionPolicy,
    on_failure: Callable[[str, Exception], None] = lambda loan_id, exc: None,
) -> dict[str, Any]:
    """Re-check each loan of a batch; a loan whose vendor fails is counted and left for next month's run (or a
    re-run of this one), never stopping the others."""
    checked = _Checked()
    for loan_id in loan_ids:
        try:
            raised = recheck_loan(
                loan_id,
                month,
                store=store,
                applications=applications,
                decrypt=decrypt,
                bank_data=bank_data,
                bureau=bureau,
                electricity=electricity,
                warnings=warnings,
                publish=publish,
                notify=notify,
                catalogue=catalogue,
                policy=policy,
            )
        except LendingError as exc:
            on_failure(loan_id, exc)
            checked.add("loans_failed")
            continue
        if raised is None:
            checked.add("loans_skipped")
        else:
            checked.add("loans_checked")
            checked.add("warnings", raised)
    return {"month": f"{month:%Y-%m}", **checked.counts}


def facts_for(
    loan: ServicedLoan,
    application: Mapping[str, Any],
    holder: Applicant,
    *,
    bank_data: BankData,
    bureau: Bureau,
    electricity: Electricity,
    policy: DecisionPolicy,
) -> RecheckFacts:
    """This month's facts about the loan's business from the vendors, beside what origination found."""
    rules = policy.early_warning
    statement = bank_data.fetch_statements(holder.bank_account, rules.recent_months, holder=holder)
    flow = summarise_cash_flow(statement, policy.business_assessment)
    months = [m.month for m in flow.months]
    filings = bank_data.fetch_tax_filings(holder)
    covered = {f.period_start for f in filings}
    report = bureau.fetch_report(holder, str(application["application_id"]))
    readings = electricity.fetch_readings(
        str(application["business"]["name"]), rules.electricity_window_months, holder=holder
    )
    assessed = application.get("business_assessment") or {}
    origination = assessed.get("average_monthly_inflow")
    return RecheckFacts(
        opened_on=date.fromisoformat(str(loan.record["opened_on"])),
        recent_inflows=tuple(m.inflow for m in flow.months),
        origination_inflow=None if origination is None else Money.of(str(origination)),
        defaults=tuple(BureauDefault(d.reported_on, d.amount) for d in report.defaults),
        electricity_kwh=tuple(r.kwh for r in readings),
        recent_declared=declared_revenue(filings, months) if covered.issuperset(months) else None,
    )


def declared_revenue(filings: Iterable[TaxFiling], months: Iterable[date]) -> Money:
    """Revenue declared for the given months (evidence beside the bank's inflow)."""
    wanted = set(months)
    return total(f.declared_revenue for f in filings if f.period_start in wanted)


def recheck_loan(
    loan_id: str,
    month: date,
    *,
    store: LoanStore,
    applications: Applications,
    decrypt: Decrypt,
    bank_data: BankData,
    bureau: Bureau,
    electricity: Electricity,
    warnings: Warnings,
    publish: Callable[[Mapping[str, Any]], None],
    notify: Callable[[Mapping[str, Any]], None],
    catalogue: Catalogue,
    policy: DecisionPolicy,
) -> int | None:
    """Re-check one loan for ``month``: how many warnings it raised (None: not a loan the re-check watches now)."""
    first = store.load(loan_id)
    if first.status is not LoanStatus.ACTIVE or str(first.record["product"]) not in watched_products(catalogue):
        return None
    application = applications.get(first.chain)
    holder = Applicant.model_validate(decrypt(first.chain, application["pii"], APPLICANT_FIELDS))
    facts = facts_for(
        first, application, holder, bank_data=bank_data, bureau=bureau, electricity=electricity, policy=policy
    )
    found = matches(facts, policy.early_warning)
    as_of = month - timedelta(days=1)  # the last day of the whole months looked at

    def work(loan: ServicedLoan) -> int:
        terms = LoanTerms.from_record(loan.record, catalogue)
        is_line = terms.kind == "revolving"
        drawn = Money.ZERO
        if is_line:
            today = business_date()
            drawn = replay(terms, loan.events, loan.through(loan.events, today)).principal_outstanding
        outcome = decide(
            loan.loan_id,
            month=month,
            found=found,
            state=loan.state,
            is_line=is_line,
            drawn=drawn,
            policy=policy.early_warning,
            now=clock.now(),
            as_of=as_of,
        )
        if not outcome.changes:
            return 0
        for warning in outcome.warnings:
            _raise(warning, warnings=warnings, publish=publish, notify=notify)
        changes = dict(outcome.changes)
        if "warning_freeze" in changes:
            changes["frozen"] = True  # the projection reads and the close compare with
        store.save(
            loan,
            changes=changes,
            position=None,
            transaction=None,
            audit=(
                "early_warning",
                clock.now(),
                {
                    "month": f"{month:%Y-%m}",
                    "warnings": [
                        {"warning_id": w.warning_id, "kind": w.kind.value, "action": w.action.value}
                        for w in outcome.warnings
                    ],
                },
            ),
        )
        return len(outcome.warnings)

    return redo(store, loan_id, work, first)


def _raise(
    warning: Warning,
    *,
    warnings: Warnings,
    publish: Callable[[Mapping[str, Any]], None],
    notify: Callable[[Mapping[str, Any]], None],
) -> None:
    """Record the warning once, then publish it and tell the borrower, unless a run before did."""
    kept = warnings.record(warning.to_record())
    if kept.get("published_at"):
        return
    publish(warning.to_record())
    notify(warning.notice())
    warnings.mark_published(warning.warning_id, clock.now().isoformat())
