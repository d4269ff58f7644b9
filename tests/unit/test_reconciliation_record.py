"""The reconciliation report as JSON (what the nightly job keeps and operations read), and its fitting into one
DynamoDB item."""

from __future__ import annotations

import gzip
import json
from datetime import date

from lending.adapters.reconciliation_store import fitted
from lending.api.ops_models import ReconciliationView
from lending.money import Money
from lending.reconciliation import Report, SourceLine

DAY = date(2026, 3, 15)


def _report(**changes: object) -> Report:
    fields: dict[str, object] = {
        "close_date": DAY,
        "trial_balance": Money.ZERO,
        "unbalanced_accounts": [],
        "sources": [
            SourceLine("own_capital", Money.of("3600.00"), Money.of("3000.00"), Money.of("600.00"), Money.ZERO),
            SourceLine("partner:bank_a", Money.of("8400.00"), Money.of("7000.00"), Money.of("1400.00"), Money.ZERO),
        ],
        "loan_problems": [],
        "buckets": {"current": (2, Money.of("10000.00")), "dpd_1_30": (1, Money.of("0.00"))},
        "rolls": {("current", "current"): 3, ("current", "dpd_1_30"): 1},
    }
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


def test_a_balanced_report_says_so_check_by_check_in_the_contracts_terms() -> None:
    record = _report().to_record()
    assert record["close_date"] == "2026-03-15"
    assert record["balanced"] is True
    assert record["trial_balance"] == {"balanced": True, "total": "0.00"}
    assert record["accounts"] == {"balanced": True, "differing": []}
    assert record["sources"][1] == {
        "source": "partner:bank_a",
        "balanced": True,
        "disbursed": "8400.00",
        "outstanding": "7000.00",
        "repaid": "1400.00",
        "written_off": "0.00",
        "difference": "0.00",
    }
    assert record["buckets"][0] == {"bucket": "current", "loans": 2, "principal_outstanding": "10000.00"}
    # Roll rates are rates (4-place decimal strings) of the loans in the bucket the day before
    assert record["roll_rates"] == [
        {"from_bucket": "current", "to_bucket": "current", "loans": 3, "rate": "0.7500"},
        {"from_bucket": "current", "to_bucket": "dpd_1_30", "loans": 1, "rate": "0.2500"},
    ]
    # And it is plain JSON the API's view takes as it is
    assert json.loads(json.dumps(record)) == record
    assert ReconciliationView.model_validate(record).model_dump(mode="json") == {
        **record,
        "loans": {**record["loans"], "problems_omitted": 0},
    }


def test_every_difference_is_in_the_record_and_the_verdict_is_not_balanced() -> None:
    short = SourceLine("own_capital", Money.of("3600.00"), Money.of("3000.00"), Money.of("599.00"), Money.ZERO)
    record = _report(
        trial_balance=Money(-1),
        unbalanced_accounts=["fee_income"],
        sources=[short],
        loan_problems=["L-1: ledger principal 100.00, its history 0.00"],
    ).to_record()
    assert record["balanced"] is False
    assert record["trial_balance"] == {"balanced": False, "total": "-0.01"}
    assert record["accounts"] == {"balanced": False, "differing": ["fee_income"]}
    assert (record["sources"][0]["balanced"], record["sources"][0]["difference"]) == (False, "1.00")
    assert record["loans"] == {"balanced": False, "problems": ["L-1: ledger principal 100.00, its history 0.00"]}


def test_the_same_report_is_kept_as_the_same_bytes() -> None:
    assert fitted(_report().to_record()) == fitted(_report().to_record())


def test_a_report_too_large_for_an_item_keeps_the_problems_that_fit_and_counts_the_rest() -> None:
    # Given books with a problem on each of 20,000 loans
    problems = [f"loan_{n:08d}: ledger principal {n}.00, its history 0.00" for n in range(20_000)]
    record = _report(loan_problems=problems).to_record()

    # When it is fitted into 50 KB
    data = fitted(record, limit=50_000)

    # Then it fits, with the first problems in order and the number left out; the verdict and the rest whole
    kept = json.loads(gzip.decompress(data))
    assert len(data) <= 50_000
    count = len(kept["loans"]["problems"])
    assert 0 < count < 20_000
    assert kept["loans"]["problems"] == problems[:count]
    assert kept["loans"]["problems_omitted"] == 20_000 - count
    assert {k: v for k, v in kept.items() if k != "loans"} == {k: v for k, v in record.items() if k != "loans"}
    assert kept["balanced"] is False
