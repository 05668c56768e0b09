"""The CLI suites run commands in this process (`cli_runner.Cli`); the federation commands talk
to live nodes started with the TAXII suites' harness (tests/taxii/taxii_live.py)."""

from __future__ import annotations
