"""Per-GPU peak memory: model states + saved activations + the loss peak + one stated framework-overhead term."""

from __future__ import annotations

from dataclasses import dataclass

from swiftctl.plan.activations import activation_bytes, loss_bytes
from swiftctl.plan.arch import Arch
from swiftctl.plan.setup import Setup
from swiftctl.plan.states import model_states

GIB = 1024 ** 3
# Framework overhead, one stated assumption (not measured here, not fitted): the CUDA context, cuBLAS/NCCL
# workspaces (a fixed 0.75 GiB) plus allocator fragmentation of 5 % of everything else (expandable segments on,
# as swiftctl sets PYTORCH_CUDA_ALLOC_CONF).
OVERHEAD_FIXED_GIB = 0.75
FRAGMENTATION = 0.05
OVERHEAD_TEXT = f"{OVERHEAD_FIXED_GIB} GiB CUDA context/workspaces + {FRAGMENTATION:.0%} allocator fragmentation (assumed)"


@dataclass(frozen=True)
class Breakdown:
    terms: dict[str, float]      # GiB
    formulas: dict[str, str]
    tokens: int
    seq: int

    @property
    def peak(self) -> float:
        return sum(self.terms.values())


def breakdown(arch: Arch, s: Setup, tokens: int, seq: int) -> Breakdown:
    """Memory of one GPU for a micro-batch of ``tokens`` tokens in sequences of up to ``seq`` tokens."""
    st = model_states(arch, s)
    masked = s.batch > 1 and not s.padding_free
    act = activation_bytes(arch, s, tokens, seq, masked_batch=masked)
    loss = loss_bytes(arch, s, tokens)
    terms = {"weights": st.weights, "gradients": st.gradients, "optimizer": st.optimizer, "activations": act,
             "logits": loss}
    terms = {k: v / GIB for k, v in terms.items()}
    terms["overhead"] = OVERHEAD_FIXED_GIB + FRAGMENTATION * sum(terms.values())
    ckpt = "checkpointed: L·e·h·T + one layer recomputed" if s.checkpointing else "all L layers saved"
    formulas = {
        "weights": f"{st.note}: {st.per_term[0]}, P = {st.trainable_params:,} trainable" + (
            f"; frozen base {st.frozen_params:,}" + (f" at {s.quant_bits}-bit" if s.quant_bits else f" in {s.dtype}")
            if st.frozen_params else ""),
        "gradients": st.per_term[1],
        "optimizer": st.per_term[2],
        "activations": f"saved tensors per layer × {tokens:,} tokens ({s.attn}; {ckpt})",
        "logits": ("liger fused linear cross-entropy: one chunk of logits + grad_input" if s.liger
                   else "3 fp32 [tokens × vocab] tensors at the loss backward (log-probs, their grad, input grad)"),
        "overhead": OVERHEAD_TEXT,
    }
    return Breakdown({k: round(v, 3) for k, v in terms.items()}, formulas, tokens, seq)


def worst_tokens(s: Setup) -> tuple[int, int]:
    """(tokens, longest sequence) of the job's largest possible micro-batch: batch × max_length."""
    return s.batch * s.max_length, s.max_length


def expected_tokens(s: Setup, lengths: list[int]) -> tuple[int, int]:
    """The largest micro-batch the real data produces: padded to its longest row, or the b longest rows flat."""
    capped = sorted(min(n, s.max_length) for n in lengths)
    longest = capped[-1]
    if s.packing:
        return s.batch * s.max_length, s.max_length
    if s.padding_free:
        return sum(capped[-s.batch:]), longest
    return s.batch * longest, longest
