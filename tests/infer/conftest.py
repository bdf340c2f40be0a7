"""A project directory with one finished `swiftctl train` run (real ms-swift, ~30-60 s), as a user has after training."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, tiny_model) -> Path:
    """tmp/proj with jobs/demo.toml (model = the tiny fixture) and demo-runs/demo/v0-.../ trained by swiftctl itself."""
    proj = tmp_path_factory.mktemp("proj")
    shutil.copytree(REPO / "jobs" / "data", proj / "jobs" / "data")
    job = (REPO / "jobs" / "demo.toml").read_text(encoding="utf-8")
    (proj / "jobs" / "demo.toml").write_text(job.replace('"../.fixtures/tiny-qwen2"', f'"{tiny_model}"'),
                                             encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "swiftctl", "train", "jobs/demo.toml"], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(list((proj / "demo-runs" / "demo").glob("v*-*/swiftctl-manifest.json"))) == 1
    return proj


@pytest.fixture(scope="session")
def exported(trained_project, tmp_path_factory) -> Path:
    """`swiftctl export --out DIR` of that run, with no RUN given (the newest run is found)."""
    out = tmp_path_factory.mktemp("export") / "muxue"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "swiftctl", "export", "--out", str(out)], cwd=trained_project,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no RUN given: using the newest run demo-runs/demo/v0-" in proc.stderr
    return out
