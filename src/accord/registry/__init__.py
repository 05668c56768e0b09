"""The agreement registry: parties, agreements with dated lifecycles, notes and consents."""

from accord.registry.lifecycle import Status, in_force, next_renewal_deadline, status, timeline
from accord.registry.model import (
    Agreement,
    AgreementKind,
    Consent,
    Event,
    EventKind,
    Level,
    Note,
    Party,
    Registry,
    Scope,
    Term,
)

__all__ = [
    "Agreement",
    "AgreementKind",
    "Consent",
    "Event",
    "EventKind",
    "Level",
    "Note",
    "Party",
    "Registry",
    "Scope",
    "Status",
    "Term",
    "in_force",
    "next_renewal_deadline",
    "status",
    "timeline",
]
