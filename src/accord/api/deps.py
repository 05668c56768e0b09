"""What every endpoint receives: the node serving the request and the authenticated caller."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from accord.api.roles import caller
from accord.node import Node
from accord.principals import Principal


async def node_of(request: Request) -> Node:
    """Returns the node this API app serves (set by `create_api`); async, so that FastAPI does not
    send it to the thread pool."""
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(node_of)]
Who = Annotated[Principal, Depends(caller)]


def day(node: Node, at: date | None) -> date:
    """Returns `at`, or the node's today (its fixed demonstration date when it has one)."""
    return at if at is not None else node.today()
