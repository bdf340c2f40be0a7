"""Steps, tokens and wall time: (model FLOPs + attention FLOPs) / (GPUs × peak bf16 × an assumed MFU)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from swiftctl.plan.arch import Arch
from swiftctl.plan.setup import Setup

MFU = 0.35  # assumed model-FLOPs utilisation (stated, not fitted)


@dataclass(frozen=True)
class Timing:
    tokens_per_step: int
    steps_per_epoch: int | None
    total_steps: int | None
    flops_per_token: float
    wall_hours: float | None
    step_seconds: float | None
    assumption: str
    waste: float | None
    waste_free: float | None
    rows: int | None


def flops_per_token(arch: Arch, s: Setup, seq: float) -> float:
    """Training FLOPs per token: 6·N (full) or 4·N (LoRA: no weight gradients for the frozen base), plus attention
    12·L·d_attn·s (PaLM, appendix B); gradient checkpointing adds one more forward (2·N + 4·L·d_attn·s)."""
    n = arch.matmul_params
    attn_fwd = 4 * arch.layers * arch.q_dim * seq
    fwd = 2 * n + attn_fwd
    bwd = (4 * n if s.tuner == "full" else 2 * n) + 2 * attn_fwd
    return fwd + bwd + (fwd if s.checkpointing else 0)


def padded_tokens(lengths: list[int], batch: int, max_length: int, seed: int = 42) -> tuple[int, int]:
    """(computed, real) tokens of one epoch in random micro-batches padded to their longest row."""
    capped = [min(n, max_length) for n in lengths]
    random.Random(seed).shuffle(capped)
    computed = sum(max(capped[i:i + batch]) * len(capped[i:i + batch]) for i in range(0, len(capped), batch))
    return computed, sum(capped)


def timing(arch: Arch, s: Setup, *, lengths: list[int] | None, epochs: float | None, max_steps: int | None,
           tflops: float | None) -> Timing:
    waste = waste_free = None
    rows = len(lengths) if lengths else None
    if lengths:
        computed, real = padded_tokens(lengths, s.batch, s.max_length)
        waste = round(100 * (computed - real) / computed, 2)
        waste_free = 0.0
        epoch_tokens = real if s.padding_free else computed
        seq = sum(min(n, s.max_length) ** 2 for n in lengths) / max(real, 1)  # token-weighted attention span
        units = -(-real // s.max_length) if s.packing else len(lengths)
        steps = max(1, -(-units // (s.batch * s.gpus * s.grad_accum)))
        tokens_per_step = epoch_tokens // steps
    else:
        seq, steps, tokens_per_step = s.max_length, None, s.global_batch * s.max_length
    total = max_steps or (round(steps * epochs) if steps and epochs else None)
    fpt = flops_per_token(arch, s, seq)
    wall = step = None
    if tflops:
        step = tokens_per_step * fpt / (s.gpus * tflops * 1e12 * MFU)
        wall = total * step / 3600 if total else None
    assumption = (f"{MFU:.0%} MFU of {tflops} TFLOPS peak dense bf16 per GPU × {s.gpus} GPUs" if tflops
                  else "no GPU throughput known (give --gpu NAME)")
    return Timing(int(tokens_per_step), steps, total, fpt, None if wall is None else round(wall, 2),
                  None if step is None else round(step, 3), assumption,
                  waste, waste_free, rows)
