"""Crafted ms-swift run dirs with known curves (the real format: string steps, eval lines, a summary line)."""

from __future__ import annotations

import json
import math
from pathlib import Path


def train_line(step: int, max_steps: int, loss: float, grad_norm: float = 1.0, lr: float = 1e-4) -> dict:
    return {"loss": loss, "grad_norm": grad_norm, "learning_rate": lr, "token_acc": 0.5, "epoch": step / 100,
            "global_step/max_steps": f"{step}/{max_steps}", "elapsed_time": f"{step}s", "remaining_time": "1m 2s",
            "memory(GiB)": 3.5 + step / 1000, "train_speed(s/it)": 0.5}


def eval_line(step: int, max_steps: int, loss: float) -> dict:
    return {"eval_loss": loss, "eval_runtime": 0.2, "eval_token_acc": 0.4, "epoch": step / 100,
            "global_step/max_steps": f"{step}/{max_steps}", "elapsed_time": f"{step}s", "remaining_time": "0s"}


def make_run(root: Path, lines: list, *, args: dict | None = None, checkpoints: tuple[int, ...] = (),
             tail: str = "", manifest: dict | None = None, name: str = "v0-20260101-000000") -> Path:
    """root/name/ with args.json, logging.jsonl (lines: dicts or raw strings) and empty checkpoint-N dirs."""
    run = root / name
    run.mkdir(parents=True)
    base = {"per_device_train_batch_size": 1, "gradient_accumulation_steps": 1, "global_world_size": 8,
            "learning_rate": 1e-4, "num_train_epochs": 3.0, "max_grad_norm": 1.0}
    (run / "args.json").write_text(json.dumps({**base, **(args or {})}))
    text = "".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines) + tail
    (run / "logging.jsonl").write_text(text)
    for step in checkpoints:
        (run / f"checkpoint-{step}").mkdir()
    if manifest is not None:
        (run / "swiftctl-manifest.json").write_text(json.dumps(manifest))
    return run


def decreasing(n: int = 60, noise: float = 0.01) -> list[float]:
    return [2.0 * math.exp(-i / 25) + 0.5 + noise * ((-1) ** i) for i in range(n)]


def oscillating(n: int = 60) -> list[float]:
    return [2.0 * math.exp(-i / 25) + 0.8 + 0.45 * ((-1) ** i) * (1 + (i % 3) / 2) for i in range(n)]


def lines_for(losses: list[float], evals: dict[int, float] | None = None, grad=None) -> list[dict]:
    n, out = len(losses), []
    for i, loss in enumerate(losses, start=1):
        out.append(train_line(i, n, loss, grad_norm=grad(i) if grad else 1.0))
        if evals and i in evals:
            out.append(eval_line(i, n, evals[i]))
    return out


def overfitting() -> tuple[list[float], dict[int, float]]:
    """Train loss keeps falling; eval loss bottoms out at step 30 (1.10) and climbs for 3 evaluations."""
    return decreasing(60), {10: 1.6, 20: 1.3, 30: 1.10, 40: 1.18, 50: 1.27, 60: 1.35}
