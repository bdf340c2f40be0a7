"""`swiftctl train` and `swiftctl job check|migrate|schema`: TOML job files compiled to `swift sft`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt, ProfileOpt

job_app = typer.Typer(name="job", help="Check, migrate and describe job files.", no_args_is_help=True,
                      rich_markup_mode=None)

JobArg = Annotated[Path, typer.Argument(help="Job file (TOML), e.g. jobs/demo.toml.", show_default=False)]


def train(
    job: JobArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the exact env + command as bash; run nothing.")] = False,
    write: Annotated[Path | None, typer.Option("--write", dir_okay=False,
                                                            help="Write the launch script to this file; run nothing.")] = None,
    node_rank: Annotated[int, typer.Option("--node-rank", min=0, help="This node's rank (multi-node jobs), 0..nodes-1.")] = 0,
    slurm: Annotated[bool, typer.Option("--slurm", help="Render an sbatch script (one srun launcher per node).")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last complete checkpoint.")] = False,
    skip_doctor: Annotated[bool, typer.Option("--skip-doctor", help="Do not run doctor before launching.")] = False,
    profile: ProfileOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --write file.")] = False,
) -> None:
    """Compile a job and launch `swift sft` (preflight, streamed + logged output, manifest, signals forwarded).

    Examples:

      swiftctl train jobs/demo.toml

      swiftctl train jobs/muice.toml --dry-run

      swiftctl train jobs/multinode.toml --slurm --write muice.sbatch

      swiftctl train jobs/demo.toml --resume
    """
    from swiftctl.launch import script as render
    from swiftctl.launch import train as domain
    from swiftctl.ui import job_view

    if write is not None:
        from swiftctl.fsutil import check_output

        check_output(write, inputs=(job,), force=force, option="--write")
    lj, plan = domain.prepare(job, node_rank=node_rank, slurm=slurm)
    if (dry_run or write is not None or slurm) and resume:  # the script continues from the same checkpoint
        plan = domain.with_resume(plan, domain.check_output_dir(plan, resume=True))
    if dry_run or write is not None or slurm:
        from swiftctl.jobs.lint import lint_job
        from swiftctl.jobs.swift_args import for_target

        text = (render.render_slurm(plan, source=str(job), job_name=job.stem) if slurm
                else render.render_script(plan, source=str(job)))
        job_view.lint_warnings(lint_job(lj, for_target(lj.job.swift_version), data=False).issues)
        if write is None:
            job_view.script(text)
            return
        domain.write_script(write, text, overwrite=force)
        job_view.note(f"wrote {write}")
        return
    if resume:
        from swiftctl.launch.manifest import previous_status

        if previous_status(domain.versioned_runs(plan.output_dir)) == "crashed":
            job_view.note("the previous run crashed (its swiftctl process is gone): resuming from its last checkpoint")
    result = domain.launch(lj, plan, resume=resume, profile=profile, skip_doctor=skip_doctor)
    job_view.train_result(result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@job_app.command("check")
def check(job: JobArg, json_out: JsonOpt = False) -> None:
    """Lint a job: arguments, batch size, lengths, GPUs, LoRA rank, storage, datasets (exit 1 on errors).

    Examples:

      swiftctl job check jobs/muice.toml

      swiftctl job check jobs/demo.toml --json
    """
    from swiftctl.jobs.lint import lint_job
    from swiftctl.jobs.load import load_job
    from swiftctl.jobs.swift_args import for_target
    from swiftctl.ui import job_view

    lj = load_job(job)
    report = lint_job(lj, for_target(lj.job.swift_version))
    if json_out:
        job_view.print_json({"job": report.job, "ok": report.ok, "issues": report.issues})
    else:
        job_view.check_report(report)
    if not report.ok:
        raise typer.Exit(1)


@job_app.command("migrate")
def migrate(
    source: Annotated[str, typer.Argument(help="A job .toml, a file holding a `swift sft` command, or - for stdin.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                help="Write the TOML here (an existing file needs --force).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output (never the source).")] = False,
) -> None:
    """Rewrite 2.x/3.x `swift sft` names to ms-swift 4.x: a pasted command line → a corrected job TOML.

    Examples:

      swiftctl job migrate old-command.sh -o jobs/mine.toml

      echo 'swift sft --model M --train_type full --dataset d.jsonl --output_dir out' | swiftctl job migrate -
    """
    from swiftctl.jobs import migrate as domain
    from swiftctl.launch.train import write_script
    from swiftctl.ui import job_view

    if output is not None:
        from swiftctl.fsutil import check_output

        check_output(output, inputs=(Path(source),) if source != "-" else (), force=force, option="--output")
    if source.endswith(".toml"):
        result = domain.migrate_job(Path(source))
    else:
        result = domain.migrate_command(domain.read_command(source, sys.stdin))
    job_view.migrate_notes(result.notes)
    if output is None:
        job_view.script(result.toml)
    else:
        write_script(output, result.toml, mode=0o644, overwrite=force)
        job_view.note(f"wrote {output}")


@job_app.command("schema")
def schema(output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to this file.")] = None,
           force: Annotated[bool, typer.Option("--force", help="Replace an existing --output.")] = False) -> None:
    """Print the JSON Schema of job files (for editors; a copy is committed as jobs/job.schema.json).

    Examples:

      swiftctl job schema -o jobs/job.schema.json
    """
    import json

    from swiftctl.jobs.schema import json_schema
    from swiftctl.ui import job_view

    if output is not None:
        from swiftctl.fsutil import check_output

        check_output(output, force=force, option="--output")
    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        job_view.script(text)
    else:
        from swiftctl.fsutil import atomic_write_text

        atomic_write_text(output, text)


def register(app: typer.Typer) -> None:
    """Attach `train` and the `job` group to the root app."""
    app.command("train")(train)
    app.add_typer(job_app)
