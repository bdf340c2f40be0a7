"""Each start-up rule of `job check` / `job migrate` against ms-swift itself: the bad combination, compiled as
`train --dry-run` would, makes ms-swift's argument classes (or the library it hands over to) raise, and swiftctl
reports it with the rule's code before launch. A rule that drifted from ms-swift fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.lint import lint_job
from swiftctl.jobs.load import load_job
from swiftctl.jobs.migrate import migrate_command
from swiftctl.jobs.startup_rules import SOURCES
from swiftctl.jobs.swift_args import bundled
from tests.jobs.msswift import SwiftParser, base_job, localize, write_job

GPUS = {"device": "cuda", "gpus_per_node": 2}
# (id, job tables, the code job check gives, what ms-swift raises, parse options)
CASES = [
    ("fsdp+deepspeed-in-extra_args", {"train": {"fsdp": "fsdp2"}, "extra_args": ["--deepspeed", "zero2"]},
     "startup.fsdp-deepspeed", "FSDP2 is not compatible with DeepSpeed", {"skip_deepspeed_version": True}),
    ("warmup-ratio+steps", {"train": {"warmup_ratio": 0.1}, "extra_args": ["--warmup_steps", "10"]},
     "startup.warmup-both", "`warmup_ratio` and `warmup_steps` cannot be set at the same time", {}),
    ("kto-two-loss-types", {"stage": "kto", "rlhf": {"loss_type": ["kto", "apo_zero_unpaired"]}},
     "startup.loss-types", "Multiple loss types", {}),
    ("grpo-right-truncation", {"stage": "grpo", "data": {"truncation_strategy": "right"},
                               "rlhf": {"num_generations": 2, "reward_funcs": ["format"]}},
     "startup.grpo-truncation", "GRPO requires `truncation_strategy 'left' or 'delete'`", {}),
    ("packing-sdpa", {"model": {"attn_impl": "sdpa"}, "data": {"packing": True}},
     "packing.no-flash-attn", 'The "packing" feature requires a flash attention implementation', {}),
    ("padding_free-in-extra_args", {"extra_args": ["--padding_free", "true"]},
     "padding-free.no-flash-attn", 'The "padding_free" feature requires a flash attention implementation', {}),
    # two visible GPUs for one process: ms-swift's is_mp() (device_map model parallelism), refused with these
    ("device-map-mp+deepspeed", {"resources": {"device": "cuda", "gpus_per_node": 1, "cuda_visible_devices": "0,1"},
                                 "train": {"deepspeed": "zero2"}},
     "gpus.device-map", "DeepSpeed is not compatible with `device_map`", {"skip_deepspeed_version": True}),
    ("device-map-mp+fsdp", {"resources": {"device": "cuda", "gpus_per_node": 1, "cuda_visible_devices": "0,1"},
                            "train": {"fsdp": "fsdp2"}},
     "gpus.device-map", "FSDP2 is not compatible with `device_map`", {}),
    ("device-map-mp+liger", {"resources": {"device": "cuda", "gpus_per_node": 1, "cuda_visible_devices": "0,1"},
                             "train": {"use_liger_kernel": True}},
     "gpus.device-map", "liger_kernel does not support device_map", {}),
    ("device-map-mp+grpo-vllm", {"stage": "grpo", "resources": {"device": "cuda", "gpus_per_node": 1,
                                                                "cuda_visible_devices": "0,1"},
                                 "rlhf": {"num_generations": 2, "reward_funcs": ["format"], "use_vllm": True,
                                          "vllm_mode": "colocate"}},
     "gpus.device-map", "GRPO with vLLM is not compatible with `device_map`", {}),
]


@pytest.fixture
def job_file(tmp_path):
    def make(tables: dict) -> Path:
        tables = dict(tables)
        if tables.get("stage") == "grpo":
            tables.setdefault("train", {})["per_device_batch_size"] = 2
        return write_job(tmp_path / "job.toml", base_job(tmp_path), **tables)
    return make


def codes(path: Path) -> dict[str, str]:
    report = lint_job(load_job(path), bundled(4), data=False, offline=True)
    return {i.code: i.location for i in report.errors}


@pytest.mark.parametrize(("name", "tables", "code", "raised", "opts"), CASES, ids=[c[0] for c in CASES])
def test_job_check_has_the_rule(job_file, name, tables, code, raised, opts):
    found = codes(job_file(tables))
    assert code in found, found
    assert code in SOURCES


def test_a_clean_job_has_none_of_them(job_file):
    assert not set(codes(job_file({}))) & set(SOURCES)


def test_device_map_in_extra_args_with_data_parallelism(job_file):
    found = codes(job_file({"resources": GPUS, "extra_args": ["--device_map", "auto"]}))
    assert found["startup.device-map-parallel"].endswith("(extra_args.0)")
    assert "startup.device-map-parallel" not in codes(job_file({"extra_args": ["--device_map", "auto"]}))


def test_migrate_fixes_or_refuses():
    text = ("NPROC_PER_NODE=2 swift sft --model M --dataset d.jsonl --warmup_ratio 0.1 --warmup_steps 10 "
            "--device_map auto --output_dir out")
    result = migrate_command(text)
    assert "warmup_ratio" not in result.toml.split("swift_version")[-1] and "--warmup_steps" in result.toml
    assert any("startup.warmup-both" in n for n in result.notes)
    assert any("startup.device-map-parallel" in n for n in result.notes)
    with pytest.raises(SwiftctlError) as exc:
        migrate_command("swift sft --model M --dataset d.jsonl --packing true --output_dir out")
    assert "packing.no-flash-attn" in exc.value.message and "--attn_impl flash_attn" in (exc.value.hint or "")


# ---- ms-swift itself ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def swift(tmp_path_factory):
    parser = SwiftParser(tmp_path_factory.mktemp("swift-rules"))
    yield parser
    parser.close()


@pytest.mark.stack
@pytest.mark.parametrize(("name", "tables", "code", "raised", "opts"), CASES, ids=[c[0] for c in CASES])
def test_ms_swift_raises(swift, job_file, name, tables, code, raised, opts):
    plan = compile_plan(load_job(job_file(tables)), bundled(4), extra_env={}, slurm=True)
    argv = localize(plan.argv, swift.tmp)
    with pytest.raises((ValueError, AssertionError)) as exc:  # GPUs seen = CUDA_VISIBLE_DEVICES (msswift)
        swift.parse(argv, plan.env, **opts)
    assert raised in str(exc.value)


@pytest.mark.stack
def test_ms_swift_accepts_the_fixed_jobs(swift, job_file):
    """Positive controls: the same jobs with the fix applied parse (DPO may combine loss types; two GPUs for two
    processes is data parallel, not device_map)."""
    for tables in ({"stage": "dpo", "rlhf": {"loss_type": ["sigmoid", "bco_pair"]}},
                   {"resources": {"device": "cuda", "gpus_per_node": 2, "cuda_visible_devices": "0,1"},
                    "train": {"fsdp": "fsdp2"}, "model": {"torch_dtype": "float32"}}):
        plan = compile_plan(load_job(job_file(tables)), bundled(4), extra_env={}, slurm=True)
        swift.parse(localize(plan.argv, swift.tmp), plan.env)


@pytest.mark.stack
def test_device_map_with_data_parallelism_is_refused_by_accelerate(swift, job_file):
    """ms-swift's argument classes accept an explicit --device_map with NPROC_PER_NODE=2 (so the argument parse
    cannot catch it); training then hands the model to accelerate, which refuses a model spread by a device_map in
    any distributed mode (accelerate/accelerator.py prepare_model). Both halves are checked here."""
    import torch
    from accelerate import Accelerator

    plan = compile_plan(load_job(job_file({"resources": GPUS, "extra_args": ["--device_map", "auto"]})), bundled(4),
                        extra_env={}, slurm=True)
    args = swift.parse([*localize(plan.argv, swift.tmp), "--use_cpu", "true"], plan.env)
    assert args.device_map == "auto" and args.global_world_size == 2
    model = torch.nn.Linear(2, 2)
    model.hf_device_map = {"a": 0, "b": 1}  # what from_pretrained(device_map="auto") leaves on a 2-GPU process
    with swift._environment({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"}):
        accelerator = Accelerator(cpu=True)
        assert str(accelerator.distributed_type) != "NO"
        with pytest.raises(ValueError, match="loaded with `device_map='auto'` in any distributed mode"):
            accelerator.prepare_model(model)
