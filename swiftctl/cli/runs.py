"""`swiftctl runs`: the training runs found from swiftctl manifests, newest first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt


def runs(
    where: Annotated[Path | None, typer.Argument(help="Directory to search (default: the current one).",
                                                 show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """List training runs: job, status, steps, best/last checkpoint, age (newest first).

    Runs are found from swiftctl-manifest.json files under the directory (depth 4) and in the output dir of each
    jobs/*.toml. Without RUN, infer, serve, eval, report and export use the newest run with a checkpoint.

    Examples:

      swiftctl runs

      swiftctl runs --json | jq -r '.runs[0].run_dir'

      swiftctl infer "$(swiftctl runs --json | jq -r '.runs[1].run_dir')"   (the run before the newest)
    """
    from swiftctl.runs.discover import find_runs
    from swiftctl.ui.runs_view import show_runs

    show_runs(find_runs(where), as_json=json_)


def register(app: typer.Typer) -> None:
    """Attach this command to the root app."""
    app.command("runs")(runs)
