"""The federation suites start live nodes with the TAXII suites' harness (tests/taxii/taxii_live.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "taxii"))
