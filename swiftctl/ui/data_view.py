"""Rendering of `swiftctl data` results: findings, summary, token preview, progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

from swiftctl.ui.console import err, out, print_json


@contextlib.contextmanager
def progress_bar() -> Iterator:
    """A progress callback ``(path, done, total)`` drawing a bar on stderr (nothing when not a terminal)."""
    console = err()
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict = {}

        def update(path, done: int, total: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(str(path), total=total)
            bar.update(tasks[path], completed=done)

        yield update


def render_check(report) -> None:
    console = out()
    for p in report.problems:
        console.print(Text(f"{p.path}:{p.line}: {p.code} {p.severity}: {p.message}"), highlight=False, soft_wrap=True)
        console.print(Text(f"  fix: {p.fix}"), style="dim", highlight=False, soft_wrap=True)
    s = report.summary
    for f in s.files:
        unlisted = sum(f.problem_counts.values()) - sum(1 for p in report.problems if p.path == f.path)
        more = f" ({unlisted} more findings not listed)" if unlisted > 0 else ""
        console.print(Text(f"{f.path} [{f.split}]: {f.rows} rows, {f.turns} assistant turns, format "
                           f"{f.format or '?'}, {f.rows_lost} rows lost{more}"), highlight=False, soft_wrap=True)
    t = s.tokens
    if t is not None:
        console.print(Text(f"tokens ({t.template}, counted by {t.counter}): min {t.min}, median {t.median}, p95 {t.p95}, max {t.max}; "
                           f"trained {t.trained_share:.1%} ({t.trained_tokens}), masked {t.masked_tokens}"
                           + (f"; {t.over_max_length} rows over max_length {t.max_length}" if t.max_length else "")
                           + (f"; {t.not_counted} rows not counted" if t.not_counted else "")), highlight=False, soft_wrap=True)
        peak = max(c for _, _, c in t.histogram) or 1
        for lo, hi, c in t.histogram:
            console.print(Text(f"  {lo:>6}-{hi - 1:<6} {'#' * round(30 * c / peak):<30} {c}"), highlight=False, soft_wrap=True)
    verdict = "ok" if report.ok else "FAILED"
    console.print(Text(f"{verdict}: {len(report.errors)} errors, {len(report.warnings)} warnings in {s.rows} rows "
                       f"({s.rows_lost} would be lost)"), highlight=False, soft_wrap=True)


def render_check_json(report) -> None:
    print_json({"ok": report.ok, "strict": report.strict, "errors": len(report.errors),
                "warnings": len(report.warnings), "problems": report.problems, "summary": report.summary,
                **({"rows": report.rows} if report.rows is not None else {})})


def render_preview(preview) -> None:
    console = out()
    console.print(Text(f"{preview.path}:{preview.line} template {preview.template}, system: {preview.system!r}"),
                  highlight=False, soft_wrap=True)
    text = Text()
    for piece, trained in preview.pieces:
        text.append(piece, style="bold green" if trained else "dim")
    console.print(text, highlight=False, soft_wrap=True)
    n = len(preview.tokens)
    console.print(Text(f"{n} tokens: {preview.trained_tokens} trained, {n - preview.trained_tokens} masked (-100)"),
                  highlight=False, soft_wrap=True)


def render_preview_json(preview) -> None:
    print_json({"path": preview.path, "line": preview.line, "template": preview.template, "system": preview.system,
                "input_ids": preview.input_ids, "labels": preview.labels, "tokens": preview.tokens,
                "counter": preview.counter})


def render_convert(result) -> None:
    formats = ", ".join(f"{n} {f}" for f, n in result.formats.items()) or "none"
    filled = ", ".join(f"{k} x{n}" for k, n in result.filled.items())
    console = err()
    console.print(Text(f"wrote {result.rows} rows to {result.dst} (from {formats})"
                       + (f"; filled {filled}" if filled else "")), highlight=False, soft_wrap=True)
    if result.placeholders_left:
        console.print(Text(f"warning: {result.placeholders_left} rows still contain {{{{NAME}}}}/{{{{AUTHOR}}}}: "
                           "pass --fill-name and --fill-author"), highlight=False, soft_wrap=True)
