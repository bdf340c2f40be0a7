"""Golden env + argv for every committed job (compiled against the bundled ms-swift 4.x argument list).

Regenerate after an intended change: SWIFTCTL_UPDATE_GOLDEN=1 pytest tests/jobs/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.swift_args import bundled
from swiftctl.launch.script import render_script, render_slurm

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
JOBS = ["demo", "muice", "muice-lora", "multinode", "demo-dpo", "demo-grpo", "muice-dpo", "muice-grpo"]


def _check(name: str, text: str) -> None:
    text = text.replace(str((REPO / ".fixtures").resolve()), "$REPO/.fixtures")  # a worktree's .fixtures symlink
    text = text.replace(str(REPO), "$REPO")
    path = GOLDEN / name
    if os.environ.get("SWIFTCTL_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("job", JOBS)
def test_compiled_script_matches_golden(job):
    loaded = load_job(REPO / "jobs" / f"{job}.toml")
    plan = compile_plan(loaded, bundled(4), extra_env={})
    _check(f"{job}.sh", render_script(plan, source=f"jobs/{job}.toml"))


def test_multinode_node1_sets_rank_and_rendezvous():
    plan = compile_plan(load_job(REPO / "jobs" / "multinode.toml"), bundled(4), node_rank=1, extra_env={})
    assert {k: plan.env[k] for k in ("NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "NPROC_PER_NODE")} == {
        "NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "node0", "MASTER_PORT": "29500", "NPROC_PER_NODE": "8"}


def test_slurm_script_matches_golden():
    plan = compile_plan(load_job(REPO / "jobs" / "multinode.toml"), bundled(4), extra_env={}, slurm=True)
    _check("multinode.sbatch", render_slurm(plan, source="jobs/multinode.toml", job_name="multinode"))


def test_3x_target_uses_3x_names():
    loaded = load_job(REPO / "jobs" / "muice.toml")
    loaded.job.swift_version = "3"
    plan = compile_plan(loaded, bundled(3), extra_env={})
    assert "--train_type" in plan.argv and "--tuner_type" not in plan.argv
    assert plan.argv[plan.argv.index("--train_type") + 1] == "full"


def test_patch_env_is_part_of_the_plan():
    plan = compile_plan(load_job(REPO / "jobs" / "demo.toml"), bundled(4), extra_env={"PYTHONPATH": "/p/boot"})
    assert plan.env == {"PYTHONPATH": "/p/boot"}
    assert "export PYTHONPATH=/p/boot" in render_script(plan)
