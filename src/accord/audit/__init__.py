"""The audit trail: a hash-chained, append-only record of every release, receipt, refusal,
registry, consent and credential change, with signed checkpoints and disclosures per item."""

from accord.audit.checkpoints import checkpoint, public_key_hex, verify_checkpoints
from accord.audit.log import Verdict, append, disclosures, export, record, verify

__all__ = [
    "Verdict",
    "append",
    "checkpoint",
    "disclosures",
    "export",
    "public_key_hex",
    "record",
    "verify",
    "verify_checkpoints",
]
