"""Makes the helper modules of this directory (policy_world, cedar_oracle, random_worlds)
importable: the tests tree has no __init__.py files."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
