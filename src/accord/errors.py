"""accord's domain errors: one small tree, mapped to exit codes and HTTP statuses in one place each.

    AccordError
    ├── InputError              the caller's input is wrong (bad file, code, date, query)  exit 2, HTTP 400
    │   ├── NotFound            a named thing does not exist (or is not the caller's to see)  2, 404
    │   ├── ImportRejected      a registry file failed validation; every problem listed       2, 400
    │   ├── NotAcceptable       no acceptable response media type                             2, 406
    │   ├── UnsupportedMedia    the request body's media type is not one accord reads         2, 415
    │   ├── TooLarge            the request body exceeds the limit                            2, 413
    │   └── Unprocessable       well-formed but unusable content                              2, 422
    ├── Unauthenticated         no valid credentials                                          1, 401
    ├── Forbidden               authenticated, but not allowed                                1, 403
    ├── Refused                 a rule refused the operation (R10–R12 for orders, …)          1, 422
    ├── TooManyRequests         over a write quota: try again after `retry_after` seconds     1, 429
    │   └── Throttled           too many failed sign-ins: wait `retry_after` seconds          1, 429
    └── StoreError              the store failed (connection, integrity, migration)           1, 503

Storage and policy code raise these and never choose a status code or an exit code: the CLI
(`accord.cli.main`) uses `exit_code`, the HTTP layer (`accord.taxii.errors`) maps classes to statuses.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence


class AccordError(Exception):
    """Base of every error accord raises on purpose."""

    exit_code = 1


class InputError(AccordError):
    """The caller gave input accord cannot use; the message names what is wrong."""

    exit_code = 2


class NotFound(InputError):
    """A named party, agreement, level, consent or order does not exist."""


class ImportRejected(InputError):
    """A registry file was rejected whole; `problems` lists every error as `file:line: path: what`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "import rejected"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem(s))" if more > 0 else ""))


class NotAcceptable(InputError):
    """The client accepts no media type this endpoint can answer with."""


class UnsupportedMedia(InputError):
    """The request body's Content-Type is not one this endpoint reads."""


class TooLarge(InputError):
    """The request body is larger than the server accepts."""


class Unprocessable(InputError):
    """The request is well-formed but its content cannot be processed."""


class Unauthenticated(AccordError):
    """No credentials, or credentials that do not match a live principal."""


class Forbidden(AccordError):
    """The principal is known but may not do this."""


class Refused(AccordError):
    """A rule of the agreements refused the operation; `rules` names the rule codes."""

    def __init__(self, message: str, rules: Sequence[str] = ()) -> None:
        self.rules = list(rules)
        super().__init__(message)


class TooManyRequests(AccordError):
    """The principal is over a quota: it may try again after `retry_after` seconds, which the
    HTTP layer sends as `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3)."""

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

    def __init__(self, message: str, summary: str = "the store is unavailable") -> None:
        super().__init__(message)
        self.summary = summary
        self.error_id = secrets.token_hex(8)

    @property
    def public(self) -> str:
        """What a network client is told: the summary and the error id, never the detail."""
        return f"{self.summary} (error id {self.error_id})"
