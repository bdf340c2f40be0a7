"""`swiftctl report`: loss curves, training health and comparisons from run directories."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt


class FailOn(str, enum.Enum):
    error = "error"
    warning = "warning"


def report(
    run_dirs: Annotated[list[Path] | None, typer.Argument(metavar="[RUN_DIR]...", show_default=False,
                        help="output_dir of a training job, or a vN-... run dir in it; default: the newest run.")] = None,
    out: Annotated[Path | None, typer.Option("--out", file_okay=False, help="Write RUN.png per run (and compare.png) here.")] = None,
    json_: JsonOpt = False,
    watch: Annotated[bool, typer.Option("--watch", help="Re-read and re-render every --interval seconds.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between refreshes.")] = 10.0,
    fail_on: Annotated[FailOn | None, typer.Option("--fail-on", help="Exit 1 when a health finding of this "
                                                   "severity or worse exists (CI gating).")] = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Terminal loss chart.")] = True,
    max_refreshes: Annotated[int | None, typer.Option("--max-refreshes", min=1, hidden=True)] = None,
) -> None:
    """Summarise runs: steps, speed, memory, final/best loss, best checkpoint; health findings; plots.

    Findings: loss oscillation (names the effective global batch), NaN/divergence, eval loss rising after its
    minimum (the checkpoint to keep), loss not decreasing, grad-norm spikes; each says which job key to change.
    Several RUN_DIRs are compared (one table, overlaid curves in compare.png). A run still being written is fine.

    Exit code: 0 whatever the findings unless --fail-on is given; 1 for unreadable input. --watch re-reads only
    what was appended, re-renders every --interval seconds (--json: one line per refresh); Ctrl-C ends it with 0.

    Examples:

      swiftctl report demo-runs/demo --out demo-runs/report

      swiftctl report                    (the newest run under . and jobs/*.toml's output dirs)

      swiftctl report runs/8x5090 runs/fixed --out cmp --json

      swiftctl report --watch --interval 30 runs/muice

      swiftctl report runs/muice --fail-on warning
    """
    from swiftctl.runs.report import build_report, watch_report
    from swiftctl.ui.console import err
    from swiftctl.ui.report_view import print_report_json, render_report

    if not run_dirs:
        from swiftctl.runs.discover import pick_run

        picked, notes = pick_run(need_checkpoint=False)
        run_dirs = [Path(picked.run_dir)]
        for note in notes:
            err().print(f"note: {note}", markup=False)
    if watch:
        last = None
        try:
            for last in watch_report(run_dirs, out, interval=interval, max_refreshes=max_refreshes):
                if json_:
                    print_report_json(last, compact=True)
                else:
                    render_report(last, chart=chart, watching=True)
        except KeyboardInterrupt:
            err().print("stopped watching")
        result = last
    else:
        result = build_report(run_dirs, out)
        if json_:
            print_report_json(result)
        else:
            render_report(result, chart=chart)
    if fail_on is not None and result is not None:
        levels = {"error"} if fail_on is FailOn.error else {"error", "warning"}
        hits = [f for f in result.findings if f.severity.value in levels]
        if hits:
            err().print(f"{len(hits)} finding(s) at or above {fail_on.value} (--fail-on {fail_on.value}): exit 1")
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("report")(report)
