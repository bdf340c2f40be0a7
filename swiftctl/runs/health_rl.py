"""Preference/RL stage metrics from ``logging.jsonl`` and their health findings.

Keys as ms-swift 4.6 logs them (trl's DPO/KTO/CPO trainers and swift/rlhf_trainers/grpo_trainer.py):
- preference stages: ``rewards/chosen``, ``rewards/rejected``, ``rewards/margins``, ``rewards/accuracies``;
- GRPO: ``reward`` (mean over completions), ``reward_std``, ``frac_reward_zero_std``, ``kl`` (with beta > 0),
  ``rewards/<RewardClass>/mean`` per reward function (``rewards/SwiftctlPersona/mean`` for swiftctl_persona).
Findings: margin collapse (DPO), reward hacking (reward up while KL explodes), all-zero reward std (GRPO: every
group scored alike, so every advantage is 0 and nothing is learned).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.envcheck.findings import Severity
from swiftctl.runs.health import HealthFinding
from swiftctl.runs.logs import number

PREFERENCE_KEYS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")
GRPO_KEYS = ("reward", "reward_std", "frac_reward_zero_std", "kl")


@dataclass
class StageMetrics:
    kind: str  # "preference" | "grpo"
    steps: list[int] = field(default_factory=list)
    series: dict[str, list[float | None]] = field(default_factory=dict)  # key -> one value per step (None: absent)

    def values(self, key: str) -> list[float]:
        return [v for v in self.series.get(key, []) if v is not None and math.isfinite(v)]

    @property
    def final(self) -> dict[str, float]:
        return {k: vals[-1] for k in self.series if (vals := self.values(k))}


def _wanted(key: str) -> bool:
    return key in PREFERENCE_KEYS or key in GRPO_KEYS or (key.startswith("rewards/") and key.endswith(("/mean", "/std")))


def stage_metrics(logging: Path) -> StageMetrics | None:
    """The stage metrics of one run's logging.jsonl (train lines only), or None for an SFT run."""
    try:
        lines = Path(logging).read_bytes().splitlines()
    except OSError:
        return None
    rows: list[tuple[int, dict[str, float | None]]] = []
    for i, raw in enumerate(lines, 1):
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(obj, dict) or "loss" not in obj:
            continue
        picked = {k: number(v) for k, v in obj.items() if _wanted(k)}
        if picked:
            step = str(obj.get("global_step/max_steps", "")).partition("/")[0]
            rows.append((int(step) if step.isdigit() else i, picked))
    if not rows:
        return None
    keys = sorted({k for _, r in rows for k in r})
    kind = "grpo" if "reward" in keys else "preference"
    return StageMetrics(kind, [s for s, _ in rows], {k: [r.get(k) for _, r in rows] for k in keys})


def _thirds(values: list[float]) -> tuple[float, float]:
    n = max(1, len(values) // 3)
    return statistics.fmean(values[:n]), statistics.fmean(values[-n:])


def check_zero_reward_std(m: StageMetrics, min_points: int = 2) -> list[HealthFinding]:
    std = m.values("reward_std")
    if m.kind != "grpo" or len(std) < min_points or any(abs(s) > 1e-9 for s in std):
        return []
    return [HealthFinding(
        "rl.zero-reward-std", Severity.ERROR,
        f"reward std is 0 at all {len(std)} logged steps: every completion of a prompt got the same reward",
        "GRPO's advantage is (reward - group mean) / std: with identical rewards it is 0 and the policy never moves",
        "use a reward that separates completions (rlhf.reward_funcs; check its columns with `swiftctl data check "
        "--stage grpo`), raise rlhf.temperature or rlhf.num_generations for more varied completions",
        step=m.steps[-1], evidence={"reward_std": std[-10:]})]


def check_reward_hacking(m: StageMetrics, min_points: int = 4, kl_growth: float = 10.0,
                         kl_floor: float = 0.05) -> list[HealthFinding]:
    reward, kl = m.values("reward"), m.values("kl")
    if m.kind != "grpo" or len(reward) < min_points or len(kl) < min_points:
        return []
    (r0, r1), (k0, k1) = _thirds(reward), _thirds(kl)
    if not (r1 > r0 and k1 > kl_floor and k1 > kl_growth * max(k0, 1e-6)):
        return []
    return [HealthFinding(
        "rl.reward-hacking", Severity.WARNING,
        f"reward rose {r0:.3g} → {r1:.3g} while KL to the reference grew {k0:.3g} → {k1:.3g}",
        "the policy is drifting far from the reference to please the reward: often a loophole in the reward "
        "function rather than a better persona",
        "read some completions (rlhf.log_completions = true), tighten the reward, and raise rlhf.beta "
        "(KL penalty)", step=m.steps[-1], evidence={"reward": [r0, r1], "kl": [k0, k1]})]


def check_margin_collapse(m: StageMetrics, min_points: int = 4) -> list[HealthFinding]:
    margins, acc = m.values("rewards/margins"), m.values("rewards/accuracies")
    if m.kind != "preference" or len(margins) < min_points:
        return []
    peak = max(margins)
    _first, last = _thirds(margins)
    final_acc = acc[-1] if acc else None
    if not (peak > 0 and last <= 0.1 * peak and (final_acc is None or final_acc <= 0.6)):
        return []
    return [HealthFinding(
        "rl.margin-collapse", Severity.WARNING,
        f"reward margin (chosen - rejected) fell from a peak of {peak:.3g} to {last:.3g}"
        + (f"; accuracy {final_acc:.2f}" if final_acc is not None else ""),
        "the model no longer prefers the chosen answers: a learning rate too high for DPO, or chosen and "
        "rejected answers that are too alike",
        "lower train.learning_rate (DPO usually 5e-7..5e-6), raise rlhf.beta, and check the pairs with "
        "`swiftctl data check --stage dpo`", step=m.steps[-1], evidence={"peak": peak, "last": last})]


def assess_rl(logging: Path) -> tuple[StageMetrics | None, list[HealthFinding]]:
    m = stage_metrics(logging)
    if m is None:
        return None, []
    return m, check_zero_reward_std(m) + check_reward_hacking(m) + check_margin_collapse(m)
