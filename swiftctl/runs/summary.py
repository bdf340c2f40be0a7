"""One run's numbers: progress, speed, memory, final/best losses, best checkpoint; and the curves to draw."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.runs.config import RunConfig
from swiftctl.runs.logs import RunLog, finite
from swiftctl.runs.series import downsample, ema

CURVE_POINTS = 400  # points kept per curve in the JSON and the terminal plot (the PNGs use all of them)


@dataclass
class Curves:
    steps: list[int] = field(default_factory=list)
    loss: list[float | None] = field(default_factory=list)
    smoothed: list[float | None] = field(default_factory=list)
    learning_rate: list[float | None] = field(default_factory=list)
    grad_norm: list[float | None] = field(default_factory=list)
    epoch: list[float | None] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_epoch: list[float | None] = field(default_factory=list)
    eval_loss: list[float | None] = field(default_factory=list)


@dataclass
class RunSummary:
    name: str
    path: Path
    status: str  # "waiting" (nothing logged yet), "running", "finished"; "failed"/"interrupted" from the manifest
    step: int = 0
    max_steps: int | None = None
    epoch: float | None = None
    s_per_it: float | None = None
    samples_per_s: float | None = None
    peak_memory_gib: float | None = None
    elapsed_s: float | None = None
    remaining_s: float | None = None
    final_loss: float | None = None
    best_loss: float | None = None
    best_loss_step: int | None = None
    final_eval_loss: float | None = None
    best_eval_loss: float | None = None
    best_eval_step: int | None = None
    best_checkpoint: str | None = None
    last_checkpoint: str | None = None
    global_batch: int | None = None
    learning_rate: float | None = None
    partial_tail: bool = False


def _clean(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def curves(log: RunLog) -> Curves:
    train = [p for p in log.train if p.loss is not None]
    raw = [p.loss for p in train]
    smooth = ema(raw)
    keep = downsample(len(train), CURVE_POINTS)
    c = Curves(steps=[train[i].step for i in keep], loss=[_clean(raw[i]) for i in keep],
               smoothed=[_clean(smooth[i]) for i in keep], epoch=[train[i].epoch for i in keep],
               learning_rate=[_clean(train[i].learning_rate) for i in keep],
               grad_norm=[_clean(train[i].grad_norm) for i in keep])
    for p in log.evals:
        c.eval_steps.append(p.step)
        c.eval_epoch.append(p.epoch)
        c.eval_loss.append(_clean(p.loss))
    return c


def summarize(name: str, path: Path, log: RunLog, cfg: RunConfig, best_checkpoint: str | None,
              checkpoints: list[int]) -> RunSummary:
    s = RunSummary(name=name, path=path, status="finished" if log.finished else "running" if log.lines else "waiting",
                   step=log.last_step, max_steps=log.max_steps, remaining_s=log.remaining_s,
                   global_batch=cfg.global_batch, learning_rate=cfg.learning_rate, partial_tail=log.partial_tail,
                   last_checkpoint=f"checkpoint-{checkpoints[-1]}" if checkpoints else None)
    epochs = [p.epoch for p in log.train + log.evals if p.epoch is not None]
    s.epoch = max(epochs, default=None)
    if cfg.manifest_status in ("failed", "interrupted", "crashed"):
        s.status = cfg.manifest_status
    speeds = [p.speed_s_it for p in log.train if finite(p.speed_s_it)]
    s.s_per_it = statistics.median(speeds) if speeds else None
    if s.s_per_it and cfg.global_batch:
        s.samples_per_s = cfg.global_batch / s.s_per_it
    memory = [p.memory_gib for p in log.train if finite(p.memory_gib)]
    s.peak_memory_gib = max(memory, default=None)
    elapsed = [p.elapsed_s for p in log.train if p.elapsed_s is not None]
    s.elapsed_s = max(elapsed, default=None)
    train = [p for p in log.train if finite(p.loss)]
    if log.train:
        s.final_loss = log.train[-1].loss
    if train:
        best = min(train, key=lambda p: p.loss)
        s.best_loss, s.best_loss_step = best.loss, best.step
    evals = [p for p in log.evals if finite(p.loss)]
    if log.evals:
        s.final_eval_loss = log.evals[-1].loss
    if evals:
        best = min(evals, key=lambda p: p.loss)
        s.best_eval_loss, s.best_eval_step = best.loss, best.step
        if best_checkpoint is None and best.step in checkpoints:
            best_checkpoint = f"checkpoint-{best.step}"
    s.best_checkpoint = best_checkpoint
    return s
