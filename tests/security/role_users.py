"""National users of the security suites, one per role: cleared at the top with every group and
holding ONE role each, so that a difference in what they may write is the role's."""

from __future__ import annotations

from taxii_live import SECRETS

ROLE_USERS = {
    role: f"{role}-only" for role in ("operator", "legal", "analyst", "logistics", "auditor")
}
for _name in ROLE_USERS.values():
    SECRETS.setdefault(_name, f"{_name}-secret")
