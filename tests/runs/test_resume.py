"""`--resume last|auto`: which checkpoint, a fresh start when there is none (auto), and a changed job refused.

The run dirs are laid out as ms-swift writes them (args.json, checkpoint-N with weights + trainer_state.json); the
real resume of a real run is covered by tests/launch/test_train_real.py and the Slurm requeue test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.swift_args import bundled
from swiftctl.runs.resume import check_output_dir
from tests.conftest import REPO


def _plan(tmp_path: Path, *, tuner: str = "lora"):
    text = (REPO / "jobs" / "demo.toml").read_text().replace("../", f"{REPO}/").replace(
        'dir = "' + f"{REPO}/demo-runs/demo" + '"', 'dir = "out"')
    if tuner == "full":
        text = text.replace('type = "lora"\nlora_rank = 8\nlora_alpha = 32', 'type = "full"')
    (tmp_path / "job.toml").write_text(text)
    return compile_plan(load_job(tmp_path / "job.toml"), bundled(4), extra_env={})


def _run(out: Path, name: str, steps: list[int], args: dict) -> Path:
    run = out / name
    run.mkdir(parents=True)
    (run / "args.json").write_text(json.dumps(args))
    for step in steps:
        ckpt = run / f"checkpoint-{step}"
        ckpt.mkdir()
        (ckpt / "adapter_model.safetensors").write_bytes(b"x")
        (ckpt / "trainer_state.json").write_text("{}")
    return run


def test_auto_starts_fresh_without_a_checkpoint_and_resumes_the_last_one(tmp_path):
    plan = _plan(tmp_path)
    assert check_output_dir(plan, "auto") is None  # nothing there: a fresh run
    model = plan.argv[plan.argv.index("--model") + 1]
    _run(tmp_path / "out", "v0-20260101-000000", [], {"model": model, "tuner_type": "lora"})
    assert check_output_dir(plan, "auto") is None  # a run without checkpoints: fresh again, beside it
    with pytest.raises(SwiftctlError, match="nothing to resume"):
        check_output_dir(plan, "last")
    run = _run(tmp_path / "out", "v1-20260101-000100", [2, 4], {"model": model, "tuner_type": "lora"})
    assert check_output_dir(plan, "auto") == run / "checkpoint-4"
    with pytest.raises(SwiftctlError, match="not empty"):
        check_output_dir(plan, "no")


def test_a_checkpoint_of_a_changed_job_is_refused_with_the_difference(tmp_path):
    plan = _plan(tmp_path, tuner="full")
    model = plan.argv[plan.argv.index("--model") + 1]
    run = _run(tmp_path / "out", "v0-20260101-000000", [2], {"model": "Qwen/Qwen2.5-7B-Instruct", "tuner_type": "lora"})
    with pytest.raises(SwiftctlError) as info:
        check_output_dir(plan, "auto")
    assert info.value.message == (
        f"cannot resume from {run}/checkpoint-2: it comes from a different job (model: Qwen/Qwen2.5-7B-Instruct in the "
        f"checkpoint, {model} in the job; tuner.type: lora in the checkpoint, full in the job)")
