"""`swiftctl data`: check, preview and convert jsonl datasets before a GPU is spent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt

data_app = typer.Typer(name="data", no_args_is_help=True, rich_markup_mode=None,
                       help="Check, preview and convert jsonl datasets (formats: swiftctl/resources/datasets_spec/).")

FormatOpt = Annotated[str | None, typer.Option(
    "--format", "-f", help="Read every row as this format instead of detecting it: messages, sharegpt, "
    "sharegpt-classic, query-response, alpaca, prompt-completion.")]
ModelOpt = Annotated[Path | None, typer.Option("--model", "-m", help="Model dir whose tokenizer counts tokens "
                                                "(e.g. .fixtures/tiny-qwen2).")]
TemplateOpt = Annotated[str | None, typer.Option("--template", "-t", help="ms-swift template: qwen2_5 or qwen "
                                                  "(default: args.json's, else qwen2_5 for Qwen2 models); any other is "
                                                  "encoded by ms-swift itself, in worker processes.")]
SystemOpt = Annotated[str | None, typer.Option("--system", "-s", help="The job's --system prompt (rows without "
                                                "their own system get it; default: the template's).")]


@data_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="Training jsonl files.", show_default=False)],
    fmt: FormatOpt = None,
    model: ModelOpt = None,
    template: TemplateOpt = None,
    max_length: Annotated[int | None, typer.Option("--max-length", "-L", min=1,
                                                   help="The job's --max_length: longer rows are reported (DS050), "
                                                        "as ms-swift would drop them. Needs --model.")] = None,
    system: SystemOpt = None,
    val: Annotated[list[Path] | None, typer.Option("--val", help="Validation file (repeatable): also checked, "
                                                    "and rows also in training are reported (DS041).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    stage: Annotated[str, typer.Option("--stage", help="Training stage the data is for: sft, dpo, orpo, simpo, cpo, "
                                       "kto, grpo (preference/RL shapes: rules DS100-DS110).")] = "sft",
    reward: Annotated[list[str] | None, typer.Option("--reward", help="GRPO reward function (repeatable): the "
                                                     "columns it reads must exist (accuracy → solution).")] = None,
    rows: Annotated[bool, typer.Option("--rows", help="With --json: add what ms-swift does with each row (lost, "
                                                      "tokens, trained tokens).")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Processes that check big JSON Lines files "
                                             "in byte ranges (default: all cores; 1: in this process). The report "
                                             "is the same; token counting (--model) runs in one process.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Report every problem ms-swift would hit, with file:line, a rule code (swiftctl/resources/datasets_spec/rules.json) and a fix.

    Streams any size in constant memory. With --model, counts tokens with the model's tokenizer and chat template
    and reports rows ms-swift would drop at --max-length. Exit 0: no errors (warnings allowed unless --strict);
    1: errors; 2: usage error (a path that does not exist or is a directory).

    Examples:

      swiftctl data check jobs/data/muice-sample.jsonl

      swiftctl data check train.jsonl --val test.jsonl --model .fixtures/tiny-qwen2 --max-length 512 --system "你是沐雪"

      swiftctl data check data/*.jsonl --strict --json

      swiftctl data check jobs/data/muice-dpo-sample.jsonl --stage dpo

      swiftctl data check prompts.jsonl --stage grpo --reward accuracy --reward format

      swiftctl data check train.json --model .fixtures/tiny-qwen2 --max-length 2048 --json --rows

      swiftctl data check big.jsonl --jobs 4
    """
    from swiftctl.errors import UsageError

    if max_length is not None and model is None:
        raise UsageError("--max-length needs --model (tokens are counted with its tokenizer)",
                         hint="add --model DIR, e.g. --model .fixtures/tiny-qwen2")
    from swiftctl.data.check import check_files
    from swiftctl.data.preference import STAGES, check_stage
    from swiftctl.ui import data_view

    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}", hint=f"use one of: {', '.join(STAGES)}")
    with data_view.progress_bar() as progress:
        report = check_files(files, fmt=fmt, val_paths=val or (), model_dir=model, template=template,
                             max_length=max_length, system=system, strict=strict, progress=progress, per_row=rows,
                             jobs=jobs or _all_cores())
    check_stage(report, files, stage, reward_funcs=reward or ())
    data_view.render_check_json(report) if json_ else data_view.render_check(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _all_cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@data_app.command("preview")
def preview(
    file: Annotated[Path, typer.Argument(help="A jsonl file.", show_default=False)],
    model: Annotated[Path, typer.Option("--model", "-m", help="Model dir (its tokenizer.json).")],
    row: Annotated[int, typer.Option("--row", "-r", min=1, help="Line number of the row.")] = 1,
    template: TemplateOpt = None,
    system: SystemOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show one row as ms-swift encodes it for training: masked text (system, user; labels -100) dim,
    trained text (assistant replies and their <|im_end|>) highlighted.

    Examples:

      swiftctl data preview jobs/data/muice-sample.jsonl --model .fixtures/tiny-qwen2

      swiftctl data preview train.jsonl --row 12 --model .fixtures/tiny-qwen2 --system "你是沐雪" --json
    """
    from swiftctl.data.preview import preview_row
    from swiftctl.ui import data_view

    result = preview_row(file, row=row, model_dir=model, template=template, system=system, fmt=fmt)
    data_view.render_preview_json(result) if json_ else data_view.render_preview(result)


@data_app.command("convert")
def convert(
    src: Annotated[Path, typer.Argument(metavar="IN", help="Input jsonl (any supported format).", show_default=False)],
    dst: Annotated[Path, typer.Argument(metavar="OUT", help="Output jsonl (written atomically).", show_default=False)],
    to: Annotated[str, typer.Option("--to", help="Target format: messages, or dpo (preference pairs).")] = "messages",
    fill_name: Annotated[str | None, typer.Option("--fill-name", help="Replace {{NAME}} with this.")] = None,
    fill_author: Annotated[str | None, typer.Option("--fill-author", help="Replace {{AUTHOR}} with this.")] = None,
    fmt: FormatOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists (never IN).")] = False,
    rejected: Annotated[Path | None, typer.Option("--rejected", help="--to dpo: one rejected answer per row of IN "
                                                  "(a JSON string or {\"rejected_response\": ...} per line).")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="--to dpo: IN is an eval.json; the base model's "
                                           "answers are the rejected side (identity prompts).")] = False,
    all_prompts: Annotated[bool, typer.Option("--all-prompts", help="--to dpo --baseline: every prompt, not only "
                                              "identity prompts.")] = False,
) -> None:
    """Rewrite IN as ms-swift messages (or DPO pairs with --to dpo), keeping every other column; fill placeholders.

    Nothing is written unless every row converts; IN is never overwritten.

    Examples:

      swiftctl data convert train.jsonl train.messages.jsonl --to messages

      swiftctl data convert self_cognition.jsonl sc.jsonl --fill-name 沐雪 --fill-author Moemu

      swiftctl data convert train.jsonl dpo.jsonl --to dpo --rejected rejected.jsonl

      swiftctl data convert eval-out/eval.json dpo.jsonl --to dpo --baseline
    """
    from swiftctl.data.convert import convert_file
    from swiftctl.ui import data_view

    if to == "dpo":
        from swiftctl.data.convert_dpo import convert_to_dpo

        return data_view.render_convert(convert_to_dpo(src, dst, rejected=rejected, baseline=baseline,
                                                       all_prompts=all_prompts, force=force))

    data_view.render_convert(convert_file(src, dst, to=to, fill_name=fill_name, fill_author=fill_author,
                                          fmt=fmt, force=force))


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.add_typer(data_app, name="data")
