"""accord: share classified information and mutual logistics support strictly under the agreements
nations have signed (see README.md and docs/)."""

__version__ = "0.1.0"
