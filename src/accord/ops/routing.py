"""The methods a resource takes, for the `Allow` header every 405 must carry (RFC 9110
§15.5.6).

Starlette names in a 405 only the methods of the first route whose path matched; a resource
served by several routes (TAXII's Get Objects and Add Objects, an API path with GET and POST)
takes the methods of them all. TAXII, the management API and the web pages answer their 405s
with `allow_header` so that a client is told every method the resource takes.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.routing import Match, Route


def allow_header(request: Request, given: Mapping[str, str] | None) -> dict[str, str]:
    """Returns the headers of an error answer to `request`: those `given` with the exception,
    and for a 405 an `Allow` naming every method of every route of this app matching the path."""
    headers = dict(given or {})
    if "Allow" not in headers and "allow" not in headers:
        return headers
    methods: set[str] = set()
    for route in getattr(request.app, "routes", []):
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match != Match.NONE:
                methods |= route.methods
    if methods:
        headers.pop("allow", None)
        headers["Allow"] = ", ".join(sorted(methods))
    return headers
