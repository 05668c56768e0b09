"""The bounds that keep a hostile writer's cost to the node small (docs/security.md, "Bounded
cost of hostile input"): how much of a status is listed, how long statuses are kept, how much a
principal may POST per window, and how the audit page pages and verifies. Read from the settings
(`accord.settings`) once per process, carried by the node's `NodeConfig`."""

from __future__ import annotations

from dataclasses import dataclass

from accord.settings import Settings


@dataclass(frozen=True)
class Limits:
    """The defaults are the settings' defaults (README.md, settings table)."""

    #: Most status-details a status lists per list; the counts stay exact. The largest TAXII
    #: page (`max_page_size`), which is the envelope accord's own push sends: a pushing node
    #: needs the whole failure list to record exactly what it released.
    status_list_limit: int = 1000
    #: Seconds a status is kept (TAXII 2.1 §4.3 asks for at least 24 hours).
    status_retention: int = 7 * 24 * 3600
    #: Most statuses kept per principal (0: no limit by count).
    status_max_per_principal: int = 200
    #: Seconds of one write-quota window (0: no quota).
    write_quota_interval: int = 60
    #: Objects and body bytes one principal may POST to TAXII per window (0: unlimited).
    write_quota_objects: int = 100_000
    write_quota_bytes: int = 50 * 1024 * 1024
    #: Records per page of the audit trail in the web interface.
    audit_page_size: int = 50
    #: Records verified past the last checkpoint after which the audit page signs a new one.
    audit_checkpoint_every: int = 1000


def limits_from(settings: Settings) -> Limits:
    """Returns the limits the settings name (each a whole number, checked by `load_settings`)."""
    return Limits(
        status_list_limit=max(1, int(settings.status_list_limit)),
        status_retention=max(1, int(settings.status_retention)),
        status_max_per_principal=max(0, int(settings.status_max_per_principal)),
        write_quota_interval=max(0, int(settings.write_quota_interval)),
        write_quota_objects=max(0, int(settings.write_quota_objects)),
        write_quota_bytes=max(0, int(settings.write_quota_bytes)),
        audit_page_size=max(1, int(settings.audit_page_size)),
        audit_checkpoint_every=max(1, int(settings.audit_checkpoint_every)),
    )
