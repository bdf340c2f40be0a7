"""Several runs side by side: which one reached the lowest loss, and what differs in their settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from swiftctl.runs.summary import RunSummary


@dataclass
class Comparison:
    runs: list[str]
    best_run: str | None = None      # lowest best eval loss (train loss when no run evaluated)
    metric: str = "best_eval_loss"
    differences: dict[str, list[object]] = field(default_factory=dict)  # setting -> value per run, when they differ


def compare(summaries: list[RunSummary]) -> Comparison:
    comp = Comparison(runs=[s.name for s in summaries])
    metric = "best_eval_loss" if any(s.best_eval_loss is not None for s in summaries) else "best_loss"
    scored = [(getattr(s, metric), s.name) for s in summaries if getattr(s, metric) is not None]
    comp.metric = metric
    comp.best_run = min(scored)[1] if scored else None
    for key in ("global_batch", "learning_rate", "max_steps", "s_per_it", "peak_memory_gib"):
        values = [getattr(s, key) for s in summaries]
        if len(set(values)) > 1:
            comp.differences[key] = values
    return comp
