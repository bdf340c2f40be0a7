"""Training health: each finding carries the numbers behind it and what to change in the job file.

Job TOML keys named in fixes: ``train.learning_rate``, ``train.gradient_accumulation_steps``,
``train.per_device_batch_size``, ``resources.gpus_per_node``, ``resources.nodes``, ``train.num_train_epochs``,
``train.warmup_ratio`` (swiftctl/jobs/schema.py).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from swiftctl.envcheck.findings import Finding, Severity
from swiftctl.runs.config import RunConfig
from swiftctl.runs.logs import RunLog, finite
from swiftctl.runs.series import ema, relative_spread

TARGET_GLOBAL_BATCH = 32  # a global batch where SFT loss curves usually stop jumping


@dataclass(frozen=True)
class HealthFinding(Finding):
    step: int | None = None  # where it shows (first NaN, the eval minimum, the worst window...)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    window: int = 20            # train points per oscillation window
    min_points: int = 8         # fewer train points than this: no trend/oscillation verdict yet
    oscillation: float = 0.15   # relative spread (residual std / mean) above which loss "oscillates"
    patience: int = 2           # evaluations above the eval-loss minimum before calling it overfitting
    rise: float = 0.005         # ...and the last one at least this much (relative) above the minimum
    min_improvement: float = 0.02  # loss must fall at least 2 % from the first to the last window
    spike: float = 10.0         # grad norm above spike × median of the preceding window
    diverge: float = 1.5        # smoothed loss ends above diverge × its minimum


def _g(x: float | None) -> str:
    return "?" if x is None else f"{x:.4g}"


def check_nan(log: RunLog) -> list[HealthFinding]:
    bad = [p for p in log.train if (p.loss is not None and not math.isfinite(p.loss))
           or (p.grad_norm is not None and not math.isfinite(p.grad_norm))]
    bad += [p for p in log.evals if p.loss is not None and not math.isfinite(p.loss)]
    if not bad:
        return []
    first = min(bad, key=lambda p: p.step)
    return [HealthFinding(
        "health.nan", Severity.ERROR,
        f"loss or grad norm is NaN/inf at {len(bad)} logged step(s), first at step {first.step}",
        "once a NaN reaches the weights every later step is garbage; usually a learning rate too high for the "
        "precision, or an empty/over-long sample",
        "lower train.learning_rate (e.g. ÷10), keep bf16 rather than fp16, and run `swiftctl data check` on the "
        "dataset; resume from the last checkpoint before the NaN",
        step=first.step, evidence={"nan_steps": [p.step for p in bad][:20], "count": len(bad)})]


def check_divergence(log: RunLog, t: Thresholds, cfg: RunConfig) -> list[HealthFinding]:
    losses = [p.loss for p in log.train if finite(p.loss)]
    if len(losses) < t.min_points:
        return []
    smooth = ema(losses)
    low, last = min(smooth), smooth[-1]
    if last <= t.diverge * low or last <= smooth[0]:
        return []
    return [HealthFinding(
        "health.divergence", Severity.ERROR,
        f"loss diverges: smoothed loss {last:.4g} now, {last / low:.2f}× its minimum {low:.4g}",
        "the optimizer is overshooting; training further makes the model worse",
        f"lower train.learning_rate (now {_g(cfg.learning_rate)}) by 2–10×, or raise train.warmup_ratio",
        step=log.train[-1].step, evidence={"smoothed_last": last, "smoothed_min": low, "ratio": last / low})]


def check_oscillation(log: RunLog, t: Thresholds, cfg: RunConfig) -> list[HealthFinding]:
    points = [p for p in log.train if finite(p.loss)]
    if len(points) < t.min_points:
        return []
    w = min(t.window, len(points))
    spreads = [(relative_spread([p.loss for p in points[i:i + w]]), i) for i in range(0, len(points) - w + 1)]
    typical = statistics.median(s for s, _ in spreads)
    if typical <= t.oscillation:
        return []
    worst, at = max(spreads)
    batch = cfg.batch_formula()
    fix = f"raise the effective global batch (now {batch}; from {cfg.source}) to ≥ {TARGET_GLOBAL_BATCH}"
    if cfg.global_batch:
        per_step = (cfg.per_device_batch or 1) * (cfg.world_size or 1)
        fix += f": set train.gradient_accumulation_steps = {max(1, math.ceil(TARGET_GLOBAL_BATCH / per_step))}"
    fix += (f" (or raise train.per_device_batch_size, or add GPUs via resources.gpus_per_node), or lower train.learning_rate "
            f"(now {_g(cfg.learning_rate)}) by 2–5×")
    return [HealthFinding(
        "health.oscillation", Severity.WARNING,
        f"loss oscillates: relative spread {typical:.0%} over {w}-step windows (threshold {t.oscillation:.0%}; "
        f"worst {worst:.0%} at steps {points[at].step}–{points[at + w - 1].step})",
        f"likely cause: effective global batch {batch} is too small for this learning rate, so each step "
        "follows a few samples' gradient",
        fix, step=points[at].step,
        evidence={"relative_spread": typical, "worst": worst, "window": w, "threshold": t.oscillation,
                  "global_batch": cfg.global_batch, "learning_rate": cfg.learning_rate})]


def check_overfitting(log: RunLog, t: Thresholds, cfg: RunConfig, checkpoints: list[int]) -> list[HealthFinding]:
    evals = [p for p in log.evals if finite(p.loss)]
    if len(evals) < t.patience + 1:
        return []
    best_i = min(range(len(evals)), key=lambda i: evals[i].loss)
    best, after = evals[best_i], evals[best_i + 1:]
    if len(after) < t.patience or after[-1].loss < best.loss * (1 + t.rise):
        return []
    keep = next((s for s in checkpoints if s == best.step), None)
    nearest = min(checkpoints, key=lambda s: abs(s - best.step), default=None)
    ckpt = f"checkpoint-{keep}" if keep is not None else (
        f"no checkpoint at step {best.step}; nearest is checkpoint-{nearest}" if nearest is not None else
        f"no checkpoint was saved (eval minimum at step {best.step})")
    epoch = math.ceil(best.epoch) if best.epoch else None
    fix = f"keep {ckpt}; set train.num_train_epochs = {epoch or '?'} (now {_g(cfg.num_train_epochs)})"
    return [HealthFinding(
        "health.overfitting", Severity.WARNING,
        f"eval loss rose for {len(after)} evaluations after its minimum {best.loss:.4g} at step {best.step} "
        f"(now {after[-1].loss:.4g}, +{after[-1].loss / best.loss - 1:.1%})",
        "the model is memorising the training set: later checkpoints generalise worse (too many epochs)",
        fix + ", or use more/more varied data",
        step=best.step, evidence={"best_eval_loss": best.loss, "best_step": best.step, "best_epoch": best.epoch,
                                  "last_eval_loss": after[-1].loss, "evals_after": len(after),
                                  "checkpoint": f"checkpoint-{keep}" if keep is not None else None})]


def check_not_decreasing(log: RunLog, t: Thresholds, cfg: RunConfig) -> list[HealthFinding]:
    losses = [p.loss for p in log.train if finite(p.loss)]
    if len(losses) < t.min_points:
        return []
    k = max(2, len(losses) // 5)
    first, last = statistics.fmean(losses[:k]), statistics.fmean(losses[-k:])
    if last < first * (1 - t.min_improvement):
        return []
    return [HealthFinding(
        "health.not-decreasing", Severity.WARNING,
        f"loss is not decreasing: mean of the first {k} steps {first:.4g}, of the last {k} {last:.4g}",
        "nothing is being learned: learning rate too low, labels masked out, or the wrong template",
        f"raise train.learning_rate (now {_g(cfg.learning_rate)}); check the label mask with "
        "`swiftctl data check`",
        step=log.train[-1].step, evidence={"first_mean": first, "last_mean": last, "window": k})]


def check_grad_spikes(log: RunLog, t: Thresholds, cfg: RunConfig) -> list[HealthFinding]:
    points = [p for p in log.train if finite(p.grad_norm)]
    w = max(3, t.window // 2)
    spikes = []
    for i in range(w, len(points)):
        ref = statistics.median(p.grad_norm for p in points[i - w:i])
        if ref > 0 and points[i].grad_norm > t.spike * ref:
            spikes.append((points[i].step, points[i].grad_norm / ref))
    if not spikes:
        return []
    step, ratio = max(spikes, key=lambda s: s[1])
    return [HealthFinding(
        "health.grad-spike", Severity.WARNING,
        f"{len(spikes)} grad-norm spike(s) above {t.spike:g}× the running median; worst {ratio:.0f}× at step {step}",
        "spikes precede loss jumps and NaNs; clipping hides them only partly",
        f"lower train.learning_rate (now {_g(cfg.learning_rate)}) and raise train.warmup_ratio; keep ms-swift's "
        f"max_grad_norm clipping at 1.0 (now {_g(cfg.max_grad_norm)})",
        step=step, evidence={"spikes": [s for s, _ in spikes][:20], "worst_ratio": ratio})]


def skipped_lines(log: RunLog) -> list[HealthFinding]:
    if not log.skipped:
        return []
    first = log.skipped[0]
    return [HealthFinding(
        "log.skipped-lines", Severity.WARNING,
        f"skipped {len(log.skipped)} unreadable line(s) in logging.jsonl; first at {log.path}:{first.line}: "
        f"{first.reason}", "a line written over by another process or a disk error; the rest was read",
        f"inspect it: sed -n {first.line}p {log.path}", evidence={"lines": [s.line for s in log.skipped][:20]})]


def assess(log: RunLog, cfg: RunConfig, checkpoints: list[int], t: Thresholds | None = None) -> list[HealthFinding]:
    """All findings, errors first."""
    t = t or Thresholds()
    found = (check_nan(log) + check_divergence(log, t, cfg) + check_oscillation(log, t, cfg)
             + check_overfitting(log, t, cfg, checkpoints) + check_not_decreasing(log, t, cfg)
             + check_grad_spikes(log, t, cfg) + skipped_lines(log))
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(found, key=lambda f: order[f.severity])
