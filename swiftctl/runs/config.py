"""The few training settings a report needs (global batch, learning rate, epochs), from the manifest or args.json.

``swiftctl train`` writes ``swiftctl-manifest.json`` beside ``args.json``; its schema may grow, so keys are looked up
tolerantly (top level or one level down, several spellings). Without a manifest, args.json gives
per-device batch × gradient accumulation × ``global_world_size`` (ms-swift records the world size there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftctl.runs.logs import number

_GLOBAL = ("effective_global_batch", "global_batch_size", "global_batch", "effective_batch_size")
_PER_DEVICE = ("per_device_train_batch_size", "per_device_batch_size", "per_device_batch")
_ACCUM = ("gradient_accumulation_steps", "grad_accum", "gradient_accumulation")
_NODES = ("nodes", "nnodes", "num_nodes")
_GPUS = ("gpus_per_node", "nproc_per_node", "devices_per_node")
_WORLD = ("global_world_size", "world_size")


@dataclass
class RunConfig:
    per_device_batch: int | None = None
    grad_accum: int | None = None
    world_size: int | None = None
    global_batch: int | None = None
    learning_rate: float | None = None
    num_train_epochs: float | None = None
    max_grad_norm: float | None = None
    source: str = "args.json"  # where the batch numbers came from: "manifest" or "args.json"
    manifest_status: str | None = None  # "running" | "succeeded" | "failed" | "interrupted" from `swiftctl train`

    def batch_formula(self) -> str:
        """'32 = 2 per device × 2 accumulation × 8 GPUs', as much of it as is known."""
        parts = []
        if self.per_device_batch is not None:
            parts.append(f"{self.per_device_batch} per device")
        if self.grad_accum is not None:
            parts.append(f"{self.grad_accum} accumulation")
        if self.world_size is not None:
            parts.append(f"{self.world_size} GPU" + ("s" if self.world_size != 1 else ""))
        head = str(self.global_batch) if self.global_batch is not None else "unknown"
        return head + (f" = {' × '.join(parts)}" if parts else "")


def _find(data: dict[str, Any], keys: tuple[str, ...], depth: int = 4) -> float | None:
    """The first of ``keys`` found, breadth first (top level wins), down to ``depth`` levels of nesting."""
    scopes = [data]
    for _ in range(depth):
        for scope in scopes:
            for key in keys:
                value = number(scope.get(key))
                if value is not None:
                    return value
        scopes = [v for scope in scopes for v in scope.values() if isinstance(v, dict)]
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def load_config(args: dict[str, Any], manifest_path: Path | None = None) -> RunConfig:
    manifest = _read(manifest_path) if manifest_path is not None and manifest_path.is_file() else {}
    cfg = RunConfig(
        per_device_batch=_int(_find(args, _PER_DEVICE)), grad_accum=_int(_find(args, _ACCUM)),
        world_size=_int(_find(args, _WORLD)), learning_rate=number(args.get("learning_rate")),
        num_train_epochs=number(args.get("num_train_epochs")), max_grad_norm=number(args.get("max_grad_norm")))
    if manifest:
        cfg.source = "manifest"
        from swiftctl.launch.manifest import effective_status

        cfg.manifest_status = effective_status(manifest)  # "crashed" when a "running" run's process is gone
        cfg.per_device_batch = _int(_find(manifest, _PER_DEVICE)) or cfg.per_device_batch
        cfg.grad_accum = _int(_find(manifest, _ACCUM)) or cfg.grad_accum
        nodes, gpus = _find(manifest, _NODES), _find(manifest, _GPUS)
        if gpus is not None:
            cfg.world_size = int(gpus * (nodes or 1))
        cfg.global_batch = _int(_find(manifest, _GLOBAL))
    if cfg.global_batch is None and cfg.per_device_batch is not None:
        cfg.global_batch = cfg.per_device_batch * (cfg.grad_accum or 1) * (cfg.world_size or 1)
    return cfg
