"""Predicted (swiftctl plan) vs measured (torch on CPU) model-state and activation bytes.

Measured here, on CPU, with real HF Qwen2 models built from configs (random weights, no download):
- parameters, gradients and AdamW state bytes after one real optimizer step (torch.optim.AdamW, as HF Trainer);
- activations: every tensor autograd saves for backward during a real forward + loss, collected with
  torch.autograd.graph.saved_tensors_hooks and counted once per storage (parameters excluded).
The saved set includes the loss's log-probs [T × V] fp32 (tensors whose last dim is the vocabulary), compared with the
saved part of the plan's "logits" term. Not measurable on CPU: CUDA context, allocator fragmentation, the loss-backward
transient, DeepSpeed/FSDP sharding (they need GPUs and NCCL).
Training FLOPs of one forward + backward are counted with torch.utils.flop_counter.FlopCounterMode (matmuls and
attention, as the plan's 6·N + 12·ℓ·q·s; LoRA adapters' own small matmuls are not in the plan). FlopCounterMode has
no formula for the CPU flash-attention backward, so with sdpa the measured figure lacks the attention backward.

    .venv/bin/python benchmarks/plan_memory.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swiftctl.plan.activations import FP32, activation_bytes  # noqa: E402
from swiftctl.plan.arch import Arch, from_config  # noqa: E402
from swiftctl.plan.setup import Setup  # noqa: E402
from swiftctl.plan.states import model_states  # noqa: E402
from swiftctl.plan.timing import flops_per_token  # noqa: E402

TINY = REPO / ".fixtures" / "tiny-qwen2" / "config.json"
SHAPES = {  # bigger Qwen2-shaped configs built in memory (GQA 4:1 / 7:1 like Qwen2.5-0.5B; tied embeddings)
    "qwen2-h256-l3": dict(hidden_size=256, num_hidden_layers=3, num_attention_heads=8, num_key_value_heads=2,
                          intermediate_size=704, vocab_size=32000, tie_word_embeddings=True),
    "qwen2-h448-l2-untied": dict(hidden_size=448, num_hidden_layers=2, num_attention_heads=14, num_key_value_heads=2,
                                 intermediate_size=1216, vocab_size=16384, tie_word_embeddings=False),
}


def config_dict(name: str) -> dict:
    if name == "tiny-qwen2":
        return json.loads(TINY.read_text())
    return {"model_type": "qwen2", "max_position_embeddings": 4096, "rope_theta": 1e6, **SHAPES[name]}


def setup(dtype: str, tuner: str = "full", attn: str = "sdpa", batch: int = 1, seq: int = 64) -> Setup:
    return Setup(tuner=tuner, quant_bits=None, lora_rank=8, lora_targets=("all-linear",), lora_dropout=0.05, dtype=dtype, batch=batch,
                 grad_accum=1, gpus=1, max_length=seq, packing=False, padding_free=False, checkpointing=False,
                 attn=attn, liger=False, zero=None, offload=False, fsdp=False)


def measure(cfg: dict, s: Setup, seq: int) -> dict[str, float]:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    conf = Qwen2Config(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")})
    conf._attn_implementation = s.attn
    dtype = getattr(torch, s.dtype)
    model = Qwen2ForCausalLM(conf).to(dtype)
    model.train()
    if s.tuner == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=s.lora_rank, lora_alpha=32, lora_dropout=s.lora_dropout,
                                                 target_modules="all-linear"))
        model.enable_input_require_grads()  # as ms-swift does with gradient checkpointing
    params = [p for p in model.parameters()]
    param_storages = {p.untyped_storage().data_ptr() for p in params}
    saved: dict[int, int] = {}
    vocab_saved: dict[int, int] = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in param_storages:
            (vocab_saved if t.dim() and t.shape[-1] == conf.vocab_size else saved)[ptr] = t.untyped_storage().nbytes()
        return t

    ids = torch.randint(0, conf.vocab_size, (s.batch, seq))
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as flops, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
    trainable = [p for p in params if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4)
    opt.step()
    moments = sum(v.numel() * v.element_size() for st in opt.state.values() for k, v in st.items() if k != "step")
    return {"weights": sum(p.numel() * p.element_size() for p in params),
            "gradients": sum(p.grad.numel() * p.grad.element_size() for p in trainable),
            "optimizer": moments, "activations": sum(saved.values()), "logprobs": sum(vocab_saved.values()),
            "train FLOPs": flops.get_total_flops()}


def predict(arch: Arch, s: Setup, seq: int) -> dict[str, float]:
    st = model_states(arch, s)
    tokens = s.batch * seq
    return {"weights": st.weights, "gradients": st.gradients, "optimizer": st.optimizer,
            "activations": activation_bytes(arch, s, tokens, seq, masked_batch=False, cpu=True),
            "logprobs": FP32 * arch.vocab * tokens,
            "train FLOPs": flops_per_token(arch, s, seq) * tokens}


CASES = [("tiny-qwen2", "float32", "full", "sdpa", 2, 64), ("tiny-qwen2", "bfloat16", "full", "sdpa", 1, 128),
         ("tiny-qwen2", "float32", "full", "eager", 1, 96), ("tiny-qwen2", "bfloat16", "lora", "sdpa", 2, 64),
         ("qwen2-h256-l3", "bfloat16", "full", "sdpa", 1, 256), ("qwen2-h256-l3", "float32", "lora", "eager", 1, 128),
         ("qwen2-h448-l2-untied", "bfloat16", "full", "sdpa", 2, 128)]


def rows(cases=CASES) -> list[tuple[str, str, float, float]]:
    out = []
    for name, dtype, tuner, attn, batch, seq in cases:
        cfg = config_dict(name)
        s = setup(dtype, tuner, attn, batch, seq)
        pred, meas = predict(from_config(cfg), s, seq), measure(cfg, s, seq)
        label = f"{name} {dtype} {tuner} {attn} b{batch}×s{seq}"
        out += [(label, k, pred[k], meas[k]) for k in pred]
    return out


def main() -> None:
    print(f"{'case':48} {'term':22} {'predicted':>14} {'measured':>14} {'error':>8}")
    for label, term, p, m in rows():
        err = (p - m) / m * 100 if m else 0.0
        print(f"{label:48} {term:22} {p:14,.0f} {m:14,.0f} {err:7.2f}%")


if __name__ == "__main__":
    main()
