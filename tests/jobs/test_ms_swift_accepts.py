"""Every argv `swiftctl train --dry-run` compiles is accepted by ms-swift's own argument classes.

For the jobs in jobs/ and for hypothesis-generated jobs: compile_plan (what `train --dry-run` prints), then
SftArguments / RLHFArguments built by ms-swift's parser from that argv, ``__post_init__`` included, with the env the
plan sets (see tests/jobs/msswift.py for the only rewrites: model -> .fixtures/tiny-qwen2, datasets -> a local tiny
jsonl, output_dir -> tmp, and the rank-0 torchrun variables).

A parse of the argv as compiled may stop only at a CPU-only limit of this machine (no GPU: bf16; no deepspeed; no
liger-kernel), asserted by its exact message; the GPU stand-in parse then goes past it (msswift.SwiftParser.stand_in).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.swift_args import bundled
from tests.conftest import REPO
from tests.jobs.msswift import SwiftParser, base_job, cpu_only_reason, localize, write_job

pytestmark = pytest.mark.stack

JOB_FILES = sorted((REPO / "jobs").glob("*.toml")) + sorted((REPO / "tests" / "jobs" / "data").glob("*.toml"))


@pytest.fixture(scope="module")
def swift(tmp_path_factory):
    parser = SwiftParser(tmp_path_factory.mktemp("swift-args"))
    yield parser
    parser.close()


def accepted(swift: SwiftParser, plan) -> tuple[object, list[str]]:
    """Parse the plan's argv; returns the stand-in's arguments and the CPU-only limits met on the way."""
    argv = localize(plan.argv, swift.tmp)
    limits = []
    try:
        args = swift.parse(argv, plan.env)
    except Exception as exc:
        reason = cpu_only_reason(exc)
        assert reason is not None, f"ms-swift rejects {argv}: {type(exc).__name__}: {exc}"
        limits.append(reason)
        args, stopped = swift.stand_in(argv, plan.env)
        if stopped is not None:
            limits.append("deepspeed-config-needs-deepspeed")
    assert limits == expected_limits(argv), (argv, limits)
    return args, limits


def expected_limits(argv: list[str]) -> list[str]:
    """The CPU-only stops, in ms-swift's order: _init_deepspeed comes before the training arguments, whose
    TrainArgumentsMixin (liger) runs before transformers' own checks (bf16)."""
    def value(name: str) -> str | None:
        return argv[argv.index(name) + 1] if name in argv else None

    if value("--deepspeed"):
        return ["deepspeed-not-installed", "deepspeed-config-needs-deepspeed"]
    if value("--use_liger_kernel") == "true":
        return ["liger-not-installed"]
    if value("--torch_dtype") == "bfloat16" and value("--use_cpu") != "true":
        return ["bf16-needs-gpu"]
    return []


@pytest.mark.parametrize("path", JOB_FILES, ids=lambda p: p.name)
def test_job_files_parse(swift, path: Path):
    plan = compile_plan(load_job(path), bundled(4), extra_env={}, slurm=True)
    args, limits = accepted(swift, plan)
    cls = type(args).__name__
    assert cls == ("SftArguments" if plan.argv[1] == "sft" else "RLHFArguments")
    if plan.argv[1] == "rlhf":
        assert args.rlhf_type == plan.argv[plan.argv.index("--rlhf_type") + 1]
    if "--deepspeed" not in plan.argv:
        assert "deepspeed-not-installed" not in limits
    world = plan.nproc_per_node * plan.nnodes if plan.env.get("NPROC_PER_NODE") else 1
    assert args.global_world_size == world


# ---- generated jobs -----------------------------------------------------------------------------------------------
# Jobs drawn from every key the schema accepts. swiftctl's verdict (compile + `job check --offline` errors) decides
# what ms-swift must do: no error -> its argument classes accept the argv (past the CPU-only stops); an error of a
# start-up rule ms-swift shares (startup_rules.SOURCES) -> ms-swift raises too. Any other error is the generator's.

def _pick(draw, values):
    return draw(st.sampled_from(values))


@st.composite
def jobs(draw, tmp: Path) -> dict:
    job = base_job(tmp)
    stage = draw(st.sampled_from(["sft", "sft", "sft", "dpo", "kto", "orpo", "simpo", "cpo", "grpo"]))
    if stage != "sft":
        job["stage"] = stage
    m, d = job["model"], job["data"]
    if draw(st.booleans()):
        job["model"] = m = {"path": "Qwen/Qwen2.5-0.5B-Instruct"}  # a hub id: ms-swift derives type and template
    else:
        m["template"] = _pick(draw, ["qwen2_5", "qwen"])
    for key, values in (("torch_dtype", [None, "bfloat16", "float16", "float32"]),
                        ("attn_impl", [None, "sdpa", "eager", "flash_attn", "flash_attention_2"])):
        value = _pick(draw, values)
        m.pop(key, None) if value is None else m.__setitem__(key, value)
    if stage == "sft" and draw(st.booleans()):
        d["val"] = [str(REPO / "jobs" / "data" / "muice-sample-val.jsonl")]
    for key, values in (("system", [None, "你是沐雪"]), ("max_length", [None, 256, 2048]),
                        ("truncation_strategy", [None, "delete", "left", "right"]), ("packing", [False, True]),
                        ("padding_free", [False, True]), ("num_workers", [None, 0, 2]), ("num_proc", [None, 1, 2]),
                        ("strict", [None, True, False])):
        value = _pick(draw, values)
        d.pop(key, None) if value is None else d.__setitem__(key, value)
    kind = _pick(draw, ["lora", "lora", "full", "qlora"])
    tuner: dict = {"type": kind}
    if kind != "full":
        tuner.update({k: v for k, v in (("lora_rank", _pick(draw, [None, 8, 64])), ("lora_alpha", _pick(draw, [None, 32])),
                                        ("lora_dropout", _pick(draw, [None, 0.05])),
                                        ("target_modules", _pick(draw, [None, ["all-linear"]])),
                                        ("quant_bits", _pick(draw, [None, 4, 8]))) if v is not None})
    job["tuner"] = tuner
    devices = _pick(draw, [("cpu", 0, 1), ("cuda", 1, 1), ("cuda", 2, 1), ("cuda", 8, 1), ("cuda", 8, 2), ("cpu", 0, 2)])
    job["resources"] = {"device": devices[0], "gpus_per_node": devices[1], "nodes": devices[2]}
    if devices[2] > 1:
        job["resources"]["master_addr"] = "node0"
    train = {"per_device_batch_size": _pick(draw, [1, 2, 4])}
    sharding = _pick(draw, [None, None, "zero0", "zero1", "zero2", "zero3", "zero2_offload", "zero3_offload", "fsdp2"])
    if sharding:
        train["fsdp" if sharding == "fsdp2" else "deepspeed"] = sharding
    for key, values in (("eval_batch_size", [None, 2]), ("gradient_accumulation_steps", [None, 1, 4]),
                        ("num_train_epochs", [None, 1, 2.5]), ("max_steps", [None, 10]),
                        ("learning_rate", [None, 1e-4, 5e-7]), ("warmup_ratio", [None, 0.05]),
                        ("weight_decay", [None, 0.0, 0.1]), ("gradient_checkpointing", [None, True, False]),
                        ("use_liger_kernel", [None, True, False]), ("logging_steps", [None, 5]),
                        ("eval_steps", [None, 10]), ("save_steps", [None, 10, 50]), ("save_total_limit", [None, 2]),
                        ("seed", [None, 7])):
        value = _pick(draw, values)
        if value is not None:
            train[key] = value
    job["train"] = train
    job["tracking"] = _pick(draw, [{"backend": "none"}, {"backend": "tensorboard"},
                                   {"backend": ["tensorboard", "swanlab"], "mode": "local", "project": "p"},
                                   {"backend": "wandb", "mode": "offline"}, {"backend": "mlflow", "project": "p"}])
    rlhf: dict = {}
    if stage == "dpo":
        rlhf["loss_type"] = _pick(draw, [["sigmoid"], ["sigmoid", "bco_pair"]])
    elif stage == "kto":
        rlhf["loss_type"] = _pick(draw, [["kto"], ["kto", "apo_zero_unpaired"]])
    if stage != "sft":
        rlhf["beta"] = _pick(draw, [0.1, 2.0])
        job["data"]["train"] = [str(REPO / "jobs" / "data" / ("muice-grpo-sample.jsonl" if stage == "grpo"
                                                               else "muice-dpo-sample.jsonl"))]
    if stage == "grpo":
        procs = max(devices[1], 1) * devices[2]
        batch = train["per_device_batch_size"] * procs * train.get("gradient_accumulation_steps", 1)
        if batch < 2:
            train["per_device_batch_size"] = batch = 2 * train.get("gradient_accumulation_steps", 1)
            batch *= procs
        rlhf.update(num_generations=_pick(draw, [g for g in (2, 4, 8) if batch % g == 0]),
                    reward_funcs=_pick(draw, [["format"], ["accuracy", "format"]]), max_completion_length=64,
                    temperature=_pick(draw, [0.9, 1.0]))
        if devices[0] == "cuda" and draw(st.booleans()):
            rlhf.update(use_vllm=True, vllm_mode="colocate")
    if rlhf:
        job["rlhf"] = rlhf
    return job


RAISED = {"packing.no-flash-attn": "requires a flash attention", "padding-free.no-flash-attn": "requires a flash attention",
          "startup.grpo-truncation": "GRPO requires `truncation_strategy", "startup.loss-types": "Multiple loss types",
          "startup.fsdp-deepspeed": "FSDP2 is not compatible with DeepSpeed", "startup.warmup-both": "warmup_steps",
          "gpus.device-map": "device_map", "startup.device-map-parallel": "device_map"}
GENERATED = {"parsed": 0, "rejected by both": 0, "cpu-only stops": 0}


@pytest.fixture(scope="module")
def generated_tmp(tmp_path_factory):
    path = tmp_path_factory.mktemp("generated")
    yield path
    print(f"\ngenerated jobs: {GENERATED}")


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_generated_jobs_parse(swift, generated_tmp, data):
    from swiftctl.jobs.lint import lint_job
    from swiftctl.jobs.startup_rules import SOURCES

    job = data.draw(jobs(generated_tmp))
    path = write_job(generated_tmp / "job.toml", job)
    loaded = load_job(path)
    errors = {i.code for i in lint_job(loaded, bundled(4), data=False, offline=True).errors}
    assert errors <= set(SOURCES), f"swiftctl refuses the generated job for its own reasons: {errors}\n{job}"
    plan = compile_plan(loaded, bundled(4), extra_env={}, slurm=True)
    if errors:
        argv = localize(plan.argv, swift.tmp)
        with pytest.raises((ValueError, AssertionError)) as exc:  # the stand-in: past the CPU-only stops
            swift.stand_in(argv, plan.env)
        assert cpu_only_reason(exc.value) is None, (errors, exc.value)
        assert any(RAISED[code] in str(exc.value) for code in errors), (errors, exc.value)
        GENERATED["rejected by both"] += 1
        return
    _, limits = accepted(swift, plan)
    GENERATED["parsed"] += 1
    GENERATED["cpu-only stops"] += bool(limits)
