"""`train --write` scripts are portable: rendered in one copy of the project, run from another one.

The script holds no absolute path of the checkout that wrote it; run elsewhere it calls that copy's swiftctl, which
compiles the job and computes the patch environment there (shown through `--dry-run`, passed on by the script).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, REPO, swiftctl_subprocess
from tests.launch.project_copy import copy_project

pytestmark = [pytest.mark.stack]


def test_written_script_runs_from_another_copy(tmp_path):
    first = copy_project(tmp_path / "first")
    proc = swiftctl_subprocess("train", str(first / "jobs" / "demo.toml"), "--write", str(first / "run.sh"))
    assert proc.returncode == 0, proc.stderr
    text = (first / "run.sh").read_text()
    assert str(REPO) not in text and str(first) not in text and "PYTHONPATH" not in text
    assert "train jobs/demo.toml" in text
    second = tmp_path / "elsewhere" / "second"
    second.parent.mkdir()
    shutil.move(first, second)
    run = subprocess.run(["bash", str(second / "run.sh"), "--dry-run"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "SWIFTCTL": f"{sys.executable} -m swiftctl"})
    assert run.returncode == 0, run.stderr
    # the patch environment and every path were computed in the second copy, on the machine that ran the script
    assert f"export PYTHONPATH={second}/swiftctl/patches/boot" in run.stdout
    assert f"--output_dir {second}/demo-runs/demo" in run.stdout
    # the copy's .fixtures is a link to the shared fixtures, which the job's model path resolves through
    rest = run.stdout.replace(str(FIXTURES.resolve()), "<fixtures>")
    assert str(REPO) not in rest and "/first/" not in rest


def test_written_multinode_script_takes_the_rank_from_the_environment(tmp_path, cli):
    job = tmp_path / "two.toml"
    job.write_text((REPO / "jobs" / "demo.toml").read_text().replace("../", f"{REPO}/")
                   + 'nodes = 2\nmaster_addr = "127.0.0.1"\nshared_storage = true\n')
    r = cli("train", str(job), "--write", str(tmp_path / "sub" / "run.sh"))
    assert r.exit_code == 0, r.stderr
    text = (tmp_path / "sub" / "run.sh").read_text()
    assert 'train ../two.toml --node-rank "${NODE_RANK:-0}" "$@"' in text
