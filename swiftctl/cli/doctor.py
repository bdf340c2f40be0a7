"""`swiftctl doctor`: is this environment fit to train / infer / eval?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt, ProfileOpt


def doctor(
    profile: ProfileOpt = None,
    require: Annotated[str, typer.Option("--require", "-r", metavar="CAPS",
                                         help="Comma list of what must work: train, infer, eval, track, webui.")] = "train",
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o",
                                                    help="Where outputs will go (free space, writability). "
                                                         "Default: the current directory.")] = None,
    json_: JsonOpt = False,
    job: Annotated[Path | None, typer.Option("--job", "-j", help="Also check this job's GPU count, "
                                             "cuda_visible_devices and checkpoint disk need against this machine.")] = None,
) -> None:
    """Check versions, GPUs, disk and known-bad combinations against a pin profile.

    Versions are read from package metadata: nothing heavy is imported. Exit 0 when nothing blocks the
    required capabilities, 1 when something does, 2 for a usage error. The --json schema is documented in
    docs/doctor-json.md (schema_version 1).

    Examples:

      swiftctl doctor

      swiftctl doctor --profile cpu --require train,infer

      swiftctl doctor --profile swift3-5090 --output-dir /data/runs --json

      swiftctl doctor --job jobs/muice.toml
    """
    from swiftctl.envcheck.doctor import run_doctor

    caps = frozenset(c.strip() for c in require.split(",") if c.strip())
    if not caps:
        from swiftctl.errors import UsageError

        raise UsageError("--require is empty", location="--require",
                         hint="name what must work, e.g. --require train,infer (train, infer, eval, track, webui)")
    report = run_doctor(profile, caps, output_dir, job=job)
    if json_:
        from swiftctl.ui.console import print_json

        print_json(report.to_json())
    else:
        from swiftctl.ui.doctor_view import render_doctor

        render_doctor(report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("doctor")(doctor)
