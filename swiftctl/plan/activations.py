"""Activation memory: the tensors autograd saves for backward, per token, derived from the HF module code.

Every entry is one saved tensor of one decoder layer (elements per token × bytes), following what PyTorch's autograd
saves for each op: ``linear``/``mm`` saves its input only when the weight is trainable; ``mul(a, b)`` saves ``a`` only
when ``b`` needs a gradient; ``softmax``/``log_softmax``/``silu`` save their output/input. docs/plan.md has the walk
through Qwen2DecoderLayer (RMSNorm → q/k/v → RoPE → attention → o_proj → RMSNorm → SwiGLU MLP).
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftctl.plan.arch import DTYPE_BYTES, Arch
from swiftctl.plan.setup import Setup, lora_modules

FP32 = 4


@dataclass(frozen=True)
class Saved:
    name: str
    bytes_per_token: float
    per_seq_len: bool = False   # bytes_per_token × s (the eager attention s² scores)


def _norm(arch: Arch, e: int, trainable_weight: bool, out_needed: bool, liger: bool, tag: str) -> list[Saved]:
    """RMSNorm: x.to(fp32) → pow/mean → rsqrt → x*rstd → .to(dtype) → weight * y."""
    h = arch.hidden
    if liger:  # LigerRMSNorm saves X (model dtype) and rstd (fp32)
        out = [Saved(f"{tag}.input", e * h), Saved(f"{tag}.rstd", FP32)]
    else:
        out = [Saved(f"{tag}.x_fp32", FP32 * h), Saved(f"{tag}.rstd", FP32)]
        if trainable_weight:
            out.append(Saved(f"{tag}.y", e * h))  # weight * y saves y only when the weight is trained
    if out_needed:
        out.append(Saved(f"{tag}.out (linear input)", e * h))
    return out


def layer_saved(arch: Arch, s: Setup, *, masked_batch: bool, cpu: bool = False) -> list[Saved]:
    """Saved tensors of one decoder layer, without gradient checkpointing.

    ``cpu``: PyTorch's CPU dropout saves a noise tensor in the input dtype where CUDA's fused kernel saves a bool mask.
    """
    e = DTYPE_BYTES[s.dtype]
    full = s.tuner == "full"  # base linear layers save their input only when their weight is trained
    q, kv, i, nh = arch.q_dim, arch.kv_dim, arch.intermediate, arch.heads
    out = _norm(arch, e, full, full, s.liger, "ln1")
    if arch.qk_norm:  # Qwen3 q_norm/k_norm on head_dim
        out += [Saved("q_norm.x_fp32", FP32 * q), Saved("k_norm.x_fp32", FP32 * kv),
                Saved("q_norm.rstd", FP32 * nh), Saved("k_norm.rstd", FP32 * arch.kv_heads)]
    # RoPE: q*cos + rotate_half(q)*sin saves only cos/sin (shared by all layers, counted once per model)
    if s.attn == "eager":  # q·k^T, softmax in fp32, .to(dtype), probs·v; dropout(p=0) returns its input
        out += [Saved("attn.q", e * q), Saved("attn.k_repeated", e * q), Saved("attn.v_repeated", e * q),
                Saved("attn.softmax_fp32", FP32 * nh, per_seq_len=True)]
        if e != FP32:
            out.append(Saved("attn.probs", e * nh, per_seq_len=True))
        if full:
            out.append(Saved("o_proj.input (contiguous copy)", e * q))
    else:  # flash / memory-efficient kernels: q, k, v, out, logsumexp; o_proj's input is a view of out
        repeat = s.attn == "sdpa" and masked_batch  # a padding mask makes HF repeat k/v to all heads for sdpa
        kv_saved = q if repeat else kv
        out += [Saved("attn.q", e * q), Saved("attn.k", e * kv_saved), Saved("attn.v", e * kv_saved),
                Saved("attn.out (= o_proj input)", e * q), Saved("attn.logsumexp_fp32", FP32 * nh)]
    out += _norm(arch, e, full, full, s.liger, "ln2")
    if s.liger:  # LigerSiLUMulFunction saves gate and up, recomputes silu in backward
        out += [Saved("mlp.gate", e * i), Saved("mlp.up", e * i)]
    else:
        out += [Saved("mlp.gate", e * i), Saved("mlp.silu", e * i), Saved("mlp.up", e * i)]
    if full:
        out.append(Saved("down_proj.input", e * i))
    if not full:
        out += _lora_saved(arch, s, e, cpu)
    return out


def _lora_saved(arch: Arch, s: Setup, e: int, cpu: bool) -> list[Saved]:
    """PEFT LoRA: x cast to the adapter dtype (fp32), dropout (output + mask), lora_A output saved by lora_B."""
    out = []
    a = FP32  # PEFT upcasts adapters to fp32 (autocast_adapter_dtype)
    targets = lora_modules(s.lora_targets)
    for name, (fan_in, _) in arch.linear_shapes().items():
        if name not in targets:
            continue
        if s.lora_dropout > 0:
            out += [Saved(f"lora.{name}.dropout_out", a * fan_in),
                    Saved(f"lora.{name}.dropout_mask", (a if cpu else 1) * fan_in)]
        elif a != e:
            out.append(Saved(f"lora.{name}.input_cast", a * fan_in))
        elif name in ("o_proj", "down_proj") or name == targets[0]:
            out.append(Saved(f"lora.{name}.input", e * fan_in))  # shared by the q/k/v (gate/up) adapters
        out.append(Saved(f"lora.{name}.A_out", a * s.lora_rank))
    return out


def model_saved(arch: Arch, s: Setup) -> list[Saved]:
    """Saved tensors outside the layers: RoPE cos/sin (shared) and the final norm."""
    e = DTYPE_BYTES[s.dtype]
    full = s.tuner == "full"
    return [Saved("rope.cos_sin", 2 * e * arch.head_dim),
            *_norm(arch, e, full, full and not s.liger, s.liger, "final_norm")]


def per_token_layer_bytes(arch: Arch, s: Setup, seq: int, *, masked_batch: bool, cpu: bool = False) -> float:
    saved = layer_saved(arch, s, masked_batch=masked_batch, cpu=cpu)
    return sum(x.bytes_per_token * (seq if x.per_seq_len else 1) for x in saved)


def activation_bytes(arch: Arch, s: Setup, tokens: int, seq: int, *, masked_batch: bool, cpu: bool = False) -> float:
    """Saved activations of a micro-batch of ``tokens`` tokens in sequences of length ``seq``.

    With gradient checkpointing every layer keeps only its input (the hidden state), and one layer at a time is
    recomputed with its full set during backward.
    """
    e = DTYPE_BYTES[s.dtype]
    layer = per_token_layer_bytes(arch, s, seq, masked_batch=masked_batch, cpu=cpu) * tokens
    rest = sum(x.bytes_per_token for x in model_saved(arch, s)) * tokens
    if s.checkpointing:
        return arch.layers * e * arch.hidden * tokens + layer + rest
    return arch.layers * layer + rest


def loss_bytes(arch: Arch, s: Setup, tokens: int) -> float:
    """Logits and loss at their peak (the backward of the loss).

    HF: logits (model dtype) → .float() → log_softmax (saved, fp32) → nll. At the start of backward three fp32
    [tokens × vocab] tensors are alive: the saved log-probs, the nll gradient and the log_softmax input gradient.
    Liger's fused linear cross-entropy never materialises them: it walks the tokens in chunks of
    next_pow2(ceil(T / ceil(V / h))) rows, holding one chunk of logits, and keeps grad_input [T × h] (and a grad
    for the output weight when it is trained).
    """
    e, v, h = DTYPE_BYTES[s.dtype], arch.vocab, arch.hidden
    if not s.liger:
        return 3 * FP32 * v * tokens
    inc = -(-v // h)
    chunk = 1 << max(0, (-(-tokens // inc) - 1).bit_length())
    head_grad = e * v * h if s.tuner == "full" else 0
    return e * chunk * v + e * h * tokens + FP32 * tokens + head_grad
