"""Who may create which credential (PRODUCT.md §7: "no one grants more than they hold"; every
write audited with its actor). The management API and `accord credential add` both create
credentials through `grant`, so the rule holds on every surface.

Two kinds of grantor:

- **The node's host** (`by=None`): `accord credential add` runs on the machine that holds the
  store and its keys, the node's root of trust; whoever can run it can already read and change
  everything. It may create any valid credential, and is the only one that creates **partner**
  credentials: a partner credential opens to a foreign node whatever the agreements release to
  its party, which no clearance of a single operator bounds, and trust in a foreign node is set
  up on the host (peers, keys) as an act of the nation. Its audit record names the host account
  (`cli:USER`).
- **An operator** over the management API (`by=` the acting principal): creates national users
  only, of its own party, with a clearance no higher than its own, need-to-know groups it holds
  and roles it holds. It may grant `operator` (it holds it), but the new operator is bounded by
  the same rule, so no chain of operators ever exceeds the first. The audit record names the
  operator's credential.

The same rule bounds acting on an existing credential (revoking it, unlocking it after failed
sign-ins: `check_act`): the host may act on any; an operator only on a credential it could have
created (a national user of its party within its clearance, groups and roles), so an operator
can neither lock out a more trusted officer nor cut a partner node off, and cannot re-open an
account beyond its authority to further guessing.

For every grantor: a user needs a clearance in its party's scheme; a partner credential is for
another party's node, never this node's own party (a national user of this node is a user with a
clearance); clearance, groups and roles are for users only.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence

from accord.errors import Forbidden, NotFound, Unprocessable
from accord.policy.world import World
from accord.principals import throttle
from accord.principals.service import (
    ROLES,
    Principal,
    add_principal,
    lookup_principal,
    principal_named,
    revoke_principal,
)
from accord.store import Store

OPERATOR = "operator"


def host_actor() -> str:
    """Returns the name the audit trail gives the node's host as a grantor: `cli:USER`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return "cli:unknown"


def check_grant(
    world: World,
    node_party: str,
    by: Principal | None,
    kind: str,
    party: str,
    clearance: str | None = None,
    groups: Sequence[str] = (),
    roles: Sequence[str] = (),
) -> None:
    """Returns None when `by` (None: the node's host) may create this credential; raises
    Unprocessable (an InputError: HTTP 422, exit 2) naming the field for a credential no one may
    create, and Forbidden naming what
    exceeds `by`'s own authority (module docstring)."""
    if party not in world.parties:
        raise Unprocessable(f"party: {party!r} is not a known party")
    if kind == "partner":
        if clearance is not None or groups or roles:
            raise Unprocessable("clearance, groups and roles are for users, not partner nodes")
        if party == node_party:
            raise Unprocessable(
                f"party: {party} is this node's own party: a partner credential is for another "
                "nation's node; a national user needs a clearance"
            )
    elif kind == "user":
        levels = world.party(party).level_codes()
        if clearance is None:
            raise Unprocessable("clearance: a user needs a clearance")
        if clearance not in levels:
            raise Unprocessable(
                f"clearance: {clearance!r} is not a level of {party} ({', '.join(levels)})"
            )
    else:
        raise Unprocessable(f"kind: {kind!r} is not a principal kind (partner, user)")
    for r in roles:
        if r not in ROLES:
            raise Unprocessable(f"roles: {r!r} is not a role ({', '.join(ROLES)})")
    if by is None:
        return
    if by.is_partner or OPERATOR not in by.roles or by.clearance is None:
        raise Forbidden("only an operator creates credentials")
    if kind == "partner":
        raise Forbidden(
            "partner credentials are created on the node's host "
            "(accord credential add NAME --kind partner --party CODE)"
        )
    if party != by.party:
        raise Forbidden(f"party: an operator of {by.party} creates users of {by.party} only")
    assert clearance is not None  # a user's, checked above
    if world.rank(party, clearance) > world.rank(by.party, by.clearance):
        raise Forbidden(f"clearance: {clearance} is above your own clearance ({by.clearance})")
    beyond = sorted(set(groups) - by.groups)
    if beyond:
        raise Forbidden(f"groups: you do not hold {', '.join(beyond)}")
    beyond = sorted(set(roles) - by.roles)
    if beyond:
        raise Forbidden(f"roles: you do not hold {', '.join(beyond)}")


def grant(
    store: Store,
    world: World,
    node_party: str,
    by: Principal | None,
    name: str,
    kind: str,
    party: str,
    secret: str | None = None,
    clearance: str | None = None,
    groups: Sequence[str] = (),
    roles: Sequence[str] = (),
    cert_sha256: str | None = None,
    cert_subject: str | None = None,
) -> tuple[Principal, str]:
    """Creates the credential when `by` may (`check_grant`); returns it and its secret ("" for a
    partner credential bound to a client certificate: `cert_sha256` or `cert_subject`). The
    audit record names `by`'s credential, or the host account when `by` is None."""
    check_grant(world, node_party, by, kind, party, clearance, groups, roles)
    return add_principal(
        store,
        name,
        kind,
        party,
        secret=secret,
        clearance=clearance,
        groups=tuple(groups),
        roles=tuple(roles),
        actor=host_actor() if by is None else by.name,
        cert_sha256=cert_sha256,
        cert_subject=cert_subject,
    )


def check_act(world: World, by: Principal | None, target: Principal, action: str) -> None:
    """Returns None when `by` (None: the node's host) may `action` ("revoke", "unlock") the
    credential `target`; raises Forbidden naming what lies beyond `by`'s authority (module
    docstring: an operator acts only on a credential it could have created)."""
    if by is None:
        return
    if by.is_partner or OPERATOR not in by.roles or by.clearance is None:
        raise Forbidden(f"only an operator may {action} credentials")
    if target.is_partner:
        raise Forbidden(
            f"partner credentials are managed on the node's host (accord credential {action})"
        )
    if target.party != by.party:
        raise Forbidden(f"an operator of {by.party} may {action} users of {by.party} only")
    if target.clearance is not None and world.rank(target.party, target.clearance) > world.rank(
        by.party, by.clearance
    ):
        raise Forbidden(
            f"{target.name} holds clearance {target.clearance}, above your own ({by.clearance})"
        )
    beyond = sorted(set(target.groups) - by.groups)
    if beyond:
        raise Forbidden(f"{target.name} holds groups you do not hold: {', '.join(beyond)}")
    beyond = sorted(set(target.roles) - by.roles)
    if beyond:
        raise Forbidden(f"{target.name} holds roles you do not hold: {', '.join(beyond)}")


def revoke(store: Store, name: str, by: tuple[Principal, World] | None = None) -> None:
    """Revokes the live credential `name` when `by` (an operator and the registry it acts under;
    None: the node's host) may (`check_act`); NotFound when there is none. The audit record
    names the operator's credential, or the host account."""
    found = lookup_principal(store, name)
    if found is None:
        raise NotFound(f"no live credential named {name!r}")
    if by is not None:
        check_act(by[1], by[0], found.principal, "revoke")
    revoke_principal(store, name, actor=host_actor() if by is None else by[0].name)


def unlock(
    store: Store, name: str, address: str, by: tuple[Principal, World] | None = None
) -> bool:
    """Unlocks the credential `name` (`accord.principals.throttle.unlock`) when `by` may, as for
    `revoke` (a revoked credential is judged as it was); returns whether it was locked."""
    found = principal_named(store, name)
    if found is None:
        raise NotFound(f"no credential named {name!r}")
    if by is not None:
        check_act(by[1], by[0], found, "unlock")
    return throttle.unlock(store, name, host_actor() if by is None else by[0].name, address)
