"""Small numeric helpers over loss curves (pure Python: no numpy needed to read a log)."""

from __future__ import annotations

import math
import statistics


def smoothing_weight(n: int) -> float:
    """EMA weight that smooths a few hundred steps well and leaves a handful almost raw."""
    return max(0.0, min(0.9, 1.0 - 20.0 / max(n, 1)))


def ema(values: list[float], weight: float | None = None) -> list[float]:
    """Debiased exponential moving average (as tensorboard draws it); non-finite values pass through."""
    w = smoothing_weight(len(values)) if weight is None else weight
    out, acc, norm = [], 0.0, 0.0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        acc, norm = w * acc + (1 - w) * v, w * norm + (1 - w)
        out.append(acc / norm if norm else v)
    return out


def relative_spread(values: list[float]) -> float:
    """Std of the residuals around a straight-line fit, over the mean: noise, not the downward trend."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 3 or mean == 0:
        return 0.0
    xm = (n - 1) / 2
    slope = sum((x - xm) * (v - mean) for x, v in enumerate(values)) / sum((x - xm) ** 2 for x in range(n))
    # plain floats: statistics.pstdev works in exact fractions, far too slow over thousands of windows
    var = sum((v - (mean + slope * (x - xm))) ** 2 for x, v in enumerate(values)) / n
    return math.sqrt(var) / abs(mean)


def downsample(n: int, limit: int) -> list[int]:
    """Indices of at most ``limit`` evenly spaced points, first and last kept."""
    if n <= limit:
        return list(range(n))
    step = (n - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})
