"""Trust between nations: node keys and pinned partner keys, originator signatures that
survive the hub, signed receipts."""
