"""PNG plots with matplotlib (imported here only, Agg canvas, no pyplot global state); written atomically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from swiftctl.fsutil import atomic_open
from swiftctl.runs.logs import RunLog
from swiftctl.runs.series import ema
from swiftctl.runs.summary import RunSummary

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _figure(rows: int, cols: int, size: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=9)
    return fig, axes


def _save(fig: Any, path: Path) -> Path:
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png")
    return path


def _series(log: RunLog, attr: str) -> tuple[list[int], list[float]]:
    pts = [(p.step, getattr(p, attr)) for p in log.train if getattr(p, attr) is not None]
    return [s for s, _ in pts], [v for _, v in pts]


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="gray")


def plot_run(log: RunLog, summary: RunSummary, path: Path) -> Path:
    """2×2 panel: train loss (raw faint, smoothed, eval points, best marked), eval loss, learning rate, grad norm."""
    fig, axes = _figure(2, 2, (12, 7.5))
    (loss_ax, eval_ax), (lr_ax, gn_ax) = axes
    steps, losses = _series(log, "loss")
    ok = [(s, v) for s, v in zip(steps, losses, strict=True) if math.isfinite(v)]
    if ok:
        loss_ax.plot(steps, losses, color=COLORS[0], alpha=0.25, lw=1, label="train loss (raw)")
        loss_ax.plot(steps, ema(losses), color=COLORS[0], lw=2, label="train loss (smoothed)")
        bad = [s for s, v in zip(steps, losses, strict=True) if not math.isfinite(v)]
        for s in bad[:1]:
            loss_ax.axvline(s, color="red", ls=":", label=f"first NaN (step {s})")
    else:
        _empty(loss_ax, "no train loss logged yet")
    ev = [(p.step, p.loss) for p in log.evals if p.loss is not None and math.isfinite(p.loss)]
    for ax in (loss_ax, eval_ax):
        if ev:
            ax.plot(*zip(*ev, strict=True), "o-" if ax is eval_ax else "o", color=COLORS[1], ms=5,
                    lw=1.5, label="eval loss")
        if summary.best_eval_step is not None:
            ax.plot([summary.best_eval_step], [summary.best_eval_loss], marker="*", ms=16, color="gold",
                    mec="black", ls="none", zorder=5,
                    label=f"best: {summary.best_checkpoint or 'step ' + str(summary.best_eval_step)}")
    if not ev:
        _empty(eval_ax, "no evaluation logged")
    loss_ax.set(title="Train loss", xlabel="step", ylabel="loss")
    eval_ax.set(title="Eval loss", xlabel="step", ylabel="eval loss")
    for s, vals, ax, title, color in ((*_series(log, "learning_rate"), lr_ax, "Learning rate", COLORS[2]),
                                      (*_series(log, "grad_norm"), gn_ax, "Grad norm", COLORS[3])):
        if vals:
            ax.plot(s, vals, color=color, lw=1.5)
        else:
            _empty(ax, f"no {title.lower()} logged")
        ax.set(title=title, xlabel="step", ylabel=title.lower())
    from matplotlib.ticker import MaxNLocator

    for ax in (loss_ax, eval_ax, gn_ax):
        ax.ticklabel_format(axis="y", useOffset=False)
    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    for ax in (loss_ax, eval_ax):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=9)
    fig.suptitle(_title(summary), fontsize=13)
    return _save(fig, path)


def _title(s: RunSummary) -> str:
    parts = [s.name, f"step {s.step}" + (f"/{s.max_steps}" if s.max_steps else ""), s.status]
    if s.global_batch:
        parts.append(f"global batch {s.global_batch}")
    if s.learning_rate:
        parts.append(f"lr {s.learning_rate:.3g}")
    return " · ".join(parts)


def plot_compare(runs: list[tuple[RunSummary, RunLog]], path: Path) -> Path:
    """Overlaid train loss (raw faint + smoothed) and eval loss per run, by epoch so different batches compare."""
    fig, axes = _figure(1, 2, (13, 5.5))
    train_ax, eval_ax = axes[0]
    by_epoch = all(p.epoch is not None for _, log in runs for p in log.train + log.evals)
    unit = "epoch" if by_epoch else "step"
    for i, (s, log) in enumerate(runs):
        color = COLORS[i % len(COLORS)]
        label = s.name + (f" (batch {s.global_batch}, lr {s.learning_rate:.2g})" if s.global_batch and
                          s.learning_rate else "")
        pts = [p for p in log.train if p.loss is not None]
        xs = [p.epoch if by_epoch else p.step for p in pts]
        ys = [p.loss for p in pts]
        if pts:
            train_ax.plot(xs, ys, color=color, alpha=0.2, lw=1)
            train_ax.plot(xs, ema(ys), color=color, lw=2, label=label)
        ev = [(p.epoch if by_epoch else p.step, p.loss) for p in log.evals if p.loss is not None]
        if ev:
            eval_ax.plot(*zip(*ev, strict=True), "o-", color=color, ms=5, label=label)
    train_ax.set(title="Train loss (smoothed over raw)", xlabel=unit, ylabel="loss")
    eval_ax.set(title="Eval loss", xlabel=unit, ylabel="eval loss")
    for ax in (train_ax, eval_ax):
        ax.ticklabel_format(axis="y", useOffset=False)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=9)
        else:
            _empty(ax, "nothing logged")
    fig.suptitle(f"Comparison of {len(runs)} runs", fontsize=13)
    return _save(fig, path)
