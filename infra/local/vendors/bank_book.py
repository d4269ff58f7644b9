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
from datetime import date


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
