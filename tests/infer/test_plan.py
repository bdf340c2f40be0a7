"""argv/env builders and target resolution (pure: no engine starts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.infer import plan as p
from swiftctl.infer.target import resolve_target


@pytest.fixture
def model_dir(tmp_path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    (d / "config.json").write_text("{}")
    return d


@pytest.fixture
def lora_run(tmp_path, model_dir):
    """A run dir shaped like ms-swift's: args.json with the training system prompt, a LoRA checkpoint of rank r."""
    def make(rank: int = 8, system: str | None = "你是一个名为沐雪的可爱AI女孩子") -> Path:
        run = tmp_path / "out" / "v0-20250101-000000"
        ckpt = run / "checkpoint-4"
        ckpt.mkdir(parents=True)
        args = {"model": str(model_dir), "model_type": "qwen2", "template": "qwen2_5", "system": system}
        (run / "args.json").write_text(json.dumps(args))
        (ckpt / "args.json").write_text(json.dumps(args))
        (ckpt / "adapter_config.json").write_text(json.dumps({"r": rank, "rank_pattern": {}}))
        (ckpt / "adapter_model.safetensors").write_bytes(b"x")
        (ckpt / "trainer_state.json").write_text("{}")
        return run.parent
    return make


def test_system_and_template_restored_from_args_json(lora_run, model_dir):
    t = resolve_target(lora_run())
    assert (t.model, t.template, t.model_type, t.system_source) == (str(model_dir), "qwen2_5", "qwen2", "args.json")
    assert t.system == "你是一个名为沐雪的可爱AI女孩子"
    assert resolve_target(t.run_dir, system="你是沐雪").system == "你是沐雪"


def test_vllm_cpu_argv_and_env(lora_run, monkeypatch, model_dir):
    monkeypatch.setattr(p, "vllm_is_cpu_build", lambda: True)
    monkeypatch.setattr(p, "require_vllm", lambda: None)
    t = resolve_target(lora_run())
    plan = p.infer_plan(t, p.Settings(max_new_tokens=16), val=Path("/v.jsonl"), result_path=Path("/tmp/r.jsonl"),
                        base_env={"PATH": "/bin"})
    assert plan.argv[1:] == [
        "infer", "--adapters", str(t.adapters), "--model", str(model_dir), "--model_type", "qwen2",
        "--template", "qwen2_5", "--system", "你是一个名为沐雪的可爱AI女孩子", "--infer_backend", "vllm",
        "--vllm_gpu_memory_utilization", "0.3", "--vllm_max_model_len", "512", "--vllm_enforce_eager", "true",
        "--torch_dtype", "float32", "--vllm_max_lora_rank", "16", "--max_new_tokens", "16", "--temperature", "0.0",
        "--val_dataset", "/v.jsonl", "--stream", "false", "--result_path", "/tmp/r.jsonl"]
    assert plan.env["VLLM_PLUGINS"] == "none" and plan.env["PATH"] == "/bin"
    assert plan.notes == []


def test_lora_rank_above_vllm_default_raises_the_limit_and_says_so(lora_run, monkeypatch):
    monkeypatch.setattr(p, "require_vllm", lambda: None)
    t = resolve_target(lora_run(rank=48))
    args, notes = p.lora_rank_args(t)
    assert args == ["--vllm_max_lora_rank", "64"]
    assert notes == ["LoRA rank 48 is above vLLM's default limit of 16: raising --vllm_max_lora_rank to 64"]


def test_lora_rank_beyond_vllm_support_says_merge_first(tmp_path, lora_run):
    t = resolve_target(lora_run(rank=1024))
    with pytest.raises(SwiftctlError) as info:
        p.lora_rank_args(t)
    assert info.value.message == "LoRA rank 1024 is above the largest rank vLLM supports (512)"
    assert info.value.hint.startswith(f"merge it first: swift export --adapters {t.adapters} --merge_lora true")


def test_api_key_goes_to_env_never_argv(lora_run, monkeypatch):
    monkeypatch.setattr(p, "vllm_is_cpu_build", lambda: True)
    monkeypatch.setattr(p, "require_vllm", lambda: None)
    t = resolve_target(lora_run())
    plan = p.deploy_plan(t, p.Settings(), host="127.0.0.1", port=8123, api_key="sk-secret", base_env={})
    assert not any("sk-secret" in a for a in plan.argv)
    assert plan.argv[1:] == ["-m", "swift.cli.deploy"]
    args = json.loads(plan.env["RAY_SWIFT_ARGS"])
    assert args[-2:] == ["--api_key", "sk-secret"] and "--system" in args and args[
        args.index("--host"):args.index("--host") + 2] == ["--host", "127.0.0.1"]
    no_key = p.deploy_plan(t, p.Settings(), host="127.0.0.1", port=8123, base_env={})
    assert no_key.argv[1] == "deploy" and "RAY_SWIFT_ARGS" not in no_key.env


def test_no_system_prompt_is_said_plainly(lora_run, monkeypatch):
    monkeypatch.setattr(p, "require_vllm", lambda: None)
    t = resolve_target(lora_run(system=None))
    plan = p.infer_plan(t, p.Settings(backend="transformers"), val=None, result_path=None, base_env={})
    assert "--system" not in plan.argv
    assert plan.notes[0].startswith("no system prompt in the run's args.json and no --system")


def test_checkpoint_from_a_different_base_model(lora_run, tmp_path):
    run = lora_run()
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text("{}")
    ckpt = next(run.glob("v0-*/checkpoint-4"))
    with pytest.raises(SwiftctlError) as info:
        resolve_target(adapters=ckpt, model=str(other))
    assert info.value.message == f"checkpoint checkpoint-4 was trained on base model {tmp_path / 'base'}, not {other}"


def test_job_file_stands_for_its_output_dir(lora_run, tmp_path):
    out = lora_run()
    job = tmp_path / "jobs" / "job.toml"
    job.parent.mkdir()
    job.write_text((Path(__file__).resolve().parents[2] / "jobs" / "demo.toml").read_text())
    (tmp_path / "demo-runs").mkdir()
    out.rename(tmp_path / "demo-runs" / "demo")  # demo.toml: dir = "../demo-runs/demo", relative to the job file
    t = resolve_target(job)
    assert t.adapters == tmp_path / "demo-runs" / "demo" / "v0-20250101-000000" / "checkpoint-4"


def test_merge_reuses_a_complete_merged_model_and_keeps_the_persona(lora_run):
    from swiftctl.infer.merge import export_argv, merge_adapter, merged_dir

    t = resolve_target(lora_run())
    assert export_argv(t, Path("/o"))[1:] == ["export", "--adapters", str(t.adapters), "--model", t.model,
                                               "--merge_lora", "true", "--output_dir", "/o", "--model_type", "qwen2"]
    dest = merged_dir(t.adapters)
    dest.mkdir()
    with pytest.raises(SwiftctlError, match="exists but holds no model"):
        merge_adapter(t)
    (dest / "config.json").write_text("{}")
    merged, note = merge_adapter(t)
    assert note == f"using the merged model already at {dest}"
    assert (merged.model, merged.adapters, merged.system, merged.template) == (
        str(dest), None, "你是一个名为沐雪的可爱AI女孩子", "qwen2_5")
    argv = p.model_args(merged)
    assert argv == ["--model", str(dest), "--model_type", "qwen2", "--template", "qwen2_5",
                    "--system", "你是一个名为沐雪的可爱AI女孩子"]


def test_baseline_is_the_base_model_with_the_same_persona(lora_run, model_dir):
    t = resolve_target(lora_run()).base()
    assert p.model_args(t) == ["--model", str(model_dir), "--model_type", "qwen2", "--template", "qwen2_5",
                               "--system", "你是一个名为沐雪的可爱AI女孩子"]
