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
    resume: Annotated[str | None, typer.Option("--resume", metavar="last|auto", help="last: continue from the last "
                      "complete checkpoint (one must exist); auto: continue when one exists, else start fresh.")] = None,
    master_addr: Annotated[str | None, typer.Option("--master-addr", help="Multi-node: node 0's host (overrides "
                           "resources.master_addr; the sbatch script passes it).")] = None,
    skip_doctor: Annotated[bool, typer.Option("--skip-doctor", help="Do not run doctor before launching.")] = False,
    profile: ProfileOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON on stdout: the plan with --dry-run, else the "
                                           "result after the run (the log then goes only to its file).")] = False,
    rendezvous_timeout: Annotated[float, typer.Option("--rendezvous-timeout", help="Multi-node: seconds to wait for "
                                                      "the other nodes (node 0) or to reach node 0 (others).")] = 300.0,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --write file.")] = False,
) -> None:
    """Compile a job and launch `swift sft` (preflight, streamed + logged output, manifest, signals forwarded).

    --dry-run prints the exact `swift sft` env + command for this machine; --write and --slurm write portable
    scripts that run `swiftctl train` on the node (job path relative to the script, patches computed there).

    Examples:

      swiftctl train jobs/demo.toml

      swiftctl train jobs/muice.toml --dry-run

      swiftctl train jobs/muice.toml --dry-run --json

      swiftctl train jobs/multinode.toml --slurm --write muice.sbatch

      swiftctl train jobs/demo.toml --resume last

      swiftctl train jobs/demo.toml --resume auto

      swiftctl train jobs/multinode.toml --node-rank 1 --master-addr node0
    """
    from swiftctl.errors import UsageError
    from swiftctl.jobs import preflight as checks
    from swiftctl.launch import script as render
    from swiftctl.launch import train as domain
    from swiftctl.ui import job_view

    if resume not in (None, "last", "auto"):
        raise UsageError(f"--resume takes `last` or `auto`, got {resume!r}", hint="swiftctl train JOB --resume auto",
                         location="--resume")
    if write is not None:
        from swiftctl.fsutil import check_output

        check_output(write, inputs=(job,), force=force, option="--write")
    lj, plan = checks.prepare(job, node_rank=node_rank, slurm=slurm, master_addr=master_addr)  # load → plan
    if dry_run and resume:  # the printed command continues from the same checkpoint a real launch would
        from swiftctl.runs.resume import check_output_dir, with_resume

        ckpt = check_output_dir(plan, resume)
        plan = with_resume(plan, ckpt) if ckpt is not None else plan
    if dry_run or write is not None or slurm:
        from swiftctl.jobs.lint import lint_job
        from swiftctl.jobs.swift_args import for_target
        from swiftctl.launch import launcher

        base = write.parent if write is not None else Path.cwd()
        res, rel = lj.job.resources, launcher.relative_job(job, base)
        if slurm:
            text = launcher.render_sbatch(rel, source=rel, job_name=job.stem, nnodes=res.nodes,
                                          gpus_per_node=res.gpus_per_node)
        elif write is not None:
            text = launcher.render_launcher(rel, source=rel, nnodes=res.nodes)
        else:
            text = render.render_script(plan, source=str(job))
        issues = lint_job(lj, for_target(lj.job.swift_version), data=False).issues
        if json_out and write is None:
            job_view.print_json({"job": str(job), "plan": plan, "script": text, "issues": issues})
            return
        job_view.lint_warnings(issues)
        if write is None:
            job_view.script(text)
            return
        domain.write_script(write, text, overwrite=force)
        job_view.note(f"wrote {write}")
        return
    if resume:
        from swiftctl.launch.manifest import previous_status
        from swiftctl.runs.resume import versioned_runs

        if previous_status(versioned_runs(plan.output_dir)) == "crashed":
            job_view.note("the previous run crashed (its swiftctl process is gone): resuming from its last checkpoint")
    checks.preflight(lj, plan, profile=profile, skip_doctor=skip_doctor)  # lint, data, trackers, doctor
    result = domain.launch(lj, plan, resume=resume or "no", rendezvous_timeout=rendezvous_timeout,
                           echo=not json_out)  # run → record
    job_view.print_json(result) if json_out else job_view.train_result(result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@job_app.command("check")
def check(jobs: Annotated[list[Path], typer.Argument(help="Job file(s) (TOML), e.g. jobs/demo.toml.", show_default=False)],
          json_out: JsonOpt = False,
          offline: Annotated[bool, typer.Option("--offline", help="Check only what needs neither the model nor the "
                                                "data (CI lint runners); list what was skipped.")] = False) -> None:
    """Lint a job: arguments, batch size, lengths, GPUs, LoRA rank, storage, datasets (exit 1 on errors).

    Examples:

      swiftctl job check jobs/muice.toml

      swiftctl job check jobs/demo.toml --json

      swiftctl job check --offline jobs/*.toml   # on a runner without the model and the data
    """
    from swiftctl.jobs.lint import lint_job
    from swiftctl.jobs.load import load_job
    from swiftctl.jobs.swift_args import for_target
    from swiftctl.ui import job_view

    reports = []
    for job in jobs:
        lj = load_job(job)
        reports.append(lint_job(lj, for_target(lj.job.swift_version), offline=offline))
    if json_out:
        docs = [{"job": r.job, "ok": r.ok, "issues": r.issues, "skipped": r.skipped} for r in reports]
        job_view.print_json(docs[0] if len(docs) == 1 else docs)
    else:
        for report in reports:
            job_view.check_report(report)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@job_app.command("migrate")
def migrate(
    source: Annotated[str, typer.Argument(help="A job .toml, a file holding a `swift sft` command, or - for stdin.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                help="Write the TOML here (an existing file needs --force).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output (never the source).")] = False,
    json_out: JsonOpt = False,
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
    if not json_out:
        job_view.migrate_notes(result.notes)
    if output is not None:
        write_script(output, result.toml, mode=0o644, overwrite=force)
    if json_out:
        job_view.print_json({"toml": result.toml, "notes": result.notes, "output": str(output) if output else None})
    elif output is None:
        job_view.script(result.toml)
    else:
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
