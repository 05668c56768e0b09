"""The web interface under /ui/ (issue #7)."""

from __future__ import annotations

from starlette.applications import Starlette

from accord.taxii.node import Node


def create_web(node: Node) -> Starlette:
    """Returns the web interface app for `node`, mounted at /ui by `accord.app.create_app`."""
    return Starlette(routes=[])
