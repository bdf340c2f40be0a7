"""`swiftctl plan`: per-GPU memory, fit, time and the cheapest changes, before spending GPU hours."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt


def plan(
    job: Annotated[Path, typer.Argument(help="Job file (TOML), e.g. jobs/muice.toml.", show_default=False)],
    gpu_mem: Annotated[float | None, typer.Option("--gpu-mem", metavar="GIB", min=0.1,
                                                  help="Memory per GPU in GiB (overrides --gpu's).")] = None,
    gpus: Annotated[int | None, typer.Option("--gpus", min=1, help="Total GPUs (default: the job's).")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", metavar="NAME",
                                            help="GPU model from the built-in table, e.g. \"RTX 5090\", H100.")] = None,
    config: Annotated[Path | None, typer.Option("--config", metavar="FILE",
                                                help="The model's config.json (for a hub id or a missing model dir).")] = None,
    data: Annotated[list[Path] | None, typer.Option("--data", metavar="FILE",
                                                    help="Training files for length statistics (default: the job's).")] = None,
    tokenizer: Annotated[Path | None, typer.Option("--tokenizer", metavar="DIR",
                                                   help="Dir with tokenizer.json for --data (default: model dir).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Predict per-GPU peak memory (broken down), whether it fits, the training time, and ranked fixes.

    Works from config.json alone (no weights, no torch). The GPU comes from --gpu-mem, --gpu, the job's
    resources.gpu, or this machine (nvidia-smi). The formulas are derived in docs/plan.md.

    Examples:

      swiftctl plan jobs/muice.toml --gpu "RTX 5090"

      swiftctl plan jobs/demo.toml --gpu-mem 24 --json

      swiftctl plan jobs/muice-lora.toml --gpus 1 --gpu H100
      --data jobs/data/muice-sample.jsonl --tokenizer .fixtures/tiny-qwen2
    """
    from swiftctl.jobs.load import load_job
    from swiftctl.plan.build import PlanOptions, make_plan

    report = make_plan(load_job(job), PlanOptions(gpu_mem=gpu_mem, gpus=gpus, gpu=gpu, config=config,
                                                  data=list(data or []), tokenizer=tokenizer))
    if json_:
        from swiftctl.ui.console import print_json

        print_json(report)
    else:
        from swiftctl.ui.plan_view import render_plan

        render_plan(report)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
