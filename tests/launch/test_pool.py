"""The worker pool (swiftctl.launch.pool): spawned workers, initialised once, always stopped when the block ends."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftctl.launch.pool import worker_pool
from tests.conftest import REPO

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


def _busy(pid_file: str) -> None:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(60)


def test_a_busy_worker_exits_when_its_parent_is_killed(tmp_path):
    """The parent killed with SIGKILL (no teardown) while a worker is busy: the worker exits within about a second."""
    pid_file = tmp_path / "worker.pid"
    code = ("import sys\nfrom swiftctl.launch.pool import worker_pool\nfrom tests.launch.test_pool import _busy, _init\n"
            "with worker_pool(_init, (1,)) as pool:\n    pool.call(_busy, sys.argv[1])\n")
    parent = subprocess.Popen([sys.executable, "-c", code, str(pid_file)], cwd=REPO)
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(40):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the worker outlived its killed parent")


def test_a_script_without_a_main_guard_does_not_rerun_in_workers(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from swiftctl.launch.pool import worker_pool\nfrom tests.launch.test_pool import _init, _work\n"
                      "with worker_pool(_init, (2,)) as pool:\n    print(pool.call(_work, 21)[0])\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (proc.returncode, proc.stdout) == (0, "42\n"), proc.stderr[-2000:]
