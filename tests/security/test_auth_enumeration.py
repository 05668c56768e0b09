"""A wrong secret costs the same whether or not the name is a live credential, so names cannot
be enumerated by timing (issue 16, case 12; docs/security.md, "Authentication"). Live node, both
stores, with the throttle off so that every attempt is checked."""

from __future__ import annotations

import statistics
import time

import pytest
from api_live import ApiNode
from auth_support import ABSENT, KNOWN, hashing, taxii, wrong

from accord.principals.throttle import ThrottlePolicy

ROUNDS = 9


def _median_wrong(api: ApiNode, name: str) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        assert taxii(api, name, wrong()).status_code == 401
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.mark.slow  # timed rounds of wrong secrets: in the full suite, not the fast loop
def test_unknown_and_revoked_names_cost_a_slow_hash_like_live_ones(
    api: ApiNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails on eff1280: an unknown or revoked name skipped scrypt (median 25 ms against 105 ms
    for a live name). Now each wrong attempt verifies one scrypt hash, for every kind of
    principal and for names that are not live credentials, and the medians agree."""
    api.live.node.config.throttle = ThrottlePolicy(enabled=False)
    for name in (*KNOWN, *ABSENT):
        with hashing(monkeypatch) as calls:
            assert taxii(api, name, wrong()).status_code == 401
            assert taxii(api, name, wrong()).status_code == 401
        assert len(calls) == 2, name
        assert all(c.startswith("scrypt$") for c in calls)
    live = _median_wrong(api, "clerk")
    for name in ABSENT:
        ratio = _median_wrong(api, name) / live
        assert 0.5 < ratio < 2.0, (name, ratio, live)
