"""The federation suites start live nodes with the TAXII suites' harness (tests/taxii/taxii_live.py)."""

from __future__ import annotations
