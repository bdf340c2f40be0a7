"""`swiftctl serve` as a user runs it: a real subprocess, ready on loopback, stopped by Ctrl-C with nothing left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_serve_until_ctrl_c(trained_lora_run, tmp_path):
    from swiftctl.launch.serve import free_port, health_ok

    port = free_port()
    before = set(Path(tempfile.gettempdir()).glob("swiftctl-serve-*"))
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
        with pytest.raises(urllib.error.HTTPError) as denied:  # no key: 401 on every route but /health
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=30)
        assert denied.value.code == 401
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer sk-cli-test"})
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
    left = set(Path(tempfile.gettempdir()).glob("swiftctl-serve-*")) - before
    assert not left, f"the serve temp dir (with its log) must be removed on exit: {left}"


def test_interactive_chat_reads_the_terminal_and_exits(trained_lora_run):
    """Interactive `swiftctl infer RUN` hands stdin to ms-swift's chat loop; `exit` ends it with code 0."""
    proc = subprocess.run([sys.executable, "-m", "swiftctl", "infer", str(trained_lora_run.parent), "--backend",
                           "transformers", "--max-new-tokens", "4"], cwd=REPO, input="你是谁\nexit\n", text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "system prompt (args.json): '你是一个名为沐雪的可爱AI女孩子'" in proc.stderr
    assert proc.stdout.count("<<< ") == 2, proc.stdout[-2000:]  # one prompt answered, then `exit` at the second
