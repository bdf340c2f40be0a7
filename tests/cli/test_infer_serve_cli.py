"""`swiftctl serve` as a user runs it: a real subprocess, ready on loopback, stopped by Ctrl-C with nothing left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_serve_until_ctrl_c(trained_lora_run, tmp_path):
    from swiftctl.launch.serve import free_port, health_ok

    port = free_port()
    env = dict(os.environ, SWIFTCTL_API_KEY="sk-cli-test")
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "swiftctl", "serve", str(trained_lora_run.parent), "--port",
                                 str(port), "--max-new-tokens", "4"], cwd=REPO, env=env, text=True,
                                stdout=subprocess.DEVNULL, stderr=err_file, start_new_session=True)
    try:
        deadline = time.monotonic() + 420
        while "ready: " not in err_path.read_text() and time.monotonic() < deadline:  # swiftctl saw /health
            assert proc.poll() is None, err_path.read_text()[-3000:]
            time.sleep(2)
        assert health_ok(f"http://127.0.0.1:{port}/health")
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models")
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = err_path.read_text()
    assert f"ready: http://127.0.0.1:{port}/v1" in err and ", bearer key required)" in err
    assert "sk-cli-test" not in err
    _gone, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, alive
    assert not health_ok(f"http://127.0.0.1:{port}/health")
