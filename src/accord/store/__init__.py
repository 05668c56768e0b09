"""The store: one schema and migration history over SQLite (embedded default) and PostgreSQL."""

from accord.store.engine import Store, mask_url, open_store, translate_errors

__all__ = ["Store", "mask_url", "open_store", "translate_errors"]
