"""The sandbox bank's memory: which accounts it paid money into and when, and whose accounts they are.

The payout provider and the bank data vendor are one sandbox bank in one process: the provider notes the first
payout into each account; the data vendor notes whose account a statement was asked for (the holder's ID number and
phone come with every request, as the wire contract says). The early-warning triggers (``infra.local.vendors
.profiles``) read the payout's day from here, never from anything the platform sends: the bank knows when it paid.
Only digests of account numbers and holders are kept, as the provider keeps only an account's last four digits.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from datetime import date

from infra.local.vendors.server import SandboxServer
from lending import clock


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class SandboxBankBook:
    """First payouts by account, and the accounts of each holder (thread-safe: the vendors serve in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first_paid: dict[str, date] = {}  # by account digest
        self._accounts: dict[str, set[str]] = {}  # holder digest: account digests

    def paid(self, account: str, on: date) -> None:
        """A payout into ``account`` on ``on`` (China's business date); the first one is what is remembered."""
        key = _digest(account)
        with self._lock:
            if key not in self._first_paid or on < self._first_paid[key]:
                self._first_paid[key] = on

    def banks(self, id_number: str, phone: str, account: str) -> None:
        """The holder (ID number and phone) asked about ``account``: it is theirs."""
        with self._lock:
            self._accounts.setdefault(_digest(id_number, phone), set()).add(_digest(account))

    def first_paid_into(self, account: str) -> date | None:
        """The day of the first payout into ``account`` (None: never paid)."""
        with self._lock:
            return self._first_paid.get(_digest(account))

    def first_paid_to(self, id_number: str, phone: str) -> date | None:
        """The day of the first payout into any of the holder's accounts (None: never paid)."""
        with self._lock:
            days = [
                self._first_paid[a] for a in self._accounts.get(_digest(id_number, phone), ()) if a in self._first_paid
            ]
        return min(days) if days else None


def months_asked(query: Mapping[str, str], problems: dict[str, str], least: int, most: int) -> int:
    """The ``months`` of a data request (12 when not given); a problem noted when it is not from least to most."""
    text = query.get("months", "12")
    months = int(text) if text.isdigit() else 0
    if not least <= months <= most:
        problems["months"] = f"a whole number from {least} to {most}"
    return months


def _business_date() -> date:
    """The platform's business date, read at each request (the test clock may have moved since the start)."""
    return clock.today()


class BankBookServer(SandboxServer):
    """A sandbox data vendor that reads the sandbox bank's memory and the platform's business date per request."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        today: Callable[[], date] = _business_date,
        book: SandboxBankBook | None = None,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self._today = today
        self.book = book if book is not None else SandboxBankBook()
