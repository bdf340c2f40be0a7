"""Model states per GPU: weights, gradients and optimizer states under single/DDP, ZeRO-0..3 (+offload) and FSDP2.

DeepSpeed's own estimators are the reference for the ZeRO cases (deepspeed/runtime/zero/stage_1_and_2.py
``estimate_zero2_model_states_mem_needs`` and stage3.py ``estimate_zero3_model_states_mem_needs``):
  ZeRO-2:            4·P + 16·P/N          (offload: 2·P)
  ZeRO-3:            4·L + 18·P/N          (offload of params and optimizer: 4·L), L = largest layer's params
Without DeepSpeed, HF Trainer's torch AdamW keeps its two moments in the parameter dtype (no fp32 master).
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftctl.plan.arch import DTYPE_BYTES, Arch
from swiftctl.plan.setup import Setup, lora_modules

ADAPTER_BYTES = 4  # PEFT upcasts LoRA adapters to fp32 (autocast_adapter_dtype=True, ms-swift keeps the default)
NF4_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # bitsandbytes nf4, blocksize 64, double-quantized absmax (fp8 + fp32/256)


@dataclass(frozen=True)
class States:
    weights: float
    gradients: float
    optimizer: float
    trainable_params: int
    frozen_params: int
    note: str                       # the sharding rule
    per_term: tuple[str, str, str]  # how weights, gradients, optimizer were counted


def lora_params(arch: Arch, s: Setup) -> int:
    shapes = arch.linear_shapes()
    return arch.layers * sum(s.lora_rank * (shapes[m][0] + shapes[m][1]) for m in lora_modules(s.lora_targets))


def frozen_weight_bytes(arch: Arch, s: Setup, e: int) -> float:
    """The frozen base of a LoRA/QLoRA run: quantized linear layers (bitsandbytes) or the model dtype."""
    linear = arch.layers * arch.layer_linear_params()
    other = arch.total_params - linear  # embeddings, head, norms, biases stay in the model dtype
    if s.quant_bits == 4:
        return linear * NF4_BITS / 8 + other * e
    if s.quant_bits == 8:
        return linear * 1 + arch.layers * sum(o for _, o in arch.linear_shapes().values()) * 4 + other * e
    return arch.total_params * e


def model_states(arch: Arch, s: Setup) -> States:
    e = DTYPE_BYTES[s.dtype]
    n, big = s.gpus, arch.largest_module_params
    if s.tuner == "full":
        pt, frozen = arch.total_params, 0.0
        te = e  # trainable params live in the model dtype
    else:
        pt, frozen = lora_params(arch, s), frozen_weight_bytes(arch, s, e)
        te = ADAPTER_BYTES
    pf = arch.total_params if s.tuner != "full" else 0
    if s.fsdp:
        # FSDP2 full_shard: every parameter sharded; one wrapped layer gathered (plus the next one prefetched)
        layer = 2 * e * big
        return States(frozen / n + te * pt / n + layer, te * pt / n + e * big, 2 * te * pt / n, pt, pf,
                      "FSDP2 full_shard", (f"{te}·P/N + 2 gathered layers (2·{e}·L)", f"{te}·P/N + {e}·L",
                                           f"2·{te}·P/N (AdamW moments in the param dtype)"))
    if s.zero is None:
        buckets = te * pt if n > 1 else 0  # DDP's gradient buckets (gradient_as_bucket_view=False)
        return States(frozen + te * pt, te * pt + buckets, 2 * te * pt, pt, pf, "DDP" if n > 1 else "single GPU",
                      (f"{te}·P", f"{te}·P" + (" + DDP gradient buckets (a second copy)" if n > 1 else ""),
                       f"2·{te}·P: torch AdamW moments in the parameter dtype"))
    w2 = 2  # DeepSpeed runs the module in bf16/fp16 and keeps fp32 masters in the optimizer
    if s.zero == 3:
        if s.offload:
            return States(2 * big, 2 * big, 0.0, pt, pf, "ZeRO-3 offload (params + optimizer on CPU)",
                          ("2·L: the gathered largest layer", "2·L", "0: on CPU"))
        base = frozen / n if s.tuner != "full" else 0.0
        return States(base + w2 * pt / n + 2 * big, 2 * pt / n + 2 * big, 14 * pt / n, pt, pf,
                      "ZeRO-3: 18·P/N + 4·L (DeepSpeed's estimator)",
                      ("2·P/N + 2·L (gathered largest layer)", "2·P/N + 2·L", "14·P/N: fp32 master + m + v (12) + 2"))
    if s.offload:
        return States(frozen + w2 * pt, 0.0, 0.0, pt, pf, "ZeRO-2 offload (gradients + optimizer on CPU)",
                      ("2·P", "0: reduced to CPU", "0: on CPU"))
    parts = n if s.zero >= 1 else 1
    return States(frozen + w2 * pt, 2 * pt, 16 * pt / parts, pt, pf,
                  f"ZeRO-{s.zero}: 4·P + 16·P/{parts} (DeepSpeed's ZeRO-2 estimator)",
                  ("2·P (bf16 module)", "2·P (bf16 gradients)", f"16·P/{parts}: fp32 master + m + v + fp32 grad partition"))
