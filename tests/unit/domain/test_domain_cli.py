"""``lending quote``: JSON by default, a table for people, one-line errors and no tracebacks."""

from __future__ import annotations

import json

import pytest

from lending.cli import main

EXAMPLE = [
    "quote",
    "--product",
    "business_instalment",
    "--amount",
    "120000",
    "--months",
    "12",
    "--annual-rate",
    "0.12",
    "--method",
    "equal_instalment",
    "--start",
    "2026-01-15",
]


def test_the_issue_example_prints_the_schedule_and_apr_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(EXAMPLE) == 0
    quote = json.loads(capsys.readouterr().out)
    assert {"schedule", "total_interest", "apr", "effective_annual_rate"} <= set(quote)
    assert quote["apr"] == "0.1200"
    assert quote["total_interest"] == "7942.26"
    assert quote["schedule"][0] == {
        "number": 1,
        "due_date": "2026-02-15",
        "principal": "9461.85",
        "interest": "1200.00",
        "total": "10661.85",
    }


def test_the_table_view_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*EXAMPLE, "--table"]) == 0
    out = capsys.readouterr().out
    assert "APR 12.00%" in out
    assert "10661.85" in out


def test_priced_from_the_catalogue_it_applies_the_product_fee(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "quote",
        "--product",
        "business_instalment",
        "--amount",
        "120000",
        "--months",
        "12",
        "--grade",
        "C",
        "--industry",
        "retail",
        "--method",
        "equal_principal",
        "--start",
        "2026-01-31",
    ]
    assert main(args) == 0
    quote = json.loads(capsys.readouterr().out)
    assert (quote["annual_rate"], quote["upfront_fee"]) == ("0.1280", "1200.00")
    assert quote["apr"] > quote["annual_rate"]


@pytest.mark.parametrize(
    "change",
    [
        ["--amount", "1.234"],
        ["--product", "mortgage"],
        ["--fee", "30000", "--months", "3"],
        ["--grade", "C"],
        ["--start", "yesterday"],
        ["--method", "balloon"],
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(
    change: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([*EXAMPLE, *change])
    err = capsys.readouterr().err
    assert status != 0
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
