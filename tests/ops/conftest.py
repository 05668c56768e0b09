"""The operations suites start live nodes with the TAXII suites' harness (tests/taxii/taxii_live.py)
and the API suites' (tests/api/api_live.py)."""

from __future__ import annotations

import sys
from pathlib import Path

here = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(here / "taxii"))
sys.path.insert(0, str(here / "api"))
