"""Rendering for `swiftctl runs`: a table on stdout (or JSON), where it looked on stderr."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from swiftctl.ui.console import err, out, print_json


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _name(path: str | None) -> str:
    return path.rsplit("/", 1)[-1].removeprefix("checkpoint-") if path else "-"  # the step


def show_runs(result, *, as_json: bool = False) -> None:
    from swiftctl.runs.discover import display

    if as_json:
        print_json(result)
        return
    if not result.runs:
        err().print(Text("no training run found"))
        for where in result.searched:
            err().print(Text(f"  looked in {where}"))
        err().print(Text("train one: swiftctl train jobs/demo.toml"))
        return
    table = Table(title="runs (newest first)")
    for col in ("#", "run", "job", "status", "steps", "best ckpt", "last ckpt", "age"):
        table.add_column(col, overflow="fold", no_wrap=col not in ("run", "job"))
    for i, r in enumerate(result.runs):
        steps = "-" if r.steps is None else f"{r.steps}/{r.max_steps}" if r.max_steps else str(r.steps)
        table.add_row(*(Text(c) for c in (str(i), display(r.run_dir), display(r.job) if r.job else "-", r.status,
                                          steps, _name(r.best_checkpoint), _name(r.last_checkpoint), _age(r.age_s))))
    out().print(table)
    err().print(Text("without RUN, infer/serve/eval/report/export use #0; pass a run (or a checkpoint-N in it) "
                     "to use another: swiftctl infer RUN", style="dim"))
