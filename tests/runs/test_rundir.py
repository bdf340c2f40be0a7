"""resolve_run on synthetic run dirs (fast) and on a real ms-swift run (stack)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.runs.rundir import resolve_run


def _ckpt(run: Path, step: int, *, weights: str = "adapter_model.safetensors", state: bool = True) -> Path:
    ckpt = run / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / weights).write_bytes(b"x")
    if state:
        (ckpt / "trainer_state.json").write_text(json.dumps({"best_model_checkpoint": None}))
    return ckpt


def _run(out: Path, name: str, *, best: str | None = None) -> Path:
    run = out / name
    run.mkdir(parents=True)
    (run / "args.json").write_text(json.dumps({"model": "/m", "system": "S", "template": "qwen2_5"}))
    lines = [{"loss": 1.0, "global_step/max_steps": "1/2"}]
    if best:
        lines.append({"last_model_checkpoint": "/elsewhere/x", "best_model_checkpoint": f"/moved/away/{best}"})
    (run / "logging.jsonl").write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    return run


def test_output_dir_picks_newest_version_and_sorts_checkpoints_by_step(tmp_path):
    _run(tmp_path, "v0-20250101-000000")
    new = _run(tmp_path, "v10-20250102-000000", best="checkpoint-10")
    _run(tmp_path, "v9-20250101-120000")
    for step in (100, 10, 20):
        _ckpt(new, step)
    run = resolve_run(tmp_path)
    assert run.path == new.resolve()
    assert [c.step for c in run.checkpoints] == [10, 20, 100]
    assert run.last_checkpoint.step == 100
    # best comes from logging.jsonl's summary even though the recorded path points elsewhere (the dir moved)
    assert run.best_checkpoint.step == 10
    assert run.checkpoint().step == 10
    assert run.checkpoint("last").step == 100
    assert run.args["system"] == "S"
    assert run.manifest_path == new.resolve() / "swiftctl-manifest.json"
    assert run.logging_path == new.resolve() / "logging.jsonl"


def test_incomplete_checkpoint_is_listed_but_never_chosen(tmp_path):
    run_dir = _run(tmp_path, "v0-20250101-000000")
    _ckpt(run_dir, 2, weights="model.safetensors")
    _ckpt(run_dir, 4, state=False)  # killed while saving
    run = resolve_run(run_dir)
    assert [(c.step, c.kind, c.complete) for c in run.checkpoints] == [(2, "full", True), (4, "lora", False)]
    assert run.best_checkpoint is None
    assert run.checkpoint().step == 2
    with pytest.raises(SwiftctlError, match="incomplete"):
        resolve_run(run_dir / "checkpoint-4").checkpoint()


def test_checkpoint_dir_is_the_requested_one(tmp_path):
    run_dir = _run(tmp_path, "v0-20250101-000000", best="checkpoint-4")
    _ckpt(run_dir, 2)
    _ckpt(run_dir, 4)
    run = resolve_run(run_dir / "checkpoint-2")
    assert run.path == run_dir.resolve()
    assert run.checkpoint().step == 2


def test_no_checkpoint_is_a_clear_error(tmp_path):
    run_dir = _run(tmp_path, "v0-20250101-000000")
    run = resolve_run(tmp_path)
    assert run.last_checkpoint is None
    with pytest.raises(SwiftctlError) as info:
        run.checkpoint()
    assert info.value.message == f"no complete checkpoint in {run_dir.resolve()} (checkpoint dirs: none)"


@pytest.mark.parametrize("make", ["empty", "file", "missing"])
def test_not_a_run_dir(tmp_path, make):
    target = tmp_path / "x"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("")
    with pytest.raises(SwiftctlError) as info:
        resolve_run(target)
    expected = {"empty": "is not an ms-swift run dir (no args.json and no vN-YYYYmmdd-HHMMSS/ run in it)",
                "file": "is not a directory", "missing": "does not exist"}[make]
    assert info.value.message == f"{target} {expected}"


@pytest.mark.stack
@pytest.mark.slow
def test_real_ms_swift_run(trained_lora_run):
    run = resolve_run(trained_lora_run.parent)
    assert run.path == trained_lora_run.resolve()
    assert [c.step for c in run.checkpoints] == [2, 4]
    assert all(c.kind == "lora" and c.complete for c in run.checkpoints)
    assert run.best_checkpoint is not None
    assert run.args["system"] == "你是一个名为沐雪的可爱AI女孩子"
    assert run.args["template"] == "qwen2_5"
