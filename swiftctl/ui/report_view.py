"""Rendering of `swiftctl report`: the summary table, findings and a compact terminal loss chart (for SSH)."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.table import Table
from rich.text import Text

from swiftctl.ui.console import err, out, to_jsonable

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_RUN_STYLES = ["cyan", "red", "green", "magenta", "yellow", "blue"]


def _f(x: float | None, fmt: str = ".4g") -> str:
    if x is None:
        return "—"
    return str(x) if not math.isfinite(x) else format(x, fmt)


def _duration(s: float | None) -> str:
    if s is None:
        return "—"
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _rows(s: Any) -> list[tuple[str, str]]:
    steps = f"{s.step}" + (f" / {s.max_steps}" if s.max_steps else "")
    speed = _f(s.s_per_it, ".3g") + " s/it" + (f" ({s.samples_per_s:.3g} samples/s)" if s.samples_per_s else "")
    best_eval = _f(s.best_eval_loss) + (f" @ step {s.best_eval_step}" if s.best_eval_step is not None else "")
    best = _f(s.best_loss) + (f" @ step {s.best_loss_step}" if s.best_loss_step is not None else "")
    return [("status", s.status + (" (last line being written)" if s.partial_tail else "")), ("steps", steps),
            ("epochs", _f(s.epoch, ".3g")), ("global batch", _f(s.global_batch, "d")),
            ("learning rate", _f(s.learning_rate, ".3g")), ("speed", speed),
            ("elapsed / remaining", f"{_duration(s.elapsed_s)} / {_duration(s.remaining_s)}"),
            ("peak memory", _f(s.peak_memory_gib, ".3g") + " GiB" if s.peak_memory_gib is not None else "—"),
            ("train loss final", _f(s.final_loss)), ("train loss best", best),
            ("eval loss final", _f(s.final_eval_loss)), ("eval loss best", best_eval),
            ("best checkpoint", s.best_checkpoint or "—"), ("last checkpoint", s.last_checkpoint or "—")]


def summary_table(report: Any) -> Table:
    """One column per run (a comparison when there are several)."""
    table = Table(title="Run report" if len(report.runs) == 1 else f"Comparison of {len(report.runs)} runs",
                  title_justify="left")
    table.add_column("", style="bold")
    for i, r in enumerate(report.runs):
        name = r.summary.name
        if report.comparison and report.comparison.best_run == name:
            name += " ★"
        table.add_column(name, style=_RUN_STYLES[i % len(_RUN_STYLES)] if len(report.runs) > 1 else None)
    columns = [_rows(r.summary) for r in report.runs]
    for k, (label, _) in enumerate(columns[0]):
        table.add_row(label, *(col[k][1] for col in columns))
    stage_keys = sorted({k for r in report.runs if r.stage for k in r.stage.final})
    for key in stage_keys:  # DPO margins/accuracies, GRPO reward/std/KL: the final logged value
        table.add_row(f"{key} final", *(_f(r.stage.final.get(key)) if r.stage else "—" for r in report.runs))
    table.add_row("findings", *(_count(r.findings) for r in report.runs))
    return table


def _count(findings: list[Any]) -> str:
    if not findings:
        return "none"
    levels = [f.severity.value for f in findings]
    return ", ".join(f"{levels.count(v)} {v}" for v in ("error", "warning", "info") if v in levels)


def findings_text(report: Any) -> Text:
    text = Text()
    for r in report.runs:
        for f in r.findings:
            text.append(f"{f.severity.value}", style=_SEVERITY_STYLE[f.severity.value])
            text.append(f" [{r.summary.name}] {f.what}\n")
            text.append(f"  why: {f.why}\n", style="dim")
            text.append(f"  fix: {f.fix}\n")
    return text


def loss_chart(report: Any, width: int = 72, height: int = 12) -> Text:
    """Smoothed train loss (•) and eval loss (◆) per run on one character grid, y-axis labelled."""
    series = []
    for i, r in enumerate(report.runs):
        c, style = r.curves, _RUN_STYLES[i % len(_RUN_STYLES)]
        series.append(([(s, v) for s, v in zip(c.steps, c.smoothed, strict=True) if v is not None], "•", style))
        series.append(([(s, v) for s, v in zip(c.eval_steps, c.eval_loss, strict=True) if v is not None], "◆", style))
    pts = [p for s, _, _ in series for p in s]
    if not pts:
        return Text("(no loss logged yet)\n", style="dim")
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    grid: list[list[tuple[str, str | None]]] = [[(" ", None)] * width for _ in range(height)]
    for points, mark, style in series:
        for x, y in points:
            col = round((x - x0) / (x1 - x0) * (width - 1)) if x1 > x0 else 0
            row = height - 1 - (round((y - y0) / (y1 - y0) * (height - 1)) if y1 > y0 else 0)
            if mark == "◆" or grid[row][col][0] == " ":
                grid[row][col] = (mark, style)
    text = Text("loss (• train, smoothed  ◆ eval)", style="bold")
    if len(report.runs) > 1:
        for i, r in enumerate(report.runs):
            text.append(f"  {r.summary.name}", style=_RUN_STYLES[i % len(_RUN_STYLES)])
    text.append("\n")
    for k, row in enumerate(grid):
        label = _f(y1, ".4g") if k == 0 else _f(y0, ".4g") if k == height - 1 else ""
        text.append(f"{label:>9} │")
        for ch, style in row:
            text.append(ch, style=style)
        text.append("\n")
    text.append(" " * 10 + "└" + "─" * width + "\n")
    text.append(f"{'step ' + str(x0):<{width // 2 + 11}}{'step ' + str(x1):>{width - width // 2}}\n")
    return text


def render_report(report: Any, *, chart: bool = True, watching: bool = False) -> None:
    console = out()
    if watching and console.is_terminal:
        console.clear()
    if watching:
        console.print(f"refresh {report.refresh} (Ctrl-C to stop)", style="dim")
    console.print(summary_table(report))
    if report.comparison and report.comparison.differences:
        diffs = "; ".join(f"{k}: {' vs '.join(_f(v) if isinstance(v, float) else str(v) for v in vals)}"
                          for k, vals in report.comparison.differences.items())
        console.print(f"differences: {diffs}")
    if chart:
        console.print(loss_chart(report, width=max(30, min(90, console.width - 14))))
    console.print(findings_text(report) if report.findings else Text("no health findings", style="green"))
    for path in [r.plot for r in report.runs if r.plot] + ([report.comparison_plot] if report.comparison_plot
                                                           else []):
        err().print(f"wrote {path}", highlight=False, soft_wrap=True)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def print_report_json(report: Any, *, compact: bool = False) -> None:
    """The report as strict JSON (NaN/inf become null); one line per refresh when ``compact`` (--watch)."""
    doc = _finite(to_jsonable(report))
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=None if compact else 2) + "\n")
    sys.stdout.flush()
