"""Probe the machine without importing anything heavy and without ever raising.

GPUs come from ``nvidia-smi`` through an injected runner (tests pass recorded outputs); a missing, hanging or
garbled nvidia-smi becomes a status on the result, never an exception. Secrets in the environment are redacted.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftctl.envcheck.gpu_usage import GpuProcess, probe_usage
from swiftctl.errors import SwiftctlError
from swiftctl.secrets import is_secret_name, redact_env

NVIDIA_SMI_QUERY = ("nvidia-smi", "--query-gpu=index,name,memory.total,driver_version,compute_cap",
                    "--format=csv,noheader,nounits")
NVIDIA_SMI_TIMEOUT = 10.0

# (argv, timeout) -> an object with returncode, stdout, stderr (launch.process.CommandResult); tests inject recordings.
Runner = Callable[[Sequence[str], float], Any]


def default_runner(argv: Sequence[str], timeout: float) -> Any:
    from swiftctl.launch.process import capture

    return capture(argv, timeout=timeout)


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory_mib: int  # total
    driver: str
    compute_cap: str | None = None
    memory_used_mib: int | None = None  # None when the usage query failed or the driver says [N/A]
    processes: tuple[GpuProcess, ...] = ()  # compute processes on this GPU (nvidia-smi --query-compute-apps)


@dataclass(frozen=True)
class GpuProbe:
    status: str  # "ok" | "absent" (no nvidia-smi) | "timeout" | "failed" (non-zero exit) | "garbage" (unparsable)
    gpus: tuple[Gpu, ...] = ()
    detail: str = ""
    usage_status: str = "skipped"  # the memory/process queries: "ok" | "timeout" | "failed" | "garbage" | "skipped"
    usage_detail: str = ""

    @property
    def count(self) -> int:
        return len(self.gpus)


def parse_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    """Parse ``--query-gpu=index,name,memory.total,driver_version,compute_cap --format=csv,noheader,nounits``.

    Raises ValueError on anything else (a header, an error message, "[N/A]" memory).
    """
    gpus = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) not in (4, 5):
            raise ValueError(f"expected 5 comma-separated fields, got: {line[:120]!r}")
        index, name, memory, driver = parts[:4]
        cap = parts[4] if len(parts) == 5 and parts[4] not in ("", "[N/A]") else None
        gpus.append(Gpu(int(index), name, int(float(memory)), driver, cap))
    if not gpus:
        raise ValueError("no output")
    return tuple(gpus)


def probe_gpus(runner: Runner | None = None, timeout: float = NVIDIA_SMI_TIMEOUT) -> GpuProbe:
    runner = runner or default_runner
    try:
        result = runner(list(NVIDIA_SMI_QUERY), timeout)
    except SwiftctlError as exc:  # CommandNotFound / CommandTimeout from launch.process
        kind = "timeout" if "did not finish" in exc.message else "absent"
        return GpuProbe(kind, detail=exc.message)
    except OSError as exc:
        return GpuProbe("absent", detail=str(exc))
    if result.returncode != 0:
        first = (result.stderr or result.stdout).strip().splitlines()
        return GpuProbe("failed", detail=f"exit {result.returncode}: {first[0] if first else 'no output'}")
    try:
        gpus = parse_nvidia_smi(result.stdout)
    except ValueError as exc:
        return GpuProbe("garbage", detail=str(exc))
    gpus, usage, usage_detail = probe_usage(runner, gpus, timeout)
    return GpuProbe("ok", gpus, usage_status=usage, usage_detail=usage_detail)


@dataclass(frozen=True)
class Disk:
    path: str  # where outputs go (or its nearest existing parent)
    exists: bool
    writable: bool
    free_gib: float | None


@dataclass(frozen=True)
class System:
    python: str
    python_executable: str
    os: str
    machine: str
    cpu: str
    cpu_count: int
    ram_total_gib: float | None
    ram_available_gib: float | None


def _meminfo() -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                out[key] = round(int(rest.split()[0]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def probe_system() -> System:
    mem = _meminfo()
    return System(
        python=platform.python_version(), python_executable=sys.executable,
        os=f"{platform.system()} {platform.release()}", machine=platform.machine(), cpu=_cpu_model(),
        cpu_count=os.cpu_count() or 0, ram_total_gib=mem.get("MemTotal"), ram_available_gib=mem.get("MemAvailable"),
    )


def probe_disk(output_dir: Path) -> Disk:
    path = Path(output_dir).expanduser().absolute()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    writable = existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    try:
        free = round(shutil.disk_usage(existing).free / 1024**3, 1)
    except OSError:
        free = None
    return Disk(str(path), path.exists(), writable, free)


RELEVANT_ENV_PREFIXES = ("CUDA_", "NCCL_", "NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_", "HF_", "HUGGINGFACE_",
                         "MODELSCOPE_", "SWANLAB_", "WANDB_", "VLLM_", "PYTORCH_", "TRANSFORMERS_", "TOKENIZERS_",
                         "OMP_NUM_THREADS", "USE_HF", "SWIFTCTL_", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")


@dataclass(frozen=True)
class EnvVars:
    values: dict[str, str] = field(default_factory=dict)  # relevant variables, secrets replaced by ***


def probe_env(environ: Mapping[str, str] | None = None) -> EnvVars:
    """Variables that change how ms-swift runs, plus any secret-looking one (shown only as set, ***)."""
    environ = os.environ if environ is None else environ
    picked = {k: v for k, v in environ.items() if k.startswith(RELEVANT_ENV_PREFIXES) or is_secret_name(k)}
    return EnvVars(dict(sorted(redact_env(picked).items())))
