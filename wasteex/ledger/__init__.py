"""Ledger: full-lifecycle waste records, hash chain and utilisation rates."""
