"""accord's domain errors: one small tree, mapped to exit codes and HTTP statuses in one place each.

    AccordError
    ├── InputError            the caller's input is wrong (bad file, unknown code, bad date)  → exit 2
    │   ├── NotFound          a named thing does not exist                                    → exit 2
    │   └── ImportRejected    a registry file failed validation; carries every problem found  → exit 2
    ├── Refused               a rule refused the operation (R10–R12 for orders, …)            → exit 1
    └── StoreError            the store failed (connection, integrity, migration)             → exit 1

Storage and policy code raise these and never choose a status code or an exit code: the CLI
(`accord.cli.main`) and, later, the HTTP layer translate them.
"""

from __future__ import annotations

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


class Refused(AccordError):
    """A rule of the agreements refused the operation; `rules` names the rule codes."""

    def __init__(self, message: str, rules: Sequence[str] = ()) -> None:
        self.rules = list(rules)
        super().__init__(message)


class StoreError(AccordError):
    """The store failed; raised from the store's one translation boundary."""
