"""The cost of exactness: Decimal/fen schedules and a whole loan life, beside numpy-financial floats.

Goal (issue 2): a 36-month schedule and a replay of a whole loan life (schedule, 36 repayments, ledger postings,
audit chain) each under 5 ms on this machine.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import numpy_financial as npf

from lending import bookkeeping
from lending.audit import AuditChain
from lending.catalogue import Method
from lending.ledger import Ledger
from lending.loan import InstalmentLoan
from lending.money import Money
from lending.schedule import build_schedule

PRINCIPAL = Money.of("120000.00")
ANNUAL_RATE = Decimal("0.1250")
MONTHS = 36
START = date(2026, 1, 31)
GOAL_MS = 5.0


def exact_schedule() -> Any:
    """The domain's schedule: Decimal maths, fen rounding, remainder in the last instalment."""
    return build_schedule(PRINCIPAL, ANNUAL_RATE, MONTHS, Method.EQUAL_INSTALMENT, START)


def float_schedule() -> Any:
    """numpy-financial's pmt/ipmt/ppmt for the same loan, in float64."""
    rate = float(ANNUAL_RATE) / 12
    periods = np.arange(1, MONTHS + 1)
    payment = npf.pmt(rate, MONTHS, -120000.0)
    return payment, npf.ipmt(rate, periods, MONTHS, -120000.0), npf.ppmt(rate, periods, MONTHS, -120000.0)


def loan_life() -> tuple[InstalmentLoan, Ledger, AuditChain]:
    """Book a loan, pay each of its 36 instalments on the due date, post every transaction and audit every step."""
    schedule = exact_schedule()
    loan = InstalmentLoan("L-1", schedule, penalty_annual_rate=Decimal("0.1875"))
    ledger = Ledger()
    chain = AuditChain()
    at = datetime.combine(START, time(9), tzinfo=UTC)
    ledger.reserve(bookkeeping.funding_reservation("L-1/reserve", "L-1", {"own_capital": PRINCIPAL}, START))
    ledger.post_pending("L-1/reserve", "L-1/reserve/post")
    ledger.record(bookkeeping.disbursement("L-1/disburse", "L-1", PRINCIPAL, Money.ZERO, START))
    chain.append("L-1", "loan_booked", at, {"principal": str(PRINCIPAL), "instalments": len(schedule.instalments)})
    for instalment in schedule.instalments:
        recognised, applied = loan.apply_payment(instalment.total, instalment.due_date)
        tx = bookkeeping.recognition(f"L-1/recognise/{instalment.number}", "L-1", recognised, instalment.due_date)
        if tx is not None:
            ledger.record(tx)
        ledger.record(bookkeeping.repayment(f"L-1/pay/{instalment.number}", "L-1", applied, instalment.due_date))
        chain.append("L-1", "repayment", at, {"amount": str(instalment.total), "number": instalment.number})
    return loan, ledger, chain


def check_life() -> None:
    """The replay the benchmark times must end closed, balanced, rebuildable and with an intact chain."""
    loan, ledger, chain = loan_life()
    if not loan.is_closed or ledger.trial_balance() or ledger.rebuild() != ledger.balances() or chain.verify():
        raise AssertionError("the benchmark's loan life did not end closed, balanced and verified")


def _timings_ms(function: Callable[[], object], number: int, repeat: int = 15) -> tuple[float, float]:
    """(median, best) milliseconds per call over ``repeat`` samples of ``number`` calls (this VM is noisy)."""
    runs = [run / number * 1000 for run in timeit.repeat(function, number=number, repeat=repeat)]
    return statistics.median(runs), min(runs)


def run() -> dict[str, Any]:
    """Measure and return the figures."""
    check_life()  # warm up, and prove what is timed is right
    exact_ms, exact_best = _timings_ms(exact_schedule, 200)
    float_ms, float_best = _timings_ms(float_schedule, 2000)
    life_ms, life_best = _timings_ms(loan_life, 20)
    return {
        "schedule_36_exact_ms_p50": round(exact_ms, 3),
        "schedule_36_exact_ms_best": round(exact_best, 3),
        "schedule_36_numpy_financial_ms_p50": round(float_ms, 3),
        "schedule_36_numpy_financial_ms_best": round(float_best, 3),
        "schedule_exact_vs_float_ratio": round(exact_ms / float_ms, 2),
        "loan_life_36_ms_p50": round(life_ms, 3),
        "loan_life_36_ms_best": round(life_best, 3),
        "loan_life_vs_float_schedule_ratio": round(life_ms / float_ms, 1),
        "goal_ms": GOAL_MS,
        "within_goal": exact_ms < GOAL_MS and life_ms < GOAL_MS,
    }
