"""The adversarial suites (docs/security.md) attack live nodes built with the TAXII, API and CLI
suites' harness (tests/taxii/taxii_live.py, tests/api/api_live.py, tests/cli/cli_runner.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for _sub in ("taxii", "api", "cli", "ui"):
    if str(_TESTS / _sub) not in sys.path:
        sys.path.insert(0, str(_TESTS / _sub))
