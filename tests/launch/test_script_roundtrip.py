"""Any string in any text field reaches `swift sft` exactly: the written script is run by real bash with a printer
substituted for swift, and the printed argv + env must equal the compiled plan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import LoadedJob
from swiftctl.jobs.schema import Job
from swiftctl.jobs.swift_args import bundled
from swiftctl.launch.script import render_script, render_slurm

PRINTER = [sys.executable, "-c",
           "import json, os, sys; print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))"]
# argv and environment values cannot hold NUL; everything else must survive
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)
PLAIN = TEXT.filter(lambda s: not s.startswith("-"))
NASTY = ["it's \"quoted\"", "$HOME `id` $(id) ${X:-y}", "line1\nline2\r\n", "你是一个名为沐雪的可爱AI女孩子", "-- --x", "\\", " "]


def _job(system: str, model: str, data: str, project: str, exp: str, env_value: str, extra: str,
         other: str = "x") -> LoadedJob:
    job = Job.model_validate({
        "model": {"path": model, "model_type": other, "template": other},
        "data": {"train": [data], "val": [data], "system": system}, "output": {"dir": f"/tmp/{other}"},
        "tracking": {"backend": "swanlab", "project": project, "exp_name": exp, "workspace": other},
        "resources": {"gpus_per_node": 2, "env": {"MY_VAR": env_value}},
        "extra_args": ["--ddp_backend", extra]})
    return LoadedJob(job=job, path=Path("/tmp/job.toml"))


def _run(script: str, env_extra: dict[str, str] | None = None) -> dict:
    proc = subprocess.run(["bash", "-c", script, "job"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **(env_extra or {})})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(system=TEXT | st.sampled_from(NASTY), model=TEXT, data=PLAIN | st.sampled_from(NASTY[:4]), project=TEXT,
       exp=TEXT | st.sampled_from(NASTY), env_value=TEXT | st.sampled_from(NASTY), extra=PLAIN, other=TEXT)
def test_written_script_round_trips_through_bash(system, model, data, project, exp, env_value, extra, other):
    plan = compile_plan(_job(system, model, data, project, exp, env_value, extra, other), bundled(4), extra_env={})
    printed = _run(render_script(plan, program=PRINTER))
    assert printed["argv"] == plan.argv[1:]
    for name, value in plan.env.items():
        assert printed["env"][name] == value


def test_slurm_step_round_trips_and_takes_rank_from_slurm():
    loaded = _job(NASTY[1], "m", NASTY[2], "p", NASTY[0], NASTY[3], "x")
    loaded.job.resources.nodes = 2
    plan = compile_plan(loaded, bundled(4), extra_env={}, slurm=True)
    script = render_slurm(plan, program=PRINTER)
    # stand-ins for Slurm's commands: srun runs the step once, scontrol lists two hosts
    fake = ("srun() { while [[ $1 == --* ]]; do shift; done; \"$@\"; }\n"
            "scontrol() { printf 'gpu-a\\ngpu-b\\n'; }\n")
    printed = _run(script.replace("set -euo pipefail\n", "set -euo pipefail\n" + fake),
                   {"SLURM_JOB_NODELIST": "gpu-[a-b]", "SLURM_NNODES": "2", "SLURM_NODEID": "1"})
    assert printed["argv"] == plan.argv[1:]
    assert (printed["env"]["NODE_RANK"], printed["env"]["MASTER_ADDR"], printed["env"]["NNODES"]) == ("1", "gpu-a", "2")
    assert printed["env"]["MY_VAR"] == NASTY[3]
