"""The `train --slurm` script on a real Slurm (Debian's slurm-wlm: munged + slurmctld + slurmd, one local node).

`make slurm-setup` installs it (apt-get); the cluster lives in a temp dir and every daemon is stopped afterwards.
The script is rendered in a copy of the project and submitted from there: it `srun`s `swiftctl train` on the node.
A SIGUSR1 to the batch shell (what `--signal=B:USR1@N` sends before the time limit) stops the run cleanly and the
script requeues itself; the requeued job resumes from the last checkpoint (`--resume auto`); a later
`scontrol requeue` resumes again. Test-only speed-up: a requeued job waits ~2 min (Slurm's requeue delay) unless
its StartTime is moved to now, which the test does as root.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import swiftctl_subprocess
from tests.launch.project_copy import copy_project
from tests.launch.slurm_cluster import LocalSlurm, missing

pytestmark = [pytest.mark.stack, pytest.mark.slow]

SUBMIT_ENV = {"SWIFTCTL": f"{sys.executable} -m swiftctl"}


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if missing():
        pytest.fail(f"Slurm is not installed ({', '.join(missing())} missing): run `make slurm-setup` "
                    "(apt-get install slurm-wlm munge)")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm")).start()
    yield cluster
    cluster.stop()


def _demo_job(proj: Path, *, max_steps: int, nodes: int = 1) -> Path:
    text = (proj / "jobs" / "demo.toml").read_text()
    text = text.replace("max_steps = 6", f"max_steps = {max_steps}").replace("save_steps = 3", "save_steps = 2")
    text = text.replace("eval_steps = 3", "eval_steps = 2").replace('dir = "../demo-runs/demo"', 'dir = "../runs/slurm"')
    if nodes > 1:
        text += f'nodes = {nodes}\nmaster_addr = "127.0.0.1"\nshared_storage = true\n'
    job = proj / "jobs" / f"slurm{nodes}.toml"
    job.write_text(text)
    return job


def _render(proj: Path, job: Path) -> Path:
    script = proj / f"{job.stem}.sbatch"
    proc = swiftctl_subprocess("train", str(job), "--slurm", "--write", str(script))
    assert proc.returncode == 0, proc.stderr
    return script


def _wait(what, timeout: float, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what.__doc__ or what}")


def _manifest(run: Path) -> dict:
    return json.loads((run / "swiftctl-manifest.json").read_text())


def _node_clean(slurm: LocalSlurm) -> bool:
    """No job step left on the node (no slurmstepd) and the node idle, not completing."""
    steps = subprocess.run(["pgrep", "-f", "slurmstepd"], capture_output=True, text=True, check=False).stdout.strip()
    node = slurm.run("scontrol", "show", "node", check=False).stdout
    return not steps and "State=IDLE" in node and "COMPLETING" not in node


def _wait_state(slurm: LocalSlurm, job_id: str, restarts: int, timeout: float = 600) -> dict[str, str]:
    def done() -> dict[str, str] | None:
        """the job to finish its run number `restarts`"""
        state = slurm.job_state(job_id)
        if state.get("JobState") == "PENDING" and state.get("Restarts") == str(restarts) and _node_clean(slurm):
            # Slurm holds a requeued job back ~2 min; start it now, but only once the node has finished killing the
            # previous incarnation (else slurmd refuses the launch: "Job N already killed, do not launch batch job")
            slurm.run("scontrol", "update", f"jobid={job_id}", "StartTime=now", check=False)
        if state.get("JobState") in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT") and \
                state.get("Restarts") == str(restarts):
            return state
        return None
    return _wait(done, timeout)


def test_sbatch_runs_swiftctl_on_the_node_and_requeues_resume(slurm, tmp_path):
    proj = copy_project(tmp_path / "proj")
    script = _render(proj, _demo_job(proj, max_steps=12))
    text = script.read_text()
    assert str(proj) not in text and "/work/" not in text
    assert "#SBATCH --signal=B:USR1@" in text and "#SBATCH --requeue" in text and '--node-rank "$SLURM_NODEID"' in text
    started = time.monotonic()
    job_id = slurm.run("sbatch", "--parsable", script.name, "--skip-doctor", cwd=proj, env=SUBMIT_ENV).stdout.strip()
    out = proj / "runs" / "slurm"

    def checkpoint_2() -> bool:
        """checkpoint-2 of the first run"""
        return any((c / "adapter_model.safetensors").is_file() and (c / "trainer_state.json").is_file()
                   for c in out.glob("v0-*/checkpoint-2"))
    _wait(checkpoint_2, 300)
    slurm.run("scancel", "--signal=USR1", "--batch", job_id)  # what Slurm sends ahead of the time limit
    state = _wait_state(slurm, job_id, restarts=1)
    assert state["JobState"] == "COMPLETED", (state, (proj / f"slurm1-{job_id}.out").read_text()[-3000:])
    first, second = sorted(out.glob("v*-*"), key=lambda p: int(p.name[1:].split("-")[0]))
    m1, m2 = _manifest(first), _manifest(second)
    assert m1["status"] == "interrupted" and m1["stopped_by"].startswith("SIGUSR1"), m1
    assert m2["status"] == "succeeded" and m2["resumed_from"].startswith(f"{first}/checkpoint-"), m2
    assert (second / "checkpoint-12").is_dir()
    log = (proj / f"slurm1-{job_id}.out").read_text()
    assert "requeueing job" in log
    print(f"sbatch run + USR1 + self-requeue + resumed run: {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    slurm.run("scontrol", "requeue", job_id)
    state = _wait_state(slurm, job_id, restarts=2)
    assert state["JobState"] == "COMPLETED", state
    third = sorted(out.glob("v*-*"), key=lambda p: int(p.name[1:].split("-")[0]))[-1]
    assert _manifest(third)["resumed_from"] == f"{second}/checkpoint-12"
    print(f"scontrol requeue → resumed from the last checkpoint: {time.monotonic() - started:.1f} s")


def test_allocation_with_fewer_nodes_than_the_job_is_refused_before_starting(slurm, tmp_path):
    proj = copy_project(tmp_path / "proj")
    script = _render(proj, _demo_job(proj, max_steps=2, nodes=2))
    proc = slurm.run("sbatch", "--wait", "--nodes=1", script.name, cwd=proj, env=SUBMIT_ENV, check=False)
    assert proc.returncode != 0
    job_id = proc.stdout.split()[-1]
    log = (proj / f"slurm2-{job_id}.out").read_text()
    assert "swiftctl: this job needs 2 nodes but the allocation has 1: submit with --nodes=2" in log
    assert not (proj / "runs").exists()
