"""GPU memory and peak bf16 throughput: the built-in table (package data resources/gpus.toml) and doctor's probe."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import tomllib

from swiftctl.errors import UsageError
from swiftctl.resources import resource_dir


@dataclass(frozen=True)
class GpuSpec:
    name: str
    memory_gib: float
    bf16_tflops: float | None   # None: unknown (a probed card that is not in the table)
    source: str


@cache
def table() -> tuple[GpuSpec, ...]:
    data = tomllib.loads((resource_dir(".") / "gpus.toml").read_text(encoding="utf-8"))
    return tuple(GpuSpec(r["name"], float(r["memory_gib"]), float(r["bf16_tflops"]), r["source"]) for r in data["gpu"])


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower().replace("nvidia", "").replace("geforce", "") if ch.isalnum())


@cache
def _aliases() -> dict[str, GpuSpec]:
    data = tomllib.loads((resource_dir(".") / "gpus.toml").read_text(encoding="utf-8"))
    by_name = {g.name: g for g in table()}
    out: dict[str, GpuSpec] = {}
    for row in data["gpu"]:
        for alias in [row["name"], *row.get("aliases", [])]:
            out[_key(alias)] = by_name[row["name"]]
    return out


def lookup(name: str) -> GpuSpec | None:
    """The table row for a GPU name (case, spaces, 'NVIDIA'/'GeForce' ignored), or None."""
    return _aliases().get(_key(name))


def find(name: str, where: str) -> GpuSpec:
    spec = lookup(name)
    if spec is None:
        known = ", ".join(g.name for g in table())
        raise UsageError(f"unknown GPU {name!r}", location=where,
                         hint=f"use one of: {known}; or give the memory with --gpu-mem GIB")
    return spec


def probed() -> tuple[GpuSpec, int] | None:
    """This machine's first GPU (doctor's nvidia-smi probe) and the GPU count, or None without GPUs."""
    from swiftctl.envcheck.probe import probe_gpus

    probe = probe_gpus()
    if probe.status != "ok" or not probe.gpus:
        return None
    gpu = probe.gpus[0]
    known = lookup(gpu.name)
    return GpuSpec(gpu.name, gpu.memory_mib / 1024, known.bf16_tflops if known else None,
                   "nvidia-smi on this machine"), len(probe.gpus)
