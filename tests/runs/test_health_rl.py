"""Stage metrics and their findings on crafted logging.jsonl files (key names as ms-swift 4.6 logs them; the real
runs in tests/launch/test_train_stages_real.py check that those keys are what it writes)."""

from __future__ import annotations

import json
from pathlib import Path

from swiftctl.runs.health_rl import assess_rl, stage_metrics


def _log(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "logging.jsonl"
    lines = [json.dumps({"loss": 0.5, "global_step/max_steps": f"{i + 1}/{len(rows)}", **r}) for i, r in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n" + json.dumps({"last_model_checkpoint": "x"}) + "\n", encoding="utf-8")
    return path


def _codes(path: Path) -> list[str]:
    return [f.code for f in assess_rl(path)[1]]


def test_sft_log_has_no_stage_metrics(tmp_path):
    assert assess_rl(_log(tmp_path, [{"token_acc": 0.5}] * 5)) == (None, [])


def test_dpo_margin_collapse(tmp_path):
    margins = [0.1, 0.8, 1.5, 0.9, 0.2, 0.01, -0.05, -0.1, -0.2]
    rows = [{"rewards/margins": m, "rewards/accuracies": 0.5 if m < 0.3 else 1.0, "rewards/chosen": 0.1,
             "rewards/rejected": 0.1 - m} for m in margins]
    path = _log(tmp_path, rows)
    m = stage_metrics(path)
    assert m.kind == "preference" and m.steps == list(range(1, 10)) and m.final["rewards/margins"] == -0.2
    assert _codes(path) == ["rl.margin-collapse"]
    healthy = [{**r, "rewards/margins": 0.2 * i, "rewards/accuracies": 1.0} for i, r in enumerate(rows)]
    assert _codes(_log(tmp_path, healthy)) == []


def test_grpo_reward_hacking_and_healthy_growth(tmp_path):
    rows = [{"reward": 0.1 * i, "reward_std": 0.3, "kl": 0.001 * 4 ** i} for i in range(9)]
    assert _codes(_log(tmp_path, rows)) == ["rl.reward-hacking"]
    calm = [{**r, "kl": 0.01 + 0.001 * i} for i, r in enumerate(rows)]
    assert _codes(_log(tmp_path, calm)) == []


def test_grpo_all_zero_reward_std(tmp_path):
    rows = [{"reward": 1.0, "reward_std": 0.0, "frac_reward_zero_std": 1.0, "rewards/Format/mean": 0.0}] * 2
    (finding,) = assess_rl(_log(tmp_path, rows))[1]
    assert finding.code == "rl.zero-reward-std" and finding.severity.value == "error"
    assert "rlhf.reward_funcs" in finding.fix
    assert _codes(_log(tmp_path, [{**rows[0], "reward_std": 0.1}, rows[0]])) == []
