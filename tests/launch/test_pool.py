"""The worker pool (swiftctl.launch.pool): spawned workers, initialised once, always stopped when the block ends."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from swiftctl.launch.pool import worker_pool

_STATE: dict = {}


def _init(value: int) -> None:
    _STATE["value"] = value


def _work(x: int) -> tuple[int, int]:
    return x * _STATE["value"], os.getpid()


def test_workers_are_initialised_once_and_stopped():
    with worker_pool(_init, (3,), processes=2) as pool:
        results = pool.map(_work, [1, 2, 3, 4])
        assert [r for r, _ in results] == [3, 6, 9, 12]
        assert pool.call(_work, 5)[0] == 15
        assert os.getpid() not in {pid for _, pid in results}
        assert len(multiprocessing.active_children()) == 2
    assert multiprocessing.active_children() == []


def test_an_error_in_the_block_stops_the_workers():
    with pytest.raises(KeyboardInterrupt), worker_pool(_init, (1,)) as pool:
        pool.call(_work, 1)
        raise KeyboardInterrupt
    assert multiprocessing.active_children() == []
