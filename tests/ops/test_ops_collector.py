"""The collector settings of processes that move large envelopes (`accord.server.settle_collector`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import orjson
import pytest

from accord.server import settle_collector


@pytest.fixture
def restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settling_freezes_what_is_alive_and_widens_the_young_generation(restored: None) -> None:
    settle_collector()
    assert gc.get_freeze_count() > 10_000  # modules, classes, the test session's objects
    assert gc.get_threshold()[0] >= 20_000


def test_a_parsed_page_sets_off_about_one_young_collection(restored: None) -> None:
    """A page of 1,000 indicators (~20,000 containers) collects the young generation at most a
    couple of times instead of dozens."""
    page = orjson.dumps(
        {"objects": [{"type": "indicator", "id": f"x{i}", "labels": ["a", "b"], "ext": {"k": [i]}}
                     for i in range(1_000)] * 5}
    )  # fmt: skip

    def young_collections() -> int:
        start = gc.get_stats()[0]["collections"]
        kept = [orjson.loads(page) for _ in range(3)]
        assert len(kept) == 3
        return int(gc.get_stats()[0]["collections"] - start)

    gc.collect()
    default = young_collections()
    settle_collector()
    settled = young_collections()
    assert default > 20 and settled <= default // 5, (default, settled)
