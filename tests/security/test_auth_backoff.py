"""The back-off schedule (accord.principals.throttle.backoff), as properties: nothing to wait
below the free failures, then 1 s doubling per further failure, never above the cap, and never
shorter after more failures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from accord.principals.throttle import backoff

failures = st.integers(min_value=0, max_value=10_000)
free = st.integers(min_value=0, max_value=100)
cap = st.integers(min_value=0, max_value=86_400)


@given(failures, failures, free, cap)
def test_monotone_and_capped(a: int, b: int, f: int, c: int) -> None:
    lo, hi = sorted((a, b))
    assert 0 <= backoff(lo, f, c) <= backoff(hi, f, c) <= c


@given(failures, free, cap)
def test_free_failures_wait_nothing_then_doubling_until_the_cap(n: int, f: int, c: int) -> None:
    if n < f:
        assert backoff(n, f, c) == 0
    elif c > 0:
        assert backoff(n, f, c) == min(2 ** (n - f), c)
        assert backoff(n + 1, f, c) == min(2 * backoff(n, f, c), c)


def test_the_default_schedule() -> None:
    """With the defaults (5 free failures, 900 s cap): the 5th failure makes the next attempt
    wait 1 s, the 6th 2 s, … the 15th and later 900 s."""
    assert [backoff(n, 5, 900) for n in range(3, 17)] == [
        0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900,
    ]  # fmt: skip
