"""Principals: partner nodes and users of the node, with salted slow-hashed secrets."""

from accord.principals.service import (
    Principal,
    add_principal,
    authenticate,
    list_principals,
    revoke_principal,
)

__all__ = ["Principal", "add_principal", "authenticate", "list_principals", "revoke_principal"]
