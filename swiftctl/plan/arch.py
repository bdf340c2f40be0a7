"""A decoder-only transformer's shapes and parameter counts, read from its config.json (no torch).

Supported: the Llama family layout (pre-RMSNorm, GQA attention with RoPE, SwiGLU MLP) as used by qwen2, qwen3,
llama, mistral. Anything else is refused with the terms that cannot be derived (never guessed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from swiftctl.errors import SwiftctlError

# model_type -> (q/k/v projection bias, per-head q/k RMSNorm) for the layouts whose modules are known here.
LAYOUTS: dict[str, tuple[bool, bool]] = {
    "qwen2": (True, False),
    "qwen3": (False, True),
    "llama": (False, False),
    "mistral": (False, False),
}
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TERMS_NEEDING_LAYOUT = ("weights", "gradients", "optimizer", "activations", "logits", "time")
_REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


@dataclass(frozen=True)
class Arch:
    model_type: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    qkv_bias: bool
    qk_norm: bool
    dtype: str
    max_positions: int | None

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(in_features, out_features) of each linear layer of one decoder layer."""
        h, q, kv, i = self.hidden, self.q_dim, self.kv_dim, self.intermediate
        return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
                "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}

    def layer_linear_params(self) -> int:
        return sum(a * b for a, b in self.linear_shapes().values())

    def layer_other_params(self) -> int:
        """Biases and norm weights of one layer (not quantized by bitsandbytes: kept in the model dtype)."""
        bias = self.q_dim + 2 * self.kv_dim if self.qkv_bias else 0
        return bias + 2 * self.hidden + (2 * self.head_dim if self.qk_norm else 0)

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def lm_head_params(self) -> int:
        return 0 if self.tied else self.vocab * self.hidden

    @property
    def total_params(self) -> int:
        per_layer = self.layer_linear_params() + self.layer_other_params()
        return self.embedding_params + self.lm_head_params + self.layers * per_layer + self.hidden

    @property
    def largest_module_params(self) -> int:
        """The largest single module (DeepSpeed's ``largest_layer_params``): the embedding, or a whole layer."""
        return max(self.embedding_params, self.layer_linear_params() + self.layer_other_params())

    @property
    def matmul_params(self) -> int:
        """Parameters that take part in a matmul per token (all linear layers + the output projection)."""
        return self.layers * self.layer_linear_params() + self.vocab * self.hidden


def _unknown(model_type: str, where: str, missing: list[str]) -> SwiftctlError:
    what = f"missing {', '.join(missing)}" if missing else f"model_type {model_type!r} has no known module layout"
    return SwiftctlError(f"{where}: cannot plan this architecture ({what}); terms that cannot be derived: "
                         f"{', '.join(TERMS_NEEDING_LAYOUT)} (only the framework overhead is architecture-free)",
                         hint=f"supported model types: {', '.join(sorted(LAYOUTS))}; pass --config with the "
                         "config.json of a supported decoder", location=where)


def from_config(config: dict, where: str = "config.json") -> Arch:
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else None
    cfg = {**config, **(text or {})}
    model_type = str(cfg.get("model_type", ""))
    missing = [k for k in _REQUIRED if not isinstance(cfg.get(k), int)]
    if model_type not in LAYOUTS or missing:
        raise _unknown(model_type, where, missing)
    if cfg.get("num_experts") or cfg.get("num_local_experts"):
        raise _unknown(model_type, where, ["dense MLP (mixture-of-experts config)"])
    qkv_bias, qk_norm = LAYOUTS[model_type]
    if model_type in ("llama", "mistral"):
        qkv_bias = bool(cfg.get("attention_bias", False))
    heads = cfg["num_attention_heads"]
    dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16")
    return Arch(model_type=model_type, hidden=cfg["hidden_size"], layers=cfg["num_hidden_layers"], heads=heads,
                kv_heads=int(cfg.get("num_key_value_heads") or heads),
                head_dim=int(cfg.get("head_dim") or cfg["hidden_size"] // heads),
                intermediate=cfg["intermediate_size"], vocab=cfg["vocab_size"],
                tied=bool(cfg.get("tie_word_embeddings", False)), qkv_bias=qkv_bias, qk_norm=qk_norm,
                dtype=dtype if dtype in DTYPE_BYTES else "bfloat16",
                max_positions=cfg.get("max_position_embeddings"))


def read_config(path: Path) -> Arch:
    """Arch from a config.json file or a model directory holding one."""
    path = Path(path)
    file = path / "config.json" if path.is_dir() else path
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SwiftctlError(f"cannot read {file}: {exc.strerror}", hint="pass --config PATH/config.json",
                            location=str(file)) from None
    except ValueError as exc:
        raise SwiftctlError(f"{file} is not JSON: {exc}", location=str(file)) from None
    if not isinstance(config, dict):
        raise SwiftctlError(f"{file} is not a JSON object", location=str(file))
    return from_config(config, str(file))
