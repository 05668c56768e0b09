"""National users of the security suites, one per role: cleared at the top with every group and
holding ONE role each, so that a difference in what they may write is the role's."""

from __future__ import annotations

ROLE_USERS = {
    role: f"{role}-only" for role in ("operator", "legal", "analyst", "logistics", "auditor")
}
#: Their secrets: the `live` fixture lends them to the TAXII harness's SECRETS while it runs (the
#: TAXII suites check that SECRETS names exactly their own principals).
ROLE_SECRETS = {name: f"{name}-secret" for name in ROLE_USERS.values()}
