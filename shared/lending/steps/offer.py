"""The offer: limit, term, rate and APR from the approved terms, within the rate cap and the product's rules.

Safe to retry: the offer is rebuilt from the same approved terms, and the status move is conditional (see
lending.adapters.applications), so a replayed step cannot go backwards.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Catalogue, Method, RateCap
from lending.contract import line_apr
from lending.errors import LendingError, OfferRefused
from lending.money import Money
from lending.origination import Status
from lending.pricing import Offer, make_offer
from lending.rates import format_rate
from lending.steps.ports import Applications, Audit


def capped_catalogue(catalogue: Catalogue, cap: Decimal | None) -> Catalogue:
    """The catalogue under the deployment's cap: the stricter of the two wins."""
    if cap is None or cap >= catalogue.rate_cap.annual_rate:
        return catalogue
    return catalogue.model_copy(update={"rate_cap": RateCap(mode="fixed", annual=cap)})


def _approved_terms(application: dict[str, Any]) -> dict[str, Any]:
    decision = application.get("decision") or {}
    terms = decision.get("terms")
    if not terms:
        raise OfferRefused(f"application {application['application_id']} has no approved terms to offer")
    return dict(terms)


def price_offer(
    application_id: str, *, applications: Applications, audit: Audit, catalogue: Catalogue
) -> dict[str, Any]:
    """Build the offer from the approved terms; an offer the cap refuses declines the application instead."""
    application = applications.get(application_id)
    terms = _approved_terms(application)
    product = catalogue.product(terms["product"])
    annual_rate = Decimal(terms["annual_rate"])
    limit = Money.of(terms["limit"])
    offer: dict[str, Any] = {
        "product": product.code,
        "product_kind": product.kind,
        "limit": str(limit),
        "annual_rate": format_rate(annual_rate),
        "term_months": int(terms["term_months"]),
    }
    try:
        if product.kind == "revolving":
            apr = line_apr(annual_rate, product.day_count_basis)
            if annual_rate > catalogue.rate_cap.annual_rate or apr > catalogue.rate_cap.annual_rate:
                raise OfferRefused(f"annual rate {format_rate(annual_rate)} (APR {format_rate(apr)}) is above the cap")
            offer |= {"apr": format_rate(apr), "effective_annual_rate": None, "method": None}
        else:
            priced: Offer = make_offer(
                catalogue,
                product.code,
                limit,
                int(terms["term_months"]),
                Method(terms["method"]),
                business_date(),
                annual_rate,
            )
            offer |= {
                "apr": format_rate(priced.apr),
                "effective_annual_rate": format_rate(priced.effective_annual_rate),
                "method": terms["method"],
                "upfront_fee": str(priced.upfront_fee),
                "net_disbursement": str(priced.net_disbursement),
            }
    except LendingError as exc:
        applications.move(application_id, Status.DECLINED, {"offer_refused": exc.message})
        audit.append(application_id, "offer_refused", clock.now(), {"reason": exc.code})
        raise OfferRefused(exc.message) from None
    applications.move(application_id, Status.APPROVED, {"offer": offer})
    audit.append(application_id, "offer_made", clock.now(), {k: offer[k] for k in ("limit", "annual_rate", "apr")})
    return {"product_kind": product.kind, "limit": offer["limit"]}
