"""Preference/RL stages: goldens for every stage, the `swift rlhf` argument list, from_run, and the bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftctl.errors import ErrorGroup
from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.swift_args import ArgList, bundled, bundled_rlhf, installed_swift, read_installed_rlhf
from swiftctl.launch.script import render_script
from tests.jobs.test_golden import REPO, _check

STAGES = ["dpo", "kto", "orpo", "simpo", "cpo"]


def _job(tmp_path: Path, text: str, name: str = "job.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _demo_dpo(tmp_path: Path, stage: str = "dpo", extra: str = "", rlhf: str = 'beta = 0.1\nloss_type = ["sigmoid"]\n'):
    text = (REPO / "jobs" / "demo-dpo.toml").read_text(encoding="utf-8")
    text = text.replace('stage = "dpo"', f'stage = "{stage}"').replace('beta = 0.1\nloss_type = ["sigmoid"]\n', rlhf)
    text = text.replace('path = "../.fixtures/tiny-qwen2"', f'path = "{REPO}/.fixtures/tiny-qwen2"')
    text = text.replace('train = ["data/', f'train = ["{REPO}/jobs/data/').replace('dir = "../demo-runs/demo-dpo"',
                                                                               'dir = "out"')
    return load_job(_job(tmp_path, text + extra))


@pytest.mark.parametrize("stage", STAGES)
def test_every_preference_stage_matches_golden(tmp_path, stage):
    loaded = _demo_dpo(tmp_path, stage, rlhf="beta = 0.1\n")
    plan = compile_plan(loaded, bundled(4), extra_env={})
    assert plan.argv[:4] == ["swift", "rlhf", "--rlhf_type", stage]
    _check(f"stage-{stage}.sh", render_script(plan, source=f"stage {stage}").replace(str(tmp_path), "$TMP"))


def test_sft_jobs_still_compile_to_swift_sft():
    plan = compile_plan(load_job(REPO / "jobs" / "demo.toml"), bundled(4), extra_env={})
    assert plan.argv[:2] == ["swift", "sft"] and "--rlhf_type" not in plan.argv


def test_bundled_rlhf_list_is_the_installed_one():
    found = installed_swift()
    if found is None:
        pytest.skip("ms-swift not installed")
    listed, types = bundled_rlhf(4)
    assert read_installed_rlhf(found[1], found[0]).names == listed.names
    assert {"dpo", "kto", "orpo", "simpo", "cpo", "grpo"} <= set(types)
    assert {"rlhf_type", "beta", "ref_adapters", "num_generations", "reward_funcs"} <= listed.names
    assert "rlhf_type" not in bundled(4).names  # `swift sft` would reject it


def test_grpo_with_the_persona_reward_sets_plugin_and_env():
    plan = compile_plan(load_job(REPO / "jobs" / "demo-grpo.toml"), bundled(4), extra_env={})
    plugin = plan.argv[plan.argv.index("--external_plugins") + 1]
    assert plugin.endswith("swiftctl/resources/plugins/persona_reward.py") and Path(plugin).is_file()
    assert plan.argv[plan.argv.index("--reward_funcs") + 1:][:2] == ["swiftctl_persona", "format"]
    assert plan.env == {"SWIFTCTL_PERSONA_NAME": "沐雪", "SWIFTCTL_PERSONA_REFERENCE": "solution"}


def _fake_run(root: Path, kind: str) -> Path:
    run = root / "sft" / "v0-20260101-000000"
    ckpt = run / "checkpoint-4"
    ckpt.mkdir(parents=True)
    (run / "args.json").write_text("{}", encoding="utf-8")
    (ckpt / "trainer_state.json").write_text(json.dumps({"best_model_checkpoint": str(ckpt)}), encoding="utf-8")
    (ckpt / ("adapter_model.safetensors" if kind == "lora" else "model.safetensors")).write_bytes(b"x")
    return ckpt


@pytest.mark.parametrize("stage", ["dpo", "orpo"])
def test_from_a_lora_run_stacks_the_adapter(tmp_path, stage):
    ckpt = _fake_run(tmp_path, "lora")
    argv = compile_plan(_with_from_run(tmp_path, stage), bundled(4), extra_env={}).argv
    assert argv[argv.index("--adapters") + 1] == str(ckpt)
    assert ("--ref_adapters" in argv) == (stage == "dpo")  # orpo has no reference model
    assert argv[argv.index("--model") + 1].endswith("tiny-qwen2")  # the base stays the model


def _with_from_run(tmp_path: Path, stage: str, tuner: str = "lora"):
    loaded = _demo_dpo(tmp_path, stage, rlhf="")
    text = loaded.path.read_text(encoding="utf-8").replace("[model]\n", "[model]\nfrom_run = \"sft\"\n")
    if tuner == "full":
        text = text.replace('type = "lora"\nlora_rank = 8\nlora_alpha = 32', 'type = "full"')
    return load_job(_job(tmp_path, text, "from_run.toml"))


def test_from_a_full_run_uses_the_checkpoint_as_model(tmp_path):
    ckpt = _fake_run(tmp_path, "full")
    argv = compile_plan(_with_from_run(tmp_path, "dpo", "full"), bundled(4), extra_env={}).argv
    assert argv[argv.index("--model") + 1] == str(ckpt) and "--adapters" not in argv


def _errors(loaded, args: ArgList | None = None) -> list[str]:
    with pytest.raises(ErrorGroup) as exc:
        compile_plan(loaded, args or bundled(4), extra_env={})
    return [f"{e.location}: {e.message} | {e.hint}" for e in exc.value.errors]


def test_full_stage_from_a_lora_run_is_refused(tmp_path):
    _fake_run(tmp_path, "lora")
    (msg,) = _errors(_with_from_run(tmp_path, "dpo", "full"))
    assert "(model.from_run)" in msg and "merge_lora" in msg


def test_unregistered_reward_lists_the_registered_ones(tmp_path):
    text = (REPO / "jobs" / "demo-grpo.toml").read_text(encoding="utf-8").replace('"format"]', '"persona"]')
    (msg,) = _errors(load_job(_job(tmp_path, text.replace("../", f"{REPO}/"))))
    assert "'persona' is not registered" in msg and "(rlhf.reward_funcs.1)" in msg
    assert "accuracy, cosine, format" in msg and "swiftctl_persona" in msg


def test_vllm_on_cpu_is_refused_unless_the_job_allows_the_fallback(tmp_path):
    text = (REPO / "jobs" / "demo-grpo.toml").read_text(encoding="utf-8").replace("../", f"{REPO}/")
    vllm = text.replace("temperature = 1.0\n", "temperature = 1.0\nuse_vllm = true\nvllm_mode = \"colocate\"\n")
    (msg,) = _errors(load_job(_job(tmp_path, vllm)))
    assert "(rlhf.use_vllm)" in msg and "needs a GPU" in msg and "vllm_fallback = true" in msg
    ok = load_job(_job(tmp_path, vllm.replace("use_vllm = true", "use_vllm = true\nvllm_fallback = true")))
    assert "--use_vllm" not in compile_plan(ok, bundled(4), extra_env={}).argv


def test_stage_bad_inputs(tmp_path):
    msgs = _errors(_demo_dpo(tmp_path, "dpo", rlhf="num_generations = 4\nref_model = \"x\"\n"))
    assert any("(rlhf.num_generations)" in m and "GRPO setting" in m for m in msgs)
    assert any("(rlhf.ref_model)" in m and "LoRA" in m for m in msgs)
    sft = _demo_dpo(tmp_path, "sft")
    assert any("(rlhf)" in m for m in _errors(sft))
    grpo = _demo_dpo(tmp_path, "grpo", rlhf="num_generations = 3\nreward_funcs = [\"format\"]\n")
    assert any("not a multiple of num_generations 3" in m for m in _errors(grpo))


def test_a_stage_the_installed_version_lacks_says_which_version_adds_it(tmp_path):
    old = ArgList("4.0.0", "bundled:4.x.txt", bundled(4).names)
    import swiftctl.jobs.stages as stages

    listed, _types = bundled_rlhf(4)
    real = stages.rlhf_for
    stages.rlhf_for = lambda args: (listed, ("dpo", "orpo", "simpo", "kto", "cpo"))
    try:
        (msg,) = _errors(_demo_dpo(tmp_path, "grpo", rlhf="num_generations = 2\nreward_funcs = [\"format\"]\n"), old)
    finally:
        stages.rlhf_for = real
    assert "(stage)" in msg and "--rlhf_type grpo" in msg and "ms-swift >= 3.1" in msg


def test_3x_target_refuses_a_stage(tmp_path):
    loaded = _demo_dpo(tmp_path, "dpo")
    loaded.job.swift_version = "3"
    msgs = _errors(loaded, bundled(3))
    assert any("ms-swift 4.x only" in m for m in msgs)


def test_muice_stage_jobs_lint_cleanly_except_missing_paths():
    from swiftctl.jobs.lint import lint_job

    for name in ("muice-dpo", "muice-grpo"):
        report = lint_job(load_job(REPO / "jobs" / f"{name}.toml"), bundled(4))
        codes = {i.code for i in report.issues} - {"tracking.no-key"}
        assert codes == {"path.model", "path.dataset", "path.from-run"}, report.issues


def test_dry_run_and_slurm_render_swift_rlhf(cli):
    dry = cli("train", str(REPO / "jobs" / "demo-dpo.toml"), "--dry-run")
    assert dry.exit_code == 0 and "exec swift rlhf \\\n  --rlhf_type dpo \\\n" in dry.stdout
    grpo = cli("train", str(REPO / "jobs" / "muice-grpo.toml"), "--dry-run")
    assert grpo.exit_code == 0, grpo.stdout
    assert "--rlhf_type grpo" in grpo.stdout and "export SWIFTCTL_PERSONA_NAME='沐雪'" in grpo.stdout
    assert "--use_vllm true" in grpo.stdout and "--vllm_mode colocate" in grpo.stdout
    # The sbatch script runs `swiftctl train` on each node, which compiles the same stage there.
    slurm = cli("train", str(REPO / "jobs" / "muice-grpo.toml"), "--slurm")
    assert slurm.exit_code == 0, slurm.stdout
    assert "srun" in slurm.stdout and "muice-grpo.toml" in slurm.stdout and "--node-rank" in slurm.stdout
