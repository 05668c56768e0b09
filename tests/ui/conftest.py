"""Fixtures of the web interface suites: one live KOR node (SQLite) with the test credentials and
a few logistics orders, and Debian's Chromium driven by Playwright.

The UI suites start live nodes with the TAXII suites' harness (tests/taxii/taxii_live.py). A
missing /usr/bin/chromium FAILS the browser tests: it is never a reason to skip them (.ci/run
installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from taxii_live import LiveNode, add_test_principals, start_node
from ui_support import CHROMIUM, CHROMIUM_ARGS, TODAY, add_orders

from accord.principals import revoke_principal
from backends import sqlite_store


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A KOR node on SQLite, today = 2024-06-03, with the test credentials and sample orders."""
    url = sqlite_store(tmp_path_factory.mktemp("ui-node") / "accord.db")
    node = start_node(url, as_of=TODAY)
    for name in ("analyst", "jpn-node"):  # first-run demo credentials: replaced by known ones
        revoke_principal(node.store, name)
    add_test_principals(node.store)
    add_orders(node)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; FAILS when it is not installed."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the web interface tests need Debian's chromium "
            "(apt-get install chromium; .ci/run installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
