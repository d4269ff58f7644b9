"""Where a loan's money comes from: the platform's own capital and partner banks' co-lending credit lines.

The sources are data (``lending/data/funding.json``), validated when they load, so a partner line that would fund
less than the regulatory minimum share cannot even be configured. :func:`allocate_funding` is the pure choice of
who funds a loan; the ledger then reserves each share against the source's quota in the same write
(:mod:`lending.adapters.ledger_store`), so a plan made on a stale view of ``used`` can never overdraw a quota.
:func:`reserve_funding_shares` is that reservation, the same for a loan and for a drawdown on a line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, model_validator

from lending import bookkeeping
from lending.errors import InvalidAmount, LendingError, NoFundingAvailable
from lending.ledger import Account, AccountCode, Transaction
from lending.money import Money, Rounding

OWN_CAPITAL = "own_capital"
#: The smallest share of a co-lent loan a partner bank may fund.
MIN_PARTNER_SHARE = Decimal("0.30")


def _no_float(value: object) -> object:
    """Shares are exact decimals: a JSON float (``0.7``) is refused rather than converted."""
    if isinstance(value, bool | float):
        raise ValueError('a share must be a decimal string such as "0.70", not a number')
    return value


#: A partner's co-lending share: an exact decimal fraction, written back as a plain string.
Share = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(allow_inf_nan=False, ge=MIN_PARTNER_SHARE, le=1),
    PlainSerializer(str, return_type=str),
]


class FundingSourcesError(LendingError, ValueError):
    """The funding sources data is malformed."""

    code = "funding_sources_error"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OwnCapital(_Strict):
    """The platform's own capital: funds whatever partners do not, up to its quota."""

    id: Literal["own_capital"] = "own_capital"
    name: str
    quota: Money


class PartnerLine(_Strict):
    """A partner bank's co-lending credit line: funds ``share`` of each loan it takes part in, up to its quota."""

    id: str = Field(pattern=r"^partner:[a-z0-9_]+$")
    name: str
    quota: Money
    share: Share


class FundingSources(_Strict):
    """Every funding source; partners are offered a loan in the order listed here."""

    version: str
    currency: Literal["CNY"]
    own_capital: OwnCapital
    partners: tuple[PartnerLine, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [OWN_CAPITAL, *(partner.id for partner in self.partners)]
        if len(set(ids)) != len(ids):
            raise ValueError("funding source ids must be unique")
        for source_id, quota in self.quotas().items():
            if not quota.is_positive:
                raise ValueError(f"{source_id}: a quota must be positive")
        return self

    def quotas(self) -> dict[str, Money]:
        """Each source's quota by id (the balance bound its ledger account is reserved against)."""
        return {OWN_CAPITAL: self.own_capital.quota, **{partner.id: partner.quota for partner in self.partners}}


def parse_funding_sources(raw: str | bytes) -> FundingSources:
    """Validate a funding sources document."""
    try:
        return FundingSources.model_validate(json.loads(raw))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise FundingSourcesError(f"invalid funding sources: {exc}") from None


@cache
def load_funding_sources(path: str | None = None) -> FundingSources:
    """The funding sources shipped in the layer, or the ones at ``path``; parsed once per process."""
    if path is not None:
        return parse_funding_sources(Path(path).read_bytes())
    return parse_funding_sources(resources.files("lending").joinpath("data/funding.json").read_bytes())


def partner_portion(amount: Money, share: Decimal) -> Money:
    """A partner's part of ``amount``: rounded down to the fen, but never below the minimum share.

    Rounding down can only breach the minimum when ``share`` is within a fen of it; then the partner takes the
    smallest whole-fen amount that still meets the minimum.
    """
    return max(amount.times(share, Rounding.DOWN), amount.times(MIN_PARTNER_SHARE, Rounding.UP))


def allocate_funding(amount: Money, sources: FundingSources, used: Mapping[str, Money]) -> dict[str, Money]:
    """Each source's share of ``amount``, by source id; the shares sum to exactly ``amount``.

    The first partner (in the data's order) with quota left for its share takes part and own capital takes the
    rest; when no partner can, own capital funds it all. ``used`` is what each source already funds or holds
    (an absent source has used nothing). Raises :class:`NoFundingAvailable` when no choice fits every quota.
    """
    if not amount.is_positive:
        raise InvalidAmount(f"a loan to fund must be positive, not {amount}")
    own_left = sources.own_capital.quota - used.get(OWN_CAPITAL, Money.ZERO)
    for partner in sources.partners:
        partner_share = partner_portion(amount, partner.share)
        own_share = amount - partner_share
        if partner_share > partner.quota - used.get(partner.id, Money.ZERO) or own_share > own_left:
            continue
        shares = {partner.id: partner_share}
        if own_share:
            shares[OWN_CAPITAL] = own_share
        return shares
    if amount <= own_left:
        return {OWN_CAPITAL: amount}
    raise NoFundingAvailable(f"no funding source has {amount} left to lend")


class FundingLedger(Protocol):
    """What a funding reservation needs of the ledger: the sources' balances, and the reservation itself."""

    def balance(self, account: Account) -> Money: ...
    def pending_balance(self, account: Account) -> Money: ...
    def transaction(self, transaction_id: str) -> Transaction | None: ...
    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool: ...


def reserve_funding_shares(
    ledger: FundingLedger, reservation_id: str, subject: str, amount: Money, sources: FundingSources, on: date
) -> dict[str, Money]:
    """Reserve ``amount`` from the sources (a pending transfer, each share bounded by its source's quota in the same
    write) under ``reservation_id``, once; the shares reserved, by source id.

    Shares are chosen once: a retry finds the reservation already in the ledger and keeps its shares and its date,
    because choosing again (with this reservation's own hold now counted as used) could pick other shares, and a
    reservation rebuilt on another day would be another transaction under the same id.
    """
    reserved = ledger.transaction(reservation_id)
    if reserved is not None:
        return {p.account.key: -p.amount for p in reserved.postings if p.account.code is AccountCode.FUNDING}
    quotas = sources.quotas()
    shares = allocate_funding(amount, sources, bookkeeping.funding_in_use(ledger, quotas))
    transaction = bookkeeping.funding_reservation(reservation_id, subject, shares, on)
    ledger.reserve(transaction, bounds={bookkeeping.funding_source(source): quotas[source] for source in shares})
    return shares


def funding_record(reservation_id: str, shares: Mapping[str, Money]) -> dict[str, Any]:
    """How a loan or a drawdown stores the funding reserved for it: the reservation's id and each share as text."""
    return {"reservation_id": reservation_id, "shares": {source: str(amount) for source, amount in shares.items()}}
