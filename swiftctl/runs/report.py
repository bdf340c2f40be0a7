"""``swiftctl report``: run dirs → summaries, health findings, plots, a comparison; once or refreshed (watch)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.runs.compare import Comparison, compare
from swiftctl.runs.config import RunConfig, load_config
from swiftctl.runs.health import HealthFinding, Thresholds, assess
from swiftctl.runs.health_rl import StageMetrics, assess_rl
from swiftctl.runs.logs import LogReader, RunLog
from swiftctl.runs.rundir import resolve_run
from swiftctl.runs.summary import Curves, RunSummary, curves, summarize

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


@dataclass
class RunReport:
    summary: RunSummary
    config: RunConfig
    findings: list[HealthFinding]
    curves: Curves
    plot: Path | None = None
    stage: StageMetrics | None = None  # DPO/KTO/.../GRPO metrics (rewards, margins, KL); None for SFT


@dataclass
class Report:
    runs: list[RunReport]
    comparison: Comparison | None = None
    comparison_plot: Path | None = None
    out: Path | None = None
    refresh: int = 1  # 1 for a one-off report; counts up under --watch

    @property
    def findings(self) -> list[HealthFinding]:
        return [f for r in self.runs for f in r.findings]


class RunWatcher:
    """One run dir, read incrementally: each ``refresh()`` parses only what was appended since the last one."""

    def __init__(self, path: Path, thresholds: Thresholds | None = None) -> None:
        run = resolve_run(path)
        self.path, self.args, self.manifest = run.path, run.args, run.manifest_path
        self.name = f"{run.path.parent.name}/{run.path.name}"
        self.thresholds = thresholds
        self.reader = LogReader(run.logging_path)

    def checkpoints(self) -> list[int]:
        return sorted(int(m[1]) for p in self.path.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name)))

    def _best_from_state(self, steps: list[int]) -> str | None:
        if not steps:
            return None
        try:
            state = json.loads((self.path / f"checkpoint-{steps[-1]}" / "trainer_state.json").read_text("utf-8"))
            return Path(state["best_model_checkpoint"]).name if state.get("best_model_checkpoint") else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def refresh(self, *, waiting_ok: bool = False) -> RunReport:
        self.reader.poll()
        log = self.reader.log
        if not self.reader.path.is_file():  # no logging.jsonl: ms-swift's TensorBoard events, when there are some
            from swiftctl.runs.tbevents import read_events

            log = read_events(self.path) or log
        if not waiting_ok:
            self._require_data(log)
        cfg = load_config(self.args, self.manifest)
        steps = self.checkpoints()
        best = log.summary.get("best_model_checkpoint")
        best = Path(best).name if isinstance(best, str) and best else self._best_from_state(steps)
        summary = summarize(self.name, self.path, log, cfg, best, steps)
        stage, rl_findings = assess_rl(self.reader.path)
        return RunReport(summary, cfg, rl_findings + assess(log, cfg, steps, self.thresholds), curves(log), stage=stage)

    def _require_data(self, log: RunLog) -> None:
        where = str(self.reader.path)
        wait = f"wait for the first logging step, or follow it: swiftctl report --watch {self.path}"
        if not self.reader.path.is_file() and not (log.train or log.evals):
            raise SwiftctlError(f"no logging.jsonl in {self.path}: the run has not logged a step yet",
                                location=where, hint=wait)
        if log.train or log.evals:
            return
        if log.skipped:
            bad = log.skipped[0]
            raise SwiftctlError(f"no readable line in logging.jsonl ({len(log.skipped)} skipped): {bad.reason}",
                                location=f"{where}:{bad.line}",
                                hint="this is not an ms-swift logging.jsonl; pass the run's output_dir")
        raise SwiftctlError("logging.jsonl has no train or eval step yet" + (" (a first line is being written)"
                            if log.partial_tail else ""), location=where, hint=wait)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "run"


def _render(watchers: list[RunWatcher], out: Path | None, plots: bool, waiting_ok: bool, refresh: int) -> Report:
    runs = [w.refresh(waiting_ok=waiting_ok) for w in watchers]
    report = Report(runs=runs, out=out, refresh=refresh)
    if len(runs) > 1:
        report.comparison = compare([r.summary for r in runs])
    if out is not None and plots:
        from swiftctl.runs.plots import plot_compare, plot_run

        for w, r in zip(watchers, runs, strict=True):
            r.plot = plot_run(w.reader.log, r.summary, out / f"{_slug(r.summary.name)}.png")
        if len(runs) > 1:
            report.comparison_plot = plot_compare([(r.summary, w.reader.log) for w, r in zip(watchers, runs,
                                                                                               strict=True)],
                                                  out / "compare.png")
    return report


def _watchers(paths: list[Path], thresholds: Thresholds | None) -> list[RunWatcher]:
    if not paths:
        raise SwiftctlError("no run dir given", hint="swiftctl report OUTPUT_DIR [OUTPUT_DIR...]")
    watchers = [RunWatcher(p, thresholds) for p in paths]
    seen: dict[Path, Path] = {}
    for p, w in zip(paths, watchers, strict=True):
        if w.path in seen:
            raise SwiftctlError(f"{p} and {seen[w.path]} are the same run ({w.path})", location=str(p),
                                hint="pass each run once")
        seen[w.path] = p
    return watchers


def build_report(paths: list[Path], out: Path | None = None, *, plots: bool = True,
                 thresholds: Thresholds | None = None) -> Report:
    """Read each run once; write ``RUN.png`` per run (+ ``compare.png``) under ``out`` when given."""
    return _render(_watchers(paths, thresholds), out, plots, waiting_ok=False, refresh=1)


def watch_report(paths: list[Path], out: Path | None = None, *, interval: float = 10.0,
                 max_refreshes: int | None = None, plots: bool = True, thresholds: Thresholds | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> Iterator[Report]:
    """Yield a fresh report every ``interval`` seconds (incremental reads), forever or ``max_refreshes`` times.

    A run that has logged nothing yet is shown as waiting instead of failing; stop it with Ctrl-C.
    """
    watchers = _watchers(paths, thresholds)
    refresh = 0
    while max_refreshes is None or refresh < max_refreshes:
        if refresh:
            sleep(interval)
        refresh += 1
        yield _render(watchers, out, plots, waiting_ok=True, refresh=refresh)
