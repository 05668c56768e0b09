"""The management REST API under /api/v1/ (issue #8)."""

from __future__ import annotations

from starlette.applications import Starlette

from accord.taxii.node import Node


def create_api(node: Node) -> Starlette:
    """Returns the management API app for `node`, mounted at /api/v1 by `accord.app.create_app`."""
    return Starlette(routes=[])
