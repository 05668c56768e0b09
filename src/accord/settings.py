"""Settings, declared once as data and read from the environment, then a file, then the default.

Each setting has a name, an environment variable (`ACCORD_` + NAME), a default and a help line. The
file is TOML, named by `ACCORD_CONFIG` or `accord.toml` in the current directory when it exists.
Secrets are wrapped in `Secret`, whose repr and str are masked, so they never reach a log or an
error.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.errors import InputError


class Secret:
    """A secret value: `reveal()` gives it; repr and str show `'**********'`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return "ACCORD_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "sqlite:///accord.db", "Store URL: sqlite:///PATH or postgresql://…"),
    Setting("party", None, "This node's party (overrides the party recorded by `accord init`)"),
    Setting("config", "accord.toml", "Settings file (TOML) read after the environment"),
    Setting("host", "127.0.0.1", "Address `accord serve` binds"),
    Setting("port", 8000, "Port `accord serve` listens on"),
    Setting("workers", 1, "Worker processes of `accord serve`"),
    Setting("certfile", None, "TLS certificate (PEM) for `accord serve`"),
    Setting("keyfile", None, "TLS private key (PEM) for `accord serve`", secret=False),
    Setting(
        "client_ca",
        None,
        "CA certificates (PEM) that client certificates must chain to: `accord serve` asks for "
        "and verifies them (mutual TLS; needs certfile and keyfile)",
    ),
    Setting(
        "client_certs",
        "optional",
        "With client_ca: optional (clients without a certificate use Basic or Bearer) | required "
        "(no client without one gets past the TLS handshake)",
    ),
    Setting("api_root", None, "TAXII API root name (default: the node's party, lower case)"),
    Setting("max_content_length", 10 * 1024 * 1024, "Largest request body accepted, in bytes"),
    Setting("max_page_size", 1000, "Most objects in one TAXII page"),
    Setting(
        "read_ahead",
        32,
        "TAXII pages computed ahead for clients paging with `next`, per process (0: none)",
    ),
    Setting(
        "status_list_limit",
        1000,
        "Most status-details a TAXII status lists per list (successes, failures); counts stay exact",
    ),
    Setting(
        "status_retention",
        7 * 24 * 3600,
        "Seconds a TAXII status is kept after its request (then 404 and purged)",
    ),
    Setting(
        "status_max_per_principal",
        200,
        "Most TAXII statuses kept per principal: older ones are purged (0: no count limit)",
    ),
    Setting(
        "write_quota_interval",
        60,
        "Seconds of one TAXII write-quota window (per principal; 0: no quota)",
    ),
    Setting(
        "write_quota_objects",
        100_000,
        "Objects one principal may POST to TAXII per window; more answers 429 (0: unlimited)",
    ),
    Setting(
        "write_quota_bytes",
        50 * 1024 * 1024,
        "Body bytes one principal may POST to TAXII per window; more answers 429 (0: unlimited)",
    ),
    Setting("audit_page_size", 50, "Records per page of the web interface's audit trail"),
    Setting(
        "audit_checkpoint_every",
        1000,
        "Records verified since the last checkpoint after which the audit page signs a new one",
    ),
    Setting(
        "sync_interval",
        300,
        "Seconds between scheduled syncs with every peer (0: only `accord sync`)",
    ),
    Setting(
        "auth_throttle",
        "on",
        "Throttle failed authentication per account and per client address: on | off "
        "(off only to measure its cost; docs/security.md)",
    ),
    Setting(
        "auth_free_failures",
        5,
        "Failed attempts an account may make within auth_window before each further attempt "
        "waits (exponential back-off: 1 s, 2 s, 4 s, …)",
    ),
    Setting(
        "auth_address_failures",
        100,
        "Failed attempts one client address (IPv6: its /64) may make within auth_window before "
        "its attempts wait, whatever names it tries",
    ),
    Setting(
        "auth_backoff_cap",
        900,
        "Longest wait (seconds) the back-off imposes after one more failure",
    ),
    Setting(
        "auth_window",
        3600,
        "Seconds without a failure after which an account's or address's failures are forgotten",
    ),
    Setting(
        "auth_lockout",
        30,
        "Failed attempts within auth_window that lock an account until "
        "`accord credential unlock NAME` or auth_lockout_seconds (0: never lock)",
    ),
    Setting(
        "auth_lockout_seconds",
        86400,
        "How long a lockout lasts when no operator unlocks the account (seconds)",
    ),
    Setting(
        "metrics",
        "credential",
        "GET /metrics: off (404) | credential (users with the operator or auditor role) | "
        "public (anyone who can reach the port)",
    ),
    Setting(
        "signatures",
        "pinned",
        "What a receiver does with originator signatures of items accord peers deliver: pinned "
        "(verify where the originator's key is pinned, else store as unverified provenance) | "
        "required (refuse what cannot be verified) | off (no verification and no receipts: only "
        "to measure their cost)",
    ),
    Setting(
        "foreign_markings",
        {},
        "Markings of peers that are not accord nodes → release markings, as a table "
        '(`[foreign_markings]` "TLP:GREEN" = "USA U general-military"; in the environment: '
        "entries FOREIGN=ORIGINATOR LEVEL TOPIC separated by ';'); a peer's --map comes first",
    ),
    Setting(
        "date",
        None,
        "Decide releases as of this date (YYYY-MM-DD) instead of today: for demonstrations of past "
        "registry states, never for production",
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; `source` tells where each value came from (env, file or default)."""

    values: Mapping[str, Any]
    source: Mapping[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        shown = {
            k: ("**********" if _BY_NAME[k].secret and v is not None else v)
            for k, v in self.values.items()
        }
        return f"Settings({shown!r})"


def _table(s: Setting, value: Any) -> dict[str, str]:
    """Returns a table setting as {name: text}: a TOML table, or from the environment entries
    `NAME=TEXT` separated by ';'. InputError names the setting and the entry at fault."""
    if isinstance(value, str):
        table: dict[str, str] = {}
        for entry in filter(None, (e.strip() for e in value.split(";"))):
            name, sep, text = entry.partition("=")
            if not sep or not name.strip():
                raise InputError(f"{s.env}: {entry[:60]!r} is not NAME=VALUE")
            table[name.strip()] = text.strip()
        return table
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InputError(f"{s.name}: expected a table of names to text values")
    return dict(value)


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Returns the settings: explicit overrides, then environment, then file, then default."""
    env = os.environ if environ is None else environ
    config_path = Path(env.get("ACCORD_CONFIG", _BY_NAME["config"].default))
    file_values: dict[str, Any] = {}
    if config_path.is_file():
        try:
            file_values = tomllib.loads(config_path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{config_path}: not a valid TOML settings file: {exc}") from None
        unknown = set(file_values) - set(_BY_NAME)
        if unknown:
            raise InputError(f"{config_path}: {sorted(unknown)[0]!r} is not a setting accord knows")
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    for s in SETTINGS:
        if overrides and overrides.get(s.name) is not None:
            value, where = overrides[s.name], "option"
        elif s.env in env and env[s.env] != "":
            value, where = env[s.env], "env"
        elif s.name in file_values:
            value, where = file_values[s.name], "file"
        else:
            value, where = s.default, "default"
        if isinstance(s.default, dict):
            value = _table(s, value)
        if isinstance(s.default, int) and not isinstance(value, int):
            try:
                value = int(str(value))
            except ValueError:
                raise InputError(f"{s.env}: {str(value)[:40]!r} is not a whole number") from None
        values[s.name] = Secret(value) if s.secret and isinstance(value, str) else value
        source[s.name] = where
    return Settings(values, source)
