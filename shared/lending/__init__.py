"""The lending domain: money, products, pricing, schedules, allocation, ledger and audit. No AWS here."""
