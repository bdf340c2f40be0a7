"""launch.pool.process_map: results in order; a worker's exception reaches the parent and leaves no worker behind."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from swiftctl.launch.pool import process_map


def _square_or_fail(n: int) -> tuple[int, int]:
    if n == 3:
        raise ValueError("bad item 3")
    return n * n, os.getpid()


def test_results_in_order_then_a_worker_error_tears_the_pool_down():
    with process_map(_square_or_fail, [0, 1, 2], 2) as results:
        out = list(results)
    assert [sq for sq, _ in out] == [0, 1, 4] and all(pid != os.getpid() for _, pid in out)
    with pytest.raises(ValueError, match="bad item 3"), process_map(_square_or_fail, range(6), 2) as results:
        list(results)
    assert multiprocessing.active_children() == []
