"""Credentials of partner nodes and users (operators only), as `accord credential …`.

Who may create what is decided by `accord.principals.authority` (the same rule as the CLI): an
operator creates national users of its own party within its own clearance, groups and roles;
partner credentials are created on the node's host only (403 here). The audit record names the
operator's credential.

A generated secret is returned once, in the answer to the POST that created it; only its salted
scrypt hash is stored. Revoking takes effect at once in every process serving the store; so does
unlocking a credential locked after failed sign-ins (accord.principals.throttle).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from accord.api.deps import NodeDep, Who
from accord.api.errors import Conflict, Invalid, error_responses
from accord.principals import authority, list_principals
from accord.principals.authority import grant
from accord.principals.throttle import client_address

router = APIRouter(responses=error_responses(400, 401, 403, 404, 422, 503))

Role = Literal["operator", "legal", "analyst", "logistics", "auditor"]
Short = Annotated[str, Field(min_length=1, max_length=64)]


class CredentialOut(BaseModel):
    name: str
    kind: Literal["partner", "user"]
    party: str
    clearance: str | None
    groups: list[str]
    roles: list[str]
    revoked: bool


class NewCredential(BaseModel):
    """A partner node (`kind: partner`) or a user with a clearance in its party's scheme; as in
    `accord credential add`, a credential with a clearance is a user's without saying so."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[^:/\s]{1,100}$")]
    kind: Literal["partner", "user"] | None = Field(
        default=None, description="`user` when a clearance is given; otherwise required"
    )
    party: Short
    clearance: Short | None = None
    groups: list[Short] = Field(default=[], max_length=50)
    roles: list[Role] = Field(default=[], max_length=5)
    secret: Annotated[str, Field(min_length=8, max_length=200)] | None = Field(
        default=None, description="Leave out to have one generated (returned once)"
    )


class CreatedCredential(CredentialOut):
    secret: str | None = Field(description="The generated secret, shown this once; null if given")


class Revoked(BaseModel):
    name: str
    revoked: bool


@router.get("/credentials", tags=["credentials"], summary="List credentials (never their secrets)")
def list_credentials(node: NodeDep, who: Who) -> list[CredentialOut]:
    return [CredentialOut.model_validate(p.to_json()) for p in list_principals(node.store)]


@router.post(
    "/credentials",
    tags=["credentials"],
    status_code=201,
    summary="Add a credential",
    responses=error_responses(409),
)
def add_credential(body: NewCredential, node: NodeDep, who: Who) -> CreatedCredential:
    _, world = node.world()
    party = body.party.strip().upper()
    if party not in world.parties:
        raise Invalid(f"{body.party!r} is not a known party", "party", "UNKNOWN_PARTY")
    kind = body.kind or ("user" if body.clearance is not None else None)
    if kind is None:
        raise Invalid(
            'say "kind": "partner" for a partner node, or give a user its "clearance"',
            "kind",
            "KIND_REQUIRED",
        )
    if kind == "user":
        levels = world.party(party).level_codes()
        if body.clearance is None:
            raise Invalid("a user needs a clearance", "clearance", "CLEARANCE_REQUIRED")
        if body.clearance not in levels:
            raise Invalid(
                f"{body.clearance!r} is not a level of {party} ({', '.join(levels)})",
                "clearance",
                "UNKNOWN_LEVEL",
            )
    elif body.clearance is not None or body.groups or body.roles:
        raise Invalid(
            "clearance, groups and roles are for users, not partner nodes",
            "clearance" if body.clearance is not None else ("groups" if body.groups else "roles"),
            "NOT_FOR_PARTNERS",
        )
    if any(p.name == body.name and not p.revoked for p in list_principals(node.store)):
        raise Conflict(
            f"a live credential named {body.name!r} exists; revoke it first",
            "name",
            "CREDENTIAL_EXISTS",
        )
    principal, secret = grant(
        node.store,
        world,
        node.party,
        who,
        body.name,
        kind,
        party,
        secret=body.secret,
        clearance=body.clearance,
        groups=body.groups,
        roles=body.roles,
    )
    return CreatedCredential.model_validate(
        {**principal.to_json(), "secret": secret if body.secret is None else None}
    )


@router.delete(
    "/credentials/{name}",
    tags=["credentials"],
    summary="Revoke a credential at once, in every serving process (the record is kept)",
)
def revoke_credential(name: str, node: NodeDep, who: Who) -> Revoked:
    """403 for a credential beyond the operator's own authority (a higher clearance, a group or
    role it does not hold, a partner node's: `accord.principals.authority.check_act`)."""
    authority.revoke(node.store, name, by=(who, node.world()[1]))
    return Revoked(name=name, revoked=True)


class Unlocked(BaseModel):
    name: str
    was_locked: bool = Field(
        description="Whether the credential was locked (false: only forgotten failures)"
    )


@router.post(
    "/credentials/{name}/unlock",
    tags=["credentials"],
    summary="Unlock a credential locked after failed sign-ins, and forget its failures (audited)",
)
def unlock_credential(name: str, request: Request, node: NodeDep, who: Who) -> Unlocked:
    address = client_address(request.client.host if request.client else None)
    was_locked = authority.unlock(node.store, name, address, by=(who, node.world()[1]))
    return Unlocked(name=name, was_locked=was_locked)
