"""The cheapest job changes that make a plan fit (or run faster), each re-planned with the same memory model.

Candidates are tried one at a time in a fixed cost order (what a change costs the run: nothing, some speed,
much speed, model quality, data). Those that fit come first, in that order; then the rest by memory saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from swiftctl.plan.arch import Arch
from swiftctl.plan.lengths import percentile
from swiftctl.plan.memory import breakdown, worst_tokens
from swiftctl.plan.report import Recommendation
from swiftctl.plan.setup import Setup


@dataclass(frozen=True)
class Candidate:
    change: str
    effect: str
    setup: Setup
    max_length: int | None = None


def candidates(s: Setup, lengths: list[int] | None) -> list[Candidate]:
    out = []
    if not s.liger:
        out.append(Candidate("train.use_liger_kernel = true", "fused linear cross-entropy (no [tokens × vocab] "
                             "logits), fused RMSNorm/SwiGLU: less memory and faster; needs liger-kernel", s.but(liger=True)))
    if not s.padding_free:
        out.append(Candidate("data.padding_free = true (model.attn_impl = \"flash_attn\")", "no pad tokens are "
                             "computed; the peak follows the real lengths; needs flash-attn",
                             s.but(padding_free=True, attn="flash_attn")))
    elif s.attn == "eager":
        out.append(Candidate("model.attn_impl = \"flash_attn\"", "no s² attention scores", s.but(attn="flash_attn")))
    if not s.checkpointing:
        out.append(Candidate("train.gradient_checkpointing = true", "keeps one hidden state per layer; ~30 % more "
                             "compute (one extra forward)", s.but(checkpointing=True)))
    if s.gpus > 1 and not s.fsdp and (s.zero is None or s.zero < 3):
        out.append(Candidate("train.deepspeed = \"zero3\"", "shards weights and gradients too; more communication",
                             s.but(zero=3, offload=False)))
    if s.zero is not None and not s.offload:
        stage = 3 if s.zero == 3 else 2
        out.append(Candidate(f"train.deepspeed = \"zero{stage}_offload\"", "optimizer (and for ZeRO-3 weights) on "
                             "CPU: much slower steps, needs host RAM", s.but(zero=stage, offload=True)))
    if s.tuner == "full":
        out.append(Candidate("tuner.type = \"lora\"", "trains adapters only: no full gradients/optimizer; a "
                             "different fine-tune (usually a higher learning rate, e.g. 1e-4)", s.but(tuner="lora")))
    elif not s.quant_bits:
        out.append(Candidate("tuner.type = \"qlora\"", "4-bit base (bitsandbytes): smaller weights, slower "
                             "matmuls, some quality loss", s.but(quant_bits=4)))
    if lengths:
        p99 = percentile(sorted(lengths), 0.99)
        if p99 < s.max_length:
            lost = sum(1 for n in lengths if n > p99)
            out.append(Candidate(f"data.max_length = {p99}", f"the data's p99: {lost} of {len(lengths)} rows "
                                 "are longer (dropped or truncated)", s.but(max_length=p99), p99))
    if s.batch > 1:
        accum = s.grad_accum * s.batch
        out.append(Candidate(f"train.per_device_batch_size = 1, train.gradient_accumulation_steps = {accum}",
                             f"same global batch ({s.global_batch}); more, smaller steps", s.but(batch=1, grad_accum=accum)))
    return out


def _peak(arch: Arch, s: Setup, lengths: list[int] | None) -> float:
    """The headline (worst-case micro-batch) peak; data lengths only propose candidates (max_length = p99)."""
    tokens, seq = worst_tokens(s)
    return breakdown(arch, s, tokens, seq).peak


def recommend(arch: Arch, s: Setup, gpu_mem: float | None, lengths: list[int] | None,
              fits: Callable[[float], bool | None]) -> list[Recommendation]:
    base = _peak(arch, s, lengths)
    recs = []
    for c in candidates(s, lengths):
        peak = _peak(arch, c.setup, lengths)
        if peak >= base - 0.01 and "faster" not in c.effect and "no pad" not in c.effect:
            continue  # neither smaller nor faster
        recs.append(Recommendation(change=c.change, per_gpu_peak_gib=round(peak, 2), saves_gib=round(base - peak, 2),
                                   fits=fits(peak), effect=c.effect))
    order = {r.change: i for i, r in enumerate(recs)}
    recs.sort(key=lambda r: (not r.fits, order[r.change] if r.fits else -r.saves_gib))
    if gpu_mem is not None and recs and not any(r.fits for r in recs):
        combined, changes = s, []
        for c in candidates(s, lengths):
            combined = _merge(combined, c.setup, s)
            changes.append(c.change)
            peak = _peak(arch, combined, lengths)
            if fits(peak):
                recs.insert(0, Recommendation(change=" + ".join(changes), per_gpu_peak_gib=round(peak, 2),
                                              saves_gib=round(base - peak, 2), fits=True,
                                              effect="no single change fits: these together, in order"))
                break
    return recs


def _merge(acc: Setup, changed: Setup, base: Setup) -> Setup:
    diff = {k: getattr(changed, k) for k in base.__dataclass_fields__ if getattr(changed, k) != getattr(base, k)}
    return acc.but(**diff)
