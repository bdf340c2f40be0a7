"""Rendering for `swiftctl train` and `swiftctl job`: lint reports, plans, migration notes, run results."""

from __future__ import annotations

import sys
from typing import Any

from swiftctl.ui.console import print_json

__all__ = ["print_json"]


def check_report(report: Any) -> None:
    """One line per issue on stdout, then a summary line."""
    lines = []
    for issue in report.issues:
        lines += [f"{issue.severity}: {issue.location}: {issue.message}", f"  fix: {issue.hint}"]
    lines += [f"skipped (--offline): {what}" for what in getattr(report, "skipped", ())]
    verdict = "ok" if report.ok else "FAILED"
    lines.append(f"{report.job}: {verdict} ({len(report.errors)} error(s), {len(report.warnings)} warning(s))")
    script("\n".join(lines) + "\n")


def lint_warnings(issues: list[Any]) -> None:
    """Issues shown beside a dry run (stderr, so stdout stays a runnable script)."""
    errors = sum(1 for i in issues if i.severity == "error")
    if errors:
        _say(f"note: `swiftctl job check` finds {errors} error(s) here; a real launch would stop on them:")
    for issue in issues:
        _say(f"{issue.severity}: {issue.location}: {issue.message} (fix: {issue.hint})")


def script(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _say(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def note(text: str) -> None:
    _say(text)


def migrate_notes(notes: list[str]) -> None:
    for line in notes:
        _say(f"changed: {line}")


def train_result(result: Any) -> None:
    where = result.run_dir or result.output_dir
    _say(f"swiftctl: training {result.status} (exit {result.exit_code}); run dir: {where}; "
         f"manifest: {result.manifest}; log: {result.log}")
