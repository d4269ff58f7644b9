"""Sandbox vendors: real HTTP servers on loopback that behave as the sandbox tables of the API contract say.

``SandboxVendors`` starts the identity vendor, the credit bureau, the bank and tax data vendor, the payout
provider, the collection provider and the electricity data vendor, each on its own port (ephemeral by default), in
background threads::

    with SandboxVendors(identity_secret=secret) as vendors:
        vendors.urls.identity  # http://127.0.0.1:54321
        vendors.payouts.payouts(reference="app-1")

Outcomes follow the applicant's data (phone, ID number, bank account); see each module. Personal data is never
logged: the servers log references only, and never a request line. Every vendor reads the platform's one clock
(:mod:`lending.clock`) unless a test passes its own: a report's time, a statement's window, a payout's date move
with the local test clock, and dates are China's calendar dates, as the platform's are.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType

from infra.local.vendors.bank_book import SandboxBankBook
from infra.local.vendors.bank_data import SandboxBankData
from infra.local.vendors.bureau import SandboxCreditBureau
from infra.local.vendors.collections import SandboxCollection, SandboxCollectionProvider
from infra.local.vendors.electricity import SandboxElectricityData
from infra.local.vendors.identity import Delivery, SandboxIdentityVendor
from infra.local.vendors.payouts import SandboxPayout, SandboxPayoutProvider
from infra.local.vendors.server import SandboxServer
from lending import clock as platform_clock
from lending.calendar import business_date

__all__ = [
    "Delivery",
    "SandboxBankBook",
    "SandboxBankData",
    "SandboxCollection",
    "SandboxCollectionProvider",
    "SandboxCreditBureau",
    "SandboxElectricityData",
    "SandboxIdentityVendor",
    "SandboxPayout",
    "SandboxPayoutProvider",
    "SandboxVendors",
    "VendorUrls",
]


def _platform_now() -> datetime:
    """The platform's moment, read at each call: the local test clock moves it."""
    return platform_clock.now()


@dataclass(frozen=True)
class VendorUrls:
    """The bound base URLs, one per vendor (the template's vendor URL parameters take these)."""

    identity: str
    credit_bureau: str
    bank_data: str
    payouts: str
    collections: str
    electricity: str

    def as_parameters(self) -> dict[str, str]:
        """The template Parameters that name the vendors, set to these URLs."""
        return {
            "IdentityVendorUrl": self.identity,
            "CreditBureauUrl": self.credit_bureau,
            "BankDataUrl": self.bank_data,
            "PayoutProviderUrl": self.payouts,
            "CollectionProviderUrl": self.collections,
            "ElectricityDataUrl": self.electricity,
        }


class SandboxVendors:
    """All six sandbox vendors, started and stopped together."""

    def __init__(
        self,
        *,
        identity_secret: bytes | str | None = None,
        host: str = "127.0.0.1",
        api_key: str | None = None,
        callback_delay: float = 0.2,
        callback_attempts: int = 4,
        callback_backoff: float = 0.2,
        clock: Callable[[], datetime] = _platform_now,
    ) -> None:
        self.identity = SandboxIdentityVendor(
            identity_secret if identity_secret is not None else secrets.token_urlsafe(36),
            host=host,
            api_key=api_key,
            callback_delay=callback_delay,
            callback_attempts=callback_attempts,
            callback_backoff=callback_backoff,
            clock=clock,
        )
        # One sandbox bank: the payout provider notes whom it paid and when, the data vendor whose accounts they
        # are; the early-warning triggers read it.
        self.book = SandboxBankBook()
        self.bureau = SandboxCreditBureau(host=host, api_key=api_key, clock=clock, book=self.book)

        def today() -> date:
            # The business date of the vendors' moment: China's calendar date, as the business assessment reads it.
            return business_date(clock())

        self.bank_data = SandboxBankData(host=host, api_key=api_key, today=today, book=self.book)
        self.electricity = SandboxElectricityData(host=host, api_key=api_key, today=today, book=self.book)
        self.payouts = SandboxPayoutProvider(host=host, api_key=api_key, clock=clock, book=self.book)
        # Its notices are signed with the payments webhook secret, set once the stack has created it.
        self.collections = SandboxCollectionProvider(
            host=host,
            api_key=api_key,
            callback_delay=callback_delay,
            callback_attempts=callback_attempts,
            callback_backoff=callback_backoff,
            clock=clock,
        )

    @property
    def servers(self) -> tuple[SandboxServer, ...]:
        return (self.identity, self.bureau, self.bank_data, self.payouts, self.collections, self.electricity)

    @property
    def identity_secret(self) -> bytes:
        """The secret the identity vendor signs its callbacks with."""
        return self.identity.secret

    @property
    def urls(self) -> VendorUrls:
        """Base URLs of the running vendors."""
        return VendorUrls(
            self.identity.url,
            self.bureau.url,
            self.bank_data.url,
            self.payouts.url,
            self.collections.url,
            self.electricity.url,
        )

    def start(self) -> SandboxVendors:
        """Start every vendor (any that fails to bind stops the ones already started)."""
        try:
            for server in self.servers:
                server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every vendor, pending identity callbacks and collection notices included."""
        for server in reversed(self.servers):
            server.stop()

    def __enter__(self) -> SandboxVendors:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
