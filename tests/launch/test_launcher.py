"""The portable launch scripts (`train --write`, `train --slurm`): golden text, bash syntax, and what they run.

Slurm's commands are stand-ins here (the real Slurm run is tests/launch/test_slurm_real.py): the script must pass
the node rank, node 0's host and `--resume auto` to `swiftctl train`, and forward "$@".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from swiftctl.launch.launcher import relative_job, render_launcher, render_sbatch

GOLDEN = Path(__file__).resolve().parents[1] / "jobs" / "golden" / "multinode.launcher.sbatch"
PRINTER = Path(__file__).resolve().parent / "print_argv.py"  # $SWIFTCTL is split on spaces: no quoting inside it


def _sbatch() -> str:
    return render_sbatch("jobs/multinode.toml", source="jobs/multinode.toml", job_name="multinode", nnodes=2,
                         gpus_per_node=8)


def test_sbatch_matches_golden():
    if os.environ.get("SWIFTCTL_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(_sbatch(), encoding="utf-8")
    assert _sbatch() == GOLDEN.read_text(encoding="utf-8")


def _bash(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script, "job", *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_sbatch_step_passes_rank_master_and_resume(tmp_path):
    fake = ("srun() { while [[ $1 == --* ]]; do shift; done; \"$@\"; }\n"
            "scontrol() { printf 'gpu-a\\ngpu-b\\n'; }\n")
    script = _sbatch().replace("set -euo pipefail\n", "set -euo pipefail\n" + fake)
    env = {"SLURM_JOB_NODELIST": "gpu-[a-b]", "SLURM_NNODES": "2", "SLURM_NODEID": "1", "SLURM_SUBMIT_DIR": str(tmp_path),
           "SWIFTCTL": f"{sys.executable} {PRINTER}", "SLURM_JOB_ID": "7"}
    proc = _bash(script, env, "--skip-doctor")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ('["train", "jobs/multinode.toml", "--resume", "auto", "--master-addr", "gpu-a", '
                                   '"--skip-doctor", "--node-rank", "1"]')
    short = _bash(script, {**env, "SLURM_NNODES": "1"})
    assert short.returncode == 1 and short.stdout == ""
    assert short.stderr == "swiftctl: this job needs 2 nodes but the allocation has 1: submit with --nodes=2\n"


def test_written_script_runs_the_job_relative_to_itself(tmp_path):
    (tmp_path / "jobs").mkdir()
    script = render_launcher(relative_job(tmp_path / "jobs" / "a b.toml", tmp_path), source="x", nnodes=1)
    (tmp_path / "run.sh").write_text(script)
    proc = subprocess.run(["bash", str(tmp_path / "run.sh"), "--dry-run"], cwd="/", capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "SWIFTCTL": f"{sys.executable} {PRINTER}"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '["train", "jobs/a b.toml", "--dry-run"]'
