"""Adapters: the only code that talks to AWS or to outside vendors."""
