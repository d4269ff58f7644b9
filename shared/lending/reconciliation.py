"""The reconciliation report: does the ledger agree with itself, with the funding sources and with every loan?

Three independent witnesses are held against each other:
- the ledger's balances (posted, as stored) and its journal (balances rebuilt from the transactions);
- each loan's own history: its booking, funding shares and servicing events, replayed (lending.servicing);
- the funding sources' accounts in the ledger.

Checks (any failure makes the report not ok):
1. Trial balance: the posted balances sum to zero, and every stored balance equals the one rebuilt from the journal.
2. Per loan: the ledger's principal receivable equals the principal on the book its replay gives (none once
   written off), the funding booked for it (the loan's, and each booked drawdown's) equals the principal it paid
   out, and its loss allowance in the ledger is the provision its grade implies (the grade's rate × the principal
   on the book).
3. Per funding source: what the ledger says it disbursed equals the principal outstanding + principal repaid +
   written off of its shares of the loans, each loan split by its funding shares (largest remainder, to the fen).

The portfolio by delinquency bucket (count and principal) is given as of the close date, with the roll rates
between buckets from the day before: of the loans in bucket A then, the share in bucket B now.

:meth:`Report.to_record` is the report as JSON (what the nightly job keeps and ``GET /v1/ops/reconciliation``
answers): every check with its own verdict and figures, amounts as decimal strings, rates as 4-place decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.ledger import Account, AccountCode
from lending.money import Money
from lending.servicing import LoanStatus, LoanTerms, ServicingEvent, replay

CURRENT = "current"
#: Rates in the report's record (roll rates): a fraction to four places, as the contract writes rates.
RATE_PLACES = Decimal("0.0001")


def rate(part: int, whole: int) -> str:
    """``part / whole`` as the contract's rate text (``"0.2500"``), rounded half to even; ``"0.0000"`` of nothing."""
    if not whole:
        return str(RATE_PLACES * 0)
    return str((Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """What the report needs of one booked loan or line."""

    loan_id: str
    record: Mapping[str, Any]
    events: tuple[ServicingEvent, ...]
    aged_through: date
    fundings: tuple[Mapping[str, Money], ...]  # the shares of each funding booked for it (loan, drawdowns)


@dataclass(frozen=True, slots=True)
class SourceLine:
    source: str
    disbursed: Money  # the ledger's posted credit on the source's funding account
    outstanding: Money
    repaid: Money
    written_off: Money

    @property
    def ok(self) -> bool:
        return self.disbursed == self.outstanding + self.repaid + self.written_off


@dataclass(slots=True)
class Report:
    close_date: date
    trial_balance: Money
    unbalanced_accounts: list[str]
    sources: list[SourceLine]
    loan_problems: list[str]
    buckets: dict[str, tuple[int, Money]]  # bucket → (loans, principal outstanding)
    rolls: dict[tuple[str, str], int] = field(default_factory=dict)  # (bucket the day before, bucket now) → loans
    provisions: Money = Money.ZERO  # the allowance the loans' grades imply, which the ledger carries

    @property
    def ok(self) -> bool:
        return (
            not self.trial_balance
            and not self.unbalanced_accounts
            and not self.loan_problems
            and all(line.ok for line in self.sources)
        )

    def to_record(self) -> dict[str, Any]:
        """The report as plain JSON values: ``balanced`` (every check passed), then each check with its verdict
        and the figures behind it, the buckets and the roll rates. The same report gives the same record."""
        before = Counter[str]()
        for (start, _), count in self.rolls.items():
            before[start] += count
        return {
            "close_date": self.close_date.isoformat(),
            "balanced": self.ok,
            "trial_balance": {"balanced": not self.trial_balance, "total": str(self.trial_balance)},
            "accounts": {"balanced": not self.unbalanced_accounts, "differing": list(self.unbalanced_accounts)},
            "sources": [
                {
                    "source": line.source,
                    "balanced": line.ok,
                    "disbursed": str(line.disbursed),
                    "outstanding": str(line.outstanding),
                    "repaid": str(line.repaid),
                    "written_off": str(line.written_off),
                    "difference": str(line.disbursed - line.outstanding - line.repaid - line.written_off),
                }
                for line in self.sources
            ],
            "loans": {"balanced": not self.loan_problems, "problems": list(self.loan_problems)},
            "loss_allowance": str(self.provisions),
            "buckets": [
                {"bucket": bucket, "loans": count, "principal_outstanding": str(principal)}
                for bucket, (count, principal) in self.buckets.items()
            ],
            "roll_rates": [
                {"from_bucket": start, "to_bucket": end, "loans": count, "rate": rate(count, before[start])}
                for (start, end), count in sorted(self.rolls.items())
            ],
        }

    def roll_rates(self) -> dict[tuple[str, str], float]:
        before = Counter[str]()
        for (start, _), count in self.rolls.items():
            before[start] += count
        return {(a, b): count / before[a] for (a, b), count in self.rolls.items() if before[a]}

    def render(self) -> str:
        lines = [f"reconciliation as of {self.close_date}", ""]
        lines.append(f"trial balance            {self.trial_balance}  {'ok' if not self.trial_balance else 'NOT ZERO'}")
        lines.append(
            "stored vs rebuilt        "
            + ("ok" if not self.unbalanced_accounts else "DIFFER: " + ", ".join(self.unbalanced_accounts))
        )
        lines += ["", f"{'funding source':<22}{'disbursed':>16}{'outstanding':>16}{'repaid':>16}{'written off':>14}"]
        for line in self.sources:
            lines.append(
                f"{line.source:<22}{line.disbursed!s:>16}{line.outstanding!s:>16}{line.repaid!s:>16}"
                f"{line.written_off!s:>14}  {'ok' if line.ok else 'DOES NOT ADD UP'}"
            )
        lines.append(f"loss allowance           {self.provisions}")
        lines += ["", "loans                    " + ("ok" if not self.loan_problems else "PROBLEMS")]
        lines += [f"  {problem}" for problem in self.loan_problems]
        lines += ["", f"{'bucket':<14}{'loans':>8}{'principal':>18}"]
        for bucket, (count, principal) in self.buckets.items():
            lines.append(f"{bucket:<14}{count:>8}{principal!s:>18}")
        rates = self.roll_rates()
        lines += ["", f"roll rates {self.close_date - timedelta(days=1)} → {self.close_date}"]
        if not rates:
            lines.append("  (no loans)")
        for (start, end), rate in sorted(rates.items()):
            lines.append(f"  {start:<12} → {end:<12} {rate:7.2%}  ({self.rolls[(start, end)]} loans)")
        lines += ["", "BALANCED" if self.ok else "DOES NOT BALANCE"]
        return "\n".join(lines)


def split(amount: Money, weights: Mapping[str, int]) -> dict[str, Money]:
    """``amount`` split in proportion to integer ``weights``, to the fen (largest remainder; ties by name)."""
    whole = sum(weights.values())
    if not whole:
        return dict.fromkeys(weights, Money.ZERO)
    floors = {name: amount.fen * weight // whole for name, weight in weights.items()}
    left = amount.fen - sum(floors.values())
    by_remainder = sorted(weights, key=lambda name: (-(amount.fen * weights[name] % whole), name))
    for name in by_remainder[:left]:
        floors[name] += 1
    return {name: Money(fen) for name, fen in floors.items()}


def build_report(
    *,
    posted: Mapping[Account, int],
    unbalanced_accounts: Iterable[Account],
    loans: Sequence[LoanFacts],
    catalogue: Catalogue,
    close_date: date | None = None,
) -> Report:
    """The report from the ledger's posted balances, the accounts whose stored balance differs from the rebuilt one,
    and the loans' facts."""
    day = close_date or max((loan.aged_through for loan in loans), default=business_date())
    problems: list[str] = []
    outstanding: Counter[str] = Counter()
    repaid: Counter[str] = Counter()
    written_off: Counter[str] = Counter()
    buckets: dict[str, tuple[int, Money]] = {CURRENT: (0, Money.ZERO)}
    for defined in catalogue.delinquency_buckets:
        buckets[defined.code] = (0, Money.ZERO)
    rolls: Counter[tuple[str, str]] = Counter()
    provisions = 0
    for loan in loans:
        terms = LoanTerms.from_record(loan.record, catalogue)
        through = max([loan.aged_through, *(e.on for e in loan.events)])
        position = replay(terms, loan.events, through)
        in_ledger = Money(posted.get(Account(AccountCode.PRINCIPAL_RECEIVABLE, loan.loan_id), 0))
        if in_ledger != position.principal_on_book:
            problems.append(f"{loan.loan_id}: ledger principal {in_ledger}, its history {position.principal_on_book}")
        allowance = Money(-posted.get(Account(AccountCode.LOAN_LOSS_ALLOWANCE, loan.loan_id), 0))  # credit-normal
        if allowance != position.provision:
            problems.append(
                f"{loan.loan_id}: ledger allowance {allowance}, its grade ({terms.classification}) implies "
                f"{position.provision}"
            )
        provisions += position.provision.fen
        paid_out = (Money.of(str(loan.record["principal"])) if terms.kind == "instalment" else Money.ZERO) + (
            position.drawn
        )
        funded = Money(sum(share.fen for funding in loan.fundings for share in funding.values()))
        if funded != paid_out:
            problems.append(f"{loan.loan_id}: funded {funded}, paid out {paid_out}")
        weights: Counter[str] = Counter()
        for funding in loan.fundings:
            for source, share in funding.items():
                weights[source] += share.fen
        booked_principal = Money(position.booked.get(Account(AccountCode.PRINCIPAL_RECEIVABLE, loan.loan_id), 0))
        principal_repaid = position.drawn - booked_principal - position.written_off
        write_offs = position.written_off  # the principal taken off the book (the write-off also took interest)
        for source, part in split(in_ledger, weights).items():
            outstanding[source] += part.fen
        for source, part in split(principal_repaid, weights).items():
            repaid[source] += part.fen
        for source, part in split(write_offs, weights).items():
            written_off[source] += part.fen
        if day >= terms.opened_on:
            now = replay(terms, [e for e in loan.events if e.on <= day], max(day, terms.opened_on))
            bucket = now.bucket or CURRENT
            count, principal = buckets[bucket]
            buckets[bucket] = (count + 1, principal + now.principal_outstanding)
            previous_day = day - timedelta(days=1)
            if previous_day >= terms.opened_on and now.status is LoanStatus.ACTIVE:
                before = replay(terms, [e for e in loan.events if e.on <= previous_day], previous_day)
                rolls[(before.bucket or CURRENT, bucket)] += 1
    # The allowance is only ever raised against provision expense: the two move together, book-wide.
    expense = Money(posted.get(Account(AccountCode.PROVISION_EXPENSE), 0))
    if expense != Money(provisions):
        problems.append(f"provision expense {expense}, the loans' allowances {Money(provisions)}")
    sources = []
    for account, fen in sorted(posted.items(), key=lambda item: str(item[0])):
        if account.code is not AccountCode.FUNDING:
            continue
        source = account.key
        sources.append(
            SourceLine(
                source,
                Money(-fen),
                Money(outstanding[source]),
                Money(repaid[source]),
                Money(written_off[source]),
            )
        )
    return Report(
        close_date=day,
        trial_balance=Money(sum(posted.values())),
        unbalanced_accounts=[str(a) for a in unbalanced_accounts],
        sources=sources,
        loan_problems=problems,
        buckets=buckets,
        rolls=dict(rolls),
        provisions=Money(provisions),
    )
