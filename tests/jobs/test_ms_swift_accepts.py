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

from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.swift_args import bundled
from tests.conftest import REPO
from tests.jobs.msswift import SwiftParser, cpu_only_reason, localize

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
    return args, limits


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
