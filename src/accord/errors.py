"""accord's domain errors: one small tree; each class carries its exit code and HTTP status.

    AccordError
    ├── InputError              the caller's input is wrong (bad file, code, date, query)  exit 2, HTTP 400
    │   ├── NotFound            a named thing does not exist (or is not the caller's to see)  2, 404
    │   ├── ImportRejected      a registry file failed validation; every problem listed       2, 422
    │   ├── NotAcceptable       no acceptable response media type                             2, 406
    │   ├── UnsupportedMedia    the request body's media type is not one accord reads         2, 415
    │   ├── TooLarge            the request body exceeds the limit                            2, 413
    │   └── Unprocessable       well-formed but unusable content                              2, 422
    ├── Unauthenticated         no valid credentials                                          1, 401
    ├── Forbidden               authenticated, but not allowed                                1, 403
    ├── Refused                 a rule refused the operation (R10–R12 for orders, …)          1, 422
    ├── TooManyRequests         over a write quota: try again after `retry_after` seconds     1, 429
    │   └── Throttled           too many failed sign-ins: wait `retry_after` seconds          1, 429
    └── StoreError              the store failed (connection, migration)                      1, 503
        └── StoreConflict       the store refused a write that conflicts with stored data     1, 409

Storage and policy code raise these and never choose a status code or an exit code: each class
carries both (`exit_code`, `http_status`, `title`); the CLI (`accord.cli.main`), TAXII
(`accord.taxii.errors`), the API (`accord.api.errors`) and the web pages (`accord.web.pages`) only
format them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence


class AccordError(Exception):
    """Base of every error accord raises on purpose. Each class carries what every surface
    needs to answer it — the CLI's `exit_code`, HTTP's `http_status` and its reason phrase
    `title` (RFC 9110 §15) — so TAXII, the API and the web pages only format the answer and can
    never disagree on it."""

    exit_code = 1
    http_status = 500
    title = "Internal Server Error"


class InputError(AccordError):
    """The caller gave input accord cannot use; the message names what is wrong."""

    exit_code = 2
    http_status = 400
    title = "Bad Request"


class NotFound(InputError):
    """A named party, agreement, level, consent or order does not exist."""

    http_status = 404
    title = "Not Found"


class ImportRejected(InputError):
    """A registry file was rejected whole; `problems` lists every error as `file:line: path: what`.
    Well-formed input whose content cannot be used: 422 (RFC 9110 §15.5.21) on every surface."""

    http_status = 422
    title = "Unprocessable Content"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "import rejected"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem(s))" if more > 0 else ""))


class NotAcceptable(InputError):
    """The client accepts no media type this endpoint can answer with."""

    http_status = 406
    title = "Not Acceptable"


class UnsupportedMedia(InputError):
    """The request body's Content-Type is not one this endpoint reads."""

    http_status = 415
    title = "Unsupported Media Type"


class TooLarge(InputError):
    """The request body is larger than the server accepts."""

    http_status = 413
    title = "Payload Too Large"


class Unprocessable(InputError):
    """The request is well-formed but its content cannot be processed."""

    http_status = 422
    title = "Unprocessable Content"


class Unauthenticated(AccordError):
    """No credentials, or credentials that do not match a live principal."""

    http_status = 401
    title = "Unauthorized"


class Forbidden(AccordError):
    """The principal is known but may not do this."""

    http_status = 403
    title = "Forbidden"


class Refused(AccordError):
    """A rule of the agreements refused the operation; `rules` names the rule codes."""

    http_status = 422
    title = "Refused"

    def __init__(self, message: str, rules: Sequence[str] = ()) -> None:
        self.rules = list(rules)
        super().__init__(message)


class TooManyRequests(AccordError):
    """The principal is over a quota: it may try again after `retry_after` seconds, which the
    HTTP layer sends as `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3)."""

    http_status = 429
    title = "Too Many Requests"

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


class Throttled(TooManyRequests):
    """Too many failed attempts to authenticate, for the account or from the address: the
    credentials were not checked; `retry_after` is the whole number of seconds to wait."""


class StoreError(AccordError):
    """The store failed; raised from the store's one translation boundary.

    The message (`str(exc)`) may carry the driver's own text (the store's address, its error):
    it goes to the node's own log and to the CLI, an operator on the node's host. A client of
    TAXII, the API or the web pages is told `public` only — the generic `summary` and an
    `error_id` the log line also carries — so no error tells a client how the node is built
    (PRODUCT.md §7; docs/security.md)."""

    http_status = 503
    title = "Service Unavailable"

    def __init__(self, message: str, summary: str = "the store is unavailable") -> None:
        super().__init__(message)
        self.summary = summary
        self.error_id = secrets.token_hex(8)

    @property
    def public(self) -> str:
        """What a network client is told: the summary and the error id, never the detail."""
        return f"{self.summary} (error id {self.error_id})"


class StoreConflict(StoreError):
    """The store refused a write that conflicts with what it holds (a uniqueness or integrity
    constraint): the request may be retried against the new state, not later. 409 (RFC 9110
    §15.5.10), never the 503 of an unavailable store."""

    http_status = 409
    title = "Conflict"

    def __init__(self, message: str, summary: str = "the write conflicts with stored data") -> None:
        super().__init__(message, summary)
