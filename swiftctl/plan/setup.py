"""The training setup the planner needs, resolved from a job with ms-swift 4.6's defaults for unset keys."""

from __future__ import annotations

from dataclasses import dataclass, replace

from swiftctl.jobs.schema import Job
from swiftctl.plan.arch import LINEAR, Arch

# ms-swift 4.6 defaults (swift/trainers/arguments.py, swift/arguments/tuner_args.py).
DEFAULT_CHECKPOINTING = True
DEFAULT_LORA_RANK = 8
DEFAULT_TARGETS = ("all-linear",)
DEFAULT_LORA_DROPOUT = 0.05


@dataclass(frozen=True)
class Setup:
    tuner: str                   # "full" | "lora"
    quant_bits: int | None       # bitsandbytes base (QLoRA) or None
    lora_rank: int
    lora_targets: tuple[str, ...]
    lora_dropout: float
    dtype: str                   # "bfloat16" | "float16" | "float32"
    batch: int                   # per-device micro-batch (sequences)
    grad_accum: int
    gpus: int                    # processes (GPUs) in total
    max_length: int
    packing: bool
    padding_free: bool
    checkpointing: bool
    attn: str                    # "sdpa" | "flash_attn" | "eager"
    liger: bool
    zero: int | None             # DeepSpeed stage, None without DeepSpeed
    offload: bool                # DeepSpeed *_offload preset (optimizer, and for ZeRO-3 also params, on CPU)
    fsdp: bool

    @property
    def sharding(self) -> str:
        if self.fsdp:
            return "fsdp2 (full_shard)"
        if self.zero is not None:
            return f"zero{self.zero}" + ("_offload" if self.offload else "")
        return "ddp" if self.gpus > 1 else "single"

    @property
    def global_batch(self) -> int:
        return self.batch * self.grad_accum * self.gpus

    def but(self, **changes) -> Setup:
        return replace(self, **changes)


def lora_modules(targets: tuple[str, ...]) -> tuple[str, ...]:
    """Decoder linear layers a LoRA target list hits (all-linear: every linear layer but the output head)."""
    if "all-linear" in targets:
        return LINEAR
    return tuple(m for m in LINEAR if m in targets)


def from_job(job: Job, arch: Arch, *, gpus: int | None = None) -> Setup:
    t, tr, d, r = job.tuner, job.train, job.data, job.resources
    ds = tr.deepspeed or ""
    attn = job.model.attn_impl or "sdpa"
    return Setup(
        tuner="full" if t.type == "full" else "lora", quant_bits=t.bits,
        lora_rank=t.lora_rank or DEFAULT_LORA_RANK, lora_targets=tuple(t.target_modules or DEFAULT_TARGETS),
        lora_dropout=DEFAULT_LORA_DROPOUT if t.lora_dropout is None else t.lora_dropout,
        dtype=job.model.torch_dtype or arch.dtype, batch=tr.per_device_batch_size,
        grad_accum=tr.gradient_accumulation_steps or 1,
        gpus=gpus or (max(r.gpus_per_node, 1) * r.nodes if r.device == "cuda" else 1),
        max_length=d.max_length or arch.max_positions or 2048, packing=d.packing,
        padding_free=d.padding_free or d.packing,
        # ms-swift's fsdp2 preset checkpoints activations itself (fsdp_config.activation_checkpointing)
        checkpointing=True if tr.fsdp else (DEFAULT_CHECKPOINTING if tr.gradient_checkpointing is None
                                            else tr.gradient_checkpointing),
        attn="flash_attn" if attn.startswith("flash") else attn, liger=bool(tr.use_liger_kernel),
        zero=int(ds[4]) if ds else None, offload=ds.endswith("_offload"), fsdp=tr.fsdp is not None)
