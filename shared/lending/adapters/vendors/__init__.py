"""Clients of the outside vendors, over HTTP with the standard library only.

One module per vendor, each documenting its wire contract in its docstring:

- :mod:`.identity` — identity check (face match, liveness, ID number); the result comes back as a signed webhook.
- :mod:`.bureau` — credit report: behaviour data for the scoring model.
- :mod:`.bank_data` — bank statements and tax filings for the business assessment.
- :mod:`.electricity` — monthly electricity use of a business's premises (the monthly early-warning re-check).
- :mod:`.payouts` — payouts to the borrower's bank account, idempotent by key.

Common to all: JSON bodies; money as two-place decimal strings; times RFC 3339 UTC; an optional API key sent as
``Authorization: Bearer <key>``; error bodies ``{"error": {"code", "message"}}``. Each client takes a base URL
and a timeout, and raises :class:`VendorUnavailable` (transient: retry) or :class:`VendorRejected` (permanent, with
the vendor's reason code) from :mod:`lending.errors`. The person asked about is a :class:`lending.applicant.Person`.
Personal data goes over the wire and nowhere else: not into logs, not into exception messages, not into reprs.
"""
