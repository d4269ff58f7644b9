"""The sandbox's phone rules hold for every valid application within the product's limits, any amount and term.

The contract says phone ``…0001`` is approved automatically, ``…0002`` declined with reasons and ``…0003`` referred
to an underwriter, "as a test card's outcome does not depend on the basket". Each application here runs through
the workflow's own steps (score, assess, decide) with in-memory application and audit ports, the real vendor
clients against the running sandbox vendors, the shipped model, catalogue and policy: exactly the facts and the
evidence the workflow would get, decided as it would decide them, in seconds rather than over the HTTP front.

The grid covers, for each product and each of its repayment methods, its smallest and largest amount and a few
between (the amounts the end-to-end tests and the issue name among them), its shortest and longest term and two
between, and the industry priced highest, so the rate, the fee and the coverage are at their hardest; and, at the
corners of each product, its youngest and its oldest applicant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from in_memory_steps import Applications, Audit, decrypt

from infra.local.vendors import SandboxVendors
from lending import clock
from lending.adapters.vendors.bank_data import BankDataClient
from lending.adapters.vendors.bureau import CreditBureauClient
from lending.calendar import add_months
from lending.catalogue import Method, Product, load_catalogue
from lending.money import Money
from lending.origination import Status
from lending.prc_id import make_id_number
from lending.risk.outcome import Decision, Outcome, Rule
from lending.risk.policy import DecisionPolicy, load_policy
from lending.scoring.model import CreditModel, load_model
from lending.steps.assessment import assess_cash_flow, make_decision, score_credit

CATALOGUE = load_catalogue()
PASSED = {"passed": True, "face_match": "0.9300", "liveness": True}
PHONE_OUTCOMES = {"0001": Outcome.APPROVE, "0002": Outcome.DECLINE, "0003": Outcome.REFER}
#: The industry with the highest rate adjustment: the dearest rate, so the hardest APR cap and coverage.
DEAREST_INDUSTRY = max(CATALOGUE.industries, key=lambda code: CATALOGUE.industries[code].rate_adjustment)
#: Amounts named by the end-to-end tests and by the issue (referred at 30,000–50,000, declined at 60,000 and
#: 100,000); each product takes those within its limits, besides its own ends and a few between.
NAMED_AMOUNTS = ("12000.00", "30000.00", "50000.00", "60000.00", "100000.00", "120000.00")
#: The end-to-end tests' applicant: born 1985-05-05.
BORN = date(1985, 5, 5)


@dataclass(frozen=True)
class Cell:
    """One valid application: product, method, amount, term, the applicant's birth date and phone."""

    product: str
    method: Method | None
    amount: Money
    term_months: int
    born: date
    phone_suffix: str
    industry: str = DEAREST_INDUSTRY

    @property
    def label(self) -> str:
        method = self.method.value if self.method is not None else "line"
        return f"{self.product}-{method}-{self.amount}-{self.term_months}m-born{self.born:%Y}-{self.phone_suffix}"


def _amounts(product: Product) -> list[Money]:
    """The product's ends, the named amounts within them, and its quarter points (down to whole thousands)."""
    low, high = product.min_amount, product.max_amount
    quarters = [low.fen + (high.fen - low.fen) * quarter // 4 for quarter in (1, 2, 3)]
    between = [Money(fen // 1000_00 * 1000_00) for fen in quarters]
    named = [Money.of(amount) for amount in NAMED_AMOUNTS if low <= Money.of(amount) <= high]
    return sorted({low, high, *named, *between})


def _terms(product: Product) -> list[int]:
    low, high = product.min_term_months, product.max_term_months
    return sorted({low, high, *(term for term in (12, 24) if low <= term <= high)})


def _methods(product: Product) -> tuple[Method | None, ...]:
    return product.methods if product.kind == "instalment" else (None,)


def _born_aged(years: int, on: date) -> date:
    """A birth date that makes the applicant ``years`` old on ``on``: a birthday on the last day of a year."""
    return date(on.year - years - 1, 12, 31) if (on.month, on.day) != (12, 31) else date(on.year - years, 12, 31)


def _grid() -> list[Cell]:
    return [
        Cell(product.code, method, amount, term, BORN, phone)
        for product in CATALOGUE.products.values()
        for method in _methods(product)
        for amount in _amounts(product)
        for term in _terms(product)
        for phone in PHONE_OUTCOMES
    ]


def _ages_at_the_corners() -> list[Cell]:
    today = clock.today()
    return [
        Cell(product.code, method, amount, term, _born_aged(age, today), phone)
        for product in CATALOGUE.products.values()
        for method in _methods(product)
        for amount in (product.min_amount, product.max_amount)
        for term in (product.min_term_months, product.max_term_months)
        for age in (product.applicant_age.min, product.applicant_age.max)
        for phone in PHONE_OUTCOMES
    ]


def _record(cell: Cell, today: date) -> dict[str, Any]:
    """The application as intake stores it; the start-up plan's business registered four months ago."""
    registered = add_months(today, -4) if CATALOGUE.product(cell.product).startup else date(2020, 1, 1)
    return {
        "application_id": "app-sandbox",
        "status": Status.VERIFYING_IDENTITY.value,
        "product": cell.product,
        "amount": str(cell.amount),
        "term_months": cell.term_months,
        "method": None if cell.method is None else cell.method.value,
        "purpose": "inventory",
        "consent": {"credit_report": True, "data_processing": True},
        "human_review": False,
        "business": {"name": "Hua Trading", "industry": cell.industry, "registered_on": registered.isoformat()},
        "pii": {
            "name": "Li Hua",
            "id_number": make_id_number("110101", cell.born, 12),
            "phone": f"+861380000{cell.phone_suffix}",
            "bank_account": "622202000005678",
        },
    }


@pytest.fixture(scope="module")
def model() -> CreditModel:
    return load_model()


@pytest.fixture(scope="module")
def policy() -> DecisionPolicy:
    return load_policy()


def _decide(cell: Cell, vendors: SandboxVendors, model: CreditModel, policy: DecisionPolicy) -> Decision:
    """The workflow's assessment of one application: score, assess the business (each from its vendor), decide."""
    applications, audit = Applications(_record(cell, clock.today())), Audit()
    bureau = CreditBureauClient(vendors.urls.credit_bureau, timeout=5)
    bank_data = BankDataClient(vendors.urls.bank_data, timeout=5)
    ports: dict[str, Any] = {"applications": applications, "audit": audit, "decrypt": decrypt}
    assert score_credit("app-sandbox", bureau=bureau, model=model, **ports)["scored"] is True
    assert assess_cash_flow("app-sandbox", bank_data=bank_data, policy=policy, **ports)["assessed"] is True
    return make_decision("app-sandbox", PASSED, catalogue=CATALOGUE, policy=policy, **ports)


def _explained(cell: Cell, decision: Decision) -> str:
    affordability = decision.affordability
    coverage = None if affordability is None else affordability.dscr_at_amount_sought
    return (
        f"{cell.label}: {decision.outcome.value} by {decision.rule.value} (score {decision.score}, "
        f"grade {decision.risk_grade}, coverage {coverage})"
    )


def _assert_phone_rules(cells: list[Cell], vendors: SandboxVendors, model: CreditModel, policy: DecisionPolicy) -> None:
    wrong = []
    for cell in cells:
        decision = _decide(cell, vendors, model, policy)
        if decision.outcome is not PHONE_OUTCOMES[cell.phone_suffix]:
            wrong.append(_explained(cell, decision))
        elif decision.outcome is Outcome.DECLINE:
            assert decision.reasons, f"{cell.label}: declined without reasons"
    assert not wrong, f"{len(wrong)} of {len(cells)} applications broke their phone's rule:\n" + "\n".join(wrong)


def test_every_phone_rule_holds_at_every_amount_term_and_method_of_every_product(
    vendors: SandboxVendors, model: CreditModel, policy: DecisionPolicy
) -> None:
    # Given every product's ends and points between for amount and term, each method, the dearest industry
    cells = _grid()
    # When each application is scored, assessed and decided as the workflow does it
    # Then 0001 is approved, 0002 declined with reasons and 0003 referred, every time
    _assert_phone_rules(cells, vendors, model, policy)


def test_every_phone_rule_holds_for_the_youngest_and_oldest_applicant_at_each_products_corners(
    vendors: SandboxVendors, model: CreditModel, policy: DecisionPolicy
) -> None:
    # Given each product's youngest and oldest applicant at its smallest and largest amount and term
    cells = _ages_at_the_corners()
    # When each is scored, assessed and decided
    # Then the phone still decides the outcome
    _assert_phone_rules(cells, vendors, model, policy)


def test_the_end_to_end_applications_keep_the_outcomes_and_terms_the_end_to_end_tests_expect(
    vendors: SandboxVendors, model: CreditModel, policy: DecisionPolicy
) -> None:
    # Given the end-to-end tests' applications: 0001 at 120,000 over 12 months, 0003 at 50,000 over 24
    def cell(phone: str, amount: str, term: int) -> Cell:
        return Cell("business_instalment", None, Money.of(amount), term, BORN, phone, industry="retail")

    # When each is decided
    approved = _decide(cell("0001", "120000.00", 12), vendors, model, policy)
    referred = _decide(cell("0003", "50000.00", 24), vendors, model, policy)
    declined = _decide(cell("0002", "120000.00", 12), vendors, model, policy)
    # Then 0001 is approved for the whole request, 0003 referred with terms for the underwriter, 0002 declined
    assert approved.outcome is Outcome.APPROVE
    assert approved.terms is not None
    assert str(approved.terms.limit) == "120000.00"
    assert referred.outcome is Outcome.REFER
    assert referred.terms is not None
    assert declined.outcome is Outcome.DECLINE
    assert declined.reasons
    assert declined.rule is not Rule.SCORE_AT_OR_ABOVE_CUTOFF
