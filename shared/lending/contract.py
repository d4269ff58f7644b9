"""The contract a borrower accepts: one canonical document per offer, amount, term and issue date, and its hash.

The document is plain JSON (strings, integers and booleans; money and rates as the API writes them) serialised
canonically — keys sorted, no whitespace, UTF-8 — and its SHA-256 is what the borrower signs by accepting. The
human text, in Chinese and in English, is part of the document, so the hash covers what the borrower read; both
texts state the APR and the total cost of credit before anything else.

The same inputs give the same document and hash: nothing in it reads a clock or a random source.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lending.catalogue import Catalogue, EarlyRepayment, InterestMethod, Method, Product
from lending.errors import ProductRuleViolation
from lending.money import Money
from lending.pricing import make_offer, penalty_annual_rate
from lending.rates import format_rate
from lending.restructuring import RestructuredPlan

#: Changes whenever the document's shape or wording changes, so an old hash never matches a new text.
CONTRACT_VERSION = "2026-12-04.2"

ZH, EN = "zh-CN", "en"
LANGUAGES = (ZH, EN)


@dataclass(frozen=True, slots=True)
class FundingPartner:
    """A co-lending partner that may fund part of the loan, and the share it funds when it does."""

    name: str
    share: Decimal


@dataclass(frozen=True, slots=True)
class Contract:
    """A rendered contract: its canonical document and the hash that accepting it signs."""

    document: Mapping[str, Any]
    sha256: str

    @property
    def contract_id(self) -> str:
        return "ctr_" + self.sha256[:24]

    def text(self, language: str) -> str:
        texts: Mapping[str, str] = self.document["text"]
        return texts[language if language in texts else ZH]

    @property
    def amount(self) -> Money:
        return Money.of(self.document["amount"])

    @property
    def term_months(self) -> int:
        return int(self.document["term_months"])


def largest_instalment(contract: Contract) -> Money:
    """The largest single payment the contract's schedule asks for (a line's agreement: none)."""
    return max((Money.of(row["total"]) for row in contract.document["schedule"]), default=Money.ZERO)


def line_apr(annual_rate: Decimal, day_count_basis: int) -> Decimal:
    """A line's APR: interest by the day on a ``day_count_basis`` year, stated monthly, is ``annual_rate`` × 365 /
    basis over a calendar year (the IRR of drawing and keeping the whole limit, to four places)."""
    return (annual_rate * 365 / day_count_basis).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no insignificant whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def chosen_terms(
    offer: Mapping[str, Any], product: Product, amount: Money | None, term_months: int | None
) -> tuple[Money, int]:
    """The amount and term the borrower asks for: the offer's, or less of either within the offer and the product.

    Raises ProductRuleViolation naming what is outside the offer.
    """
    limit = Money.of(offer["limit"])
    offered_term = int(offer["term_months"])
    amount = limit if amount is None else amount
    term = offered_term if term_months is None else term_months
    if amount > limit:
        raise ProductRuleViolation(f"the offer is for at most {limit}, not {amount}")
    if amount < product.min_amount:
        raise ProductRuleViolation(f"{product.code} lends at least {product.min_amount}, not {amount}")
    if product.kind == "revolving":
        if term != offered_term:
            raise ProductRuleViolation(f"a line runs for its offered {offered_term} months")
    elif not product.min_term_months <= term <= offered_term:
        raise ProductRuleViolation(f"the offer runs {product.min_term_months}–{offered_term} months, not {term}")
    return amount, term


def render(
    application: Mapping[str, Any],
    catalogue: Catalogue,
    *,
    amount: Money,
    term_months: int,
    issued_on: date,
    expires_at: str,
    partners: Sequence[FundingPartner],
) -> Contract:
    """The contract for an approved application's offer at ``amount`` over ``term_months``, issued on ``issued_on``
    (its schedule starts then; the contract says that due dates follow the actual payout day)."""
    offer = application["offer"]
    product = catalogue.product(offer["product"])
    annual_rate = Decimal(offer["annual_rate"])
    penalty = penalty_annual_rate(product, annual_rate, catalogue.rate_cap.annual_rate)
    document: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "application_id": application["application_id"],
        "borrower_id": application["borrower_id"],
        "issued_on": issued_on.isoformat(),
        "expires_at": expires_at,
        "product": {"code": product.code, "name": product.name, "kind": product.kind},
        "amount": str(amount),
        "term_months": term_months,
        "annual_rate": format_rate(annual_rate),
        "penalty_annual_rate": format_rate(penalty),
        "day_count_basis": product.day_count_basis,
        "consent": {k: bool(v) for k, v in sorted((application.get("consent") or {}).items())},
        "funding": [{"partner": p.name, "share": str(p.share)} for p in partners],
    }
    if product.kind == "revolving":
        document |= _line_terms(product, amount, annual_rate)
    else:
        document |= _loan_terms(
            catalogue, product, amount, term_months, Method(offer["method"]), issued_on, annual_rate
        )
    document["text"] = {ZH: _chinese(document), EN: _english(document)}
    return Contract(document, digest(document))


def _loan_terms(
    catalogue: Catalogue,
    product: Product,
    amount: Money,
    months: int,
    method: Method,
    start: date,
    annual_rate: Decimal,
) -> dict[str, Any]:
    priced = make_offer(catalogue, product.code, amount, months, method, start, annual_rate)
    schedule = priced.schedule
    fees = priced.upfront_fee + schedule.total_fees
    repayable = Money(sum(i.total.fen for i in schedule.instalments))
    return {
        "apr": format_rate(priced.apr),
        "total_interest": str(schedule.total_interest),
        "total_fees": str(fees),
        "total_cost_of_credit": str(schedule.total_interest + fees),
        "total_repayable": str(repayable),
        "upfront_fee": str(priced.upfront_fee),
        "net_disbursement": str(priced.net_disbursement),
        "method": method.value,
        "interest_method": product.interest_method.value,
        "early_repayment": product.early_repayment.value,
        "schedule": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "principal": str(i.principal),
                "interest": str(i.interest),
                "fee": str(i.fee),
                "total": str(i.total),
            }
            for i in schedule.instalments
        ],
    }


def _line_terms(product: Product, limit: Money, annual_rate: Decimal) -> dict[str, Any]:
    """A line's cost depends on what is drawn: the disclosed example is the whole limit drawn for a year."""
    interest = Money.of(
        (limit.to_decimal() * annual_rate * 365 / product.day_count_basis).quantize(Decimal("0.01"), ROUND_HALF_UP)
    )
    return {
        "apr": format_rate(line_apr(annual_rate, product.day_count_basis)),
        "total_interest": str(interest),
        "total_fees": "0.00",
        "total_cost_of_credit": str(interest),
        "total_repayable": str(limit + interest),
        "upfront_fee": "0.00",
        "net_disbursement": "0.00",
        "method": None,
        "interest_method": InterestMethod.DAILY.value,
        "early_repayment": "any_time_without_fee",
        "schedule": [],
    }


def _percent(rate: str) -> str:
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"


#: The products' names in Chinese (the catalogue's are English), by code; an unknown code shows the catalogue's.
_PRODUCT_ZH = {
    "business_instalment": "经营性贷款（分期）",
    "consumer_instalment": "个人消费贷款（分期）",
    "credit_line": "循环经营授信额度",
    "startup_plan": "初创企业贷款计划",
}
_CONSENT_ZH = {"credit_report": "授权查询征信报告", "data_processing": "同意处理个人信息"}
_CONSENT_EN = {"credit_report": "your credit report being checked", "data_processing": "your data being processed"}
_METHOD_EN = {
    "equal_instalment": "equal instalments",
    "equal_principal": "equal principal",
    "interest_only_grace": "interest only during the grace period, then equal instalments",
}
_METHOD_ZH = {
    "equal_instalment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only_grace": "先息后本（宽限期）",
}
_EARLY_ZH = {
    EarlyRepayment.SHORTEN_TERM.value: "提前还款只收取截至还款当日的利息，其余用于归还本金，并缩短剩余期限",
    EarlyRepayment.REDUCE_INSTALMENT.value: "提前还款只收取截至还款当日的利息，其余用于归还本金，并减少每期还款额",
    "any_time_without_fee": "可随时提前还款，不收取任何费用，只收取截至还款当日的利息",
}
_EARLY_EN = {
    EarlyRepayment.SHORTEN_TERM.value: "an early repayment pays only the interest accrued to its day; the rest repays "
    "principal and shortens the remaining term",
    EarlyRepayment.REDUCE_INSTALMENT.value: "an early repayment pays only the interest accrued to its day; the rest "
    "repays principal and lowers each remaining instalment",
    "any_time_without_fee": "repay any time without a fee; only the interest accrued to that day is charged",
}


def _chinese(d: Mapping[str, Any]) -> str:
    line = d["product"]["kind"] == "revolving"
    head = [
        f"年化利率（APR，按内部收益率计算）：{_percent(d['apr'])}",
        (f"示例：全额使用 {d['amount']} 元一年的" if line else "")
        + f"借款总成本：{d['total_cost_of_credit']} 元（利息 {d['total_interest']} 元，费用 {d['total_fees']} 元）",
        f"应还总额：{d['total_repayable']} 元",
        "",
        f"产品：{_PRODUCT_ZH.get(d['product']['code'], d['product']['name'])}（{d['product']['code']}）",
        ("授信额度" if line else "借款金额") + f"：{d['amount']} 元，期限 {d['term_months']} 个月",
        f"合同年利率：{_percent(d['annual_rate'])}，按 {d['day_count_basis']} 天计息",
    ]
    if line:
        head.append("利息按日计算，仅对已使用的金额计息")
    else:
        head += [
            f"还款方式：{_METHOD_ZH.get(d['method'], d['method'])}",
            f"放款前扣除的费用：{d['upfront_fee']} 元，实际到账 {d['net_disbursement']} 元",
            f"还款计划（以 {d['issued_on']} 放款计；实际放款日不同时，还款日随放款日顺延）：",
            *(
                f"  第 {r['number']} 期 {r['due_date']}：本金 {r['principal']}，利息 {r['interest']}，"
                f"费用 {r['fee']}，合计 {r['total']} 元"
                for r in d["schedule"]
            ),
        ]
    head += [
        f"逾期罚息：逾期金额按年利率 {_percent(d['penalty_annual_rate'])} 按日计收（不超过法定上限）",
        f"提前还款：{_EARLY_ZH[d['early_repayment']]}",
    ]
    if d["funding"]:
        parts = "、".join(f"{f['partner']}（出资 {_percent(f['share'])}）" for f in d["funding"])
        head.append(
            f"联合贷款：本笔借款可能由平台与以下合作机构之一共同出资，合作机构按所列比例出资，其余由平台出资：{parts}"
        )
    consent = "、".join(_CONSENT_ZH.get(k, k) for k, v in d["consent"].items() if v)
    head += [f"您已同意：{consent}", f"本要约有效期至 {d['expires_at']}（UTC）"]
    return "\n".join(head)


def _english(d: Mapping[str, Any]) -> str:
    line = d["product"]["kind"] == "revolving"
    head = [
        f"APR (annualised, IRR-based): {_percent(d['apr'])}",
        ("Example, the whole limit of CNY " + d["amount"] + " used for a year: t" if line else "T")
        + f"otal cost of credit: CNY {d['total_cost_of_credit']} "
        f"(interest {d['total_interest']}, fees {d['total_fees']})",
        f"Total to repay: CNY {d['total_repayable']}",
        "",
        f"Product: {d['product']['name']} ({d['product']['code']})",
        ("Credit limit" if line else "Amount") + f": CNY {d['amount']}, term {d['term_months']} months",
        f"Contract annual rate: {_percent(d['annual_rate'])}, on a {d['day_count_basis']}-day year",
    ]
    if line:
        head.append("Interest accrues daily on the amount drawn only")
    else:
        head += [
            f"Repayment method: {_METHOD_EN.get(d['method'], d['method'])}",
            f"Fees deducted from the payout: CNY {d['upfront_fee']}; you receive CNY {d['net_disbursement']}",
            f"Schedule (for a payout on {d['issued_on']}; due dates follow the actual payout day):",
            *(
                f"  {r['number']}. {r['due_date']}: principal {r['principal']}, interest {r['interest']}, "
                f"fee {r['fee']}, total {r['total']}"
                for r in d["schedule"]
            ),
        ]
    head += [
        f"Late payment: penalty interest at {_percent(d['penalty_annual_rate'])} a year, by the day, on amounts "
        "overdue (never above the legal cap)",
        f"Early repayment: {_EARLY_EN[d['early_repayment']]}",
    ]
    if d["funding"]:
        parts = "; ".join(f"{f['partner']} ({_percent(f['share'])})" for f in d["funding"])
        head.append(
            "Co-lending: this loan may be funded jointly by the platform and one of these partners, the partner "
            f"funding the share shown and the platform the rest: {parts}"
        )
    consent = ", ".join(_CONSENT_EN.get(k, k) for k, v in d["consent"].items() if v)
    head += [f"You consented to: {consent}", f"This offer is open until {d['expires_at']} (UTC)"]
    return "\n".join(head)


# Hardship relief: the restructured plan offered as a new contract (lending.restructuring)

_RELIEF_ZH = {"payment_holiday": "延期还款（还款假期）", "term_extension": "延长期限"}
_RELIEF_EN = {"payment_holiday": "payment holiday", "term_extension": "term extension"}


def render_restructure(
    loan: Mapping[str, Any],
    request_id: str,
    plan: RestructuredPlan,
    catalogue: Catalogue,
    *,
    expires_at: str,
) -> Contract:
    """The contract for a loan's restructured plan: the same canonical document and hash as a loan's contract,
    with the relief and the plan that replaces the unpaid instalments from ``plan.on``."""
    product = catalogue.product(str(loan["product"]))
    annual_rate = Decimal(str(loan["annual_rate"]))
    penalty = penalty_annual_rate(product, annual_rate, catalogue.rate_cap.annual_rate)
    fees = plan.total_fees
    document: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "contract_kind": "restructure",
        "request_id": request_id,
        "loan_id": str(loan["loan_id"]),
        "application_id": str(loan["application_id"]),
        "borrower_id": str(loan["borrower_id"]),
        "issued_on": plan.on.isoformat(),
        "expires_at": expires_at,
        "product": {"code": product.code, "name": product.name, "kind": product.kind},
        "relief": {"kind": plan.kind.value, "months": plan.months},
        "amount": str(plan.principal),
        "term_months": len(plan.instalments),
        "annual_rate": format_rate(annual_rate),
        "penalty_annual_rate": format_rate(penalty),
        "day_count_basis": product.day_count_basis,
        "apr": format_rate(plan.apr),
        "holiday_interest": str(plan.holiday_interest),
        "total_interest": str(plan.total_interest),
        "total_fees": str(fees),
        "total_cost_of_credit": str(plan.total_interest + fees),
        "total_repayable": str(plan.total_repayable),
        "schedule": [
            {
                "number": p.instalment.number,
                "due_date": p.instalment.due_date.isoformat(),
                "principal": str(p.instalment.principal),
                "interest": str(p.instalment.interest),
                "fee": str(p.instalment.fee),
                "total": str(p.instalment.total),
            }
            for p in plan.instalments
        ],
    }
    document["text"] = {ZH: _restructure_chinese(document), EN: _restructure_english(document)}
    return Contract(document, digest(document))


def _restructure_chinese(d: Mapping[str, Any]) -> str:
    relief = d["relief"]
    lines = [
        f"年化利率（APR，按内部收益率计算）：{_percent(d['apr'])}",
        f"剩余借款总成本：{d['total_cost_of_credit']} 元（利息 {d['total_interest']} 元，费用 {d['total_fees']} 元）",
        f"应还总额：{d['total_repayable']} 元",
        "",
        f"还款困难救济：{_RELIEF_ZH[relief['kind']]} {relief['months']} 个月，自 {d['issued_on']} 起生效",
        f"贷款编号：{d['loan_id']}，剩余本金 {d['amount']} 元，合同年利率 {_percent(d['annual_rate'])}",
        "已到期未还的本金计入新计划的本金，利息和费用平均分摊到各期，不计入本金、不计复利",
    ]
    if relief["kind"] == "payment_holiday":
        lines.append(f"还款假期内的利息 {d['holiday_interest']} 元平均分摊到剩余各期，不计复利")
    lines += [
        "新的还款计划：",
        *(
            f"  第 {r['number']} 期 {r['due_date']}：本金 {r['principal']}，利息 {r['interest']}，"
            f"费用 {r['fee']}，合计 {r['total']} 元"
            for r in d["schedule"]
        ),
        f"逾期罚息：逾期金额按年利率 {_percent(d['penalty_annual_rate'])} 按日计收（不超过法定上限）",
        f"本要约有效期至 {d['expires_at']}（UTC）",
    ]
    return "\n".join(lines)


def _restructure_english(d: Mapping[str, Any]) -> str:
    relief = d["relief"]
    lines = [
        f"APR (annualised, IRR-based): {_percent(d['apr'])}",
        f"Remaining cost of credit: CNY {d['total_cost_of_credit']} "
        f"(interest {d['total_interest']}, fees {d['total_fees']})",
        f"Total to repay: CNY {d['total_repayable']}",
        "",
        f"Hardship relief: a {_RELIEF_EN[relief['kind']]} of {relief['months']} months, from {d['issued_on']}",
        f"Loan {d['loan_id']}: principal outstanding CNY {d['amount']}, contract rate {_percent(d['annual_rate'])}",
        "Principal overdue joins the new plan's principal; interest and fees overdue are spread over the "
        "instalments, never added to the principal, never compounded",
    ]
    if relief["kind"] == "payment_holiday":
        lines.append(
            f"The holiday's interest, CNY {d['holiday_interest']}, is spread over the instalments, not compounded"
        )
    lines += [
        "New schedule:",
        *(
            f"  {r['number']}. {r['due_date']}: principal {r['principal']}, interest {r['interest']}, "
            f"fee {r['fee']}, total {r['total']}"
            for r in d["schedule"]
        ),
        f"Late payment: penalty interest at {_percent(d['penalty_annual_rate'])} a year, by the day, on amounts "
        "overdue (never above the legal cap)",
        f"This offer is open until {d['expires_at']} (UTC)",
    ]
    return "\n".join(lines)
