"""Parse a compiled `swift sft` / `swift rlhf` argv with ms-swift's own argument classes, in this process.

This is what the `swift` CLI does in each training process (swift/cli/sft.py -> swift.pipelines.sft_main ->
SwiftPipeline._parse_args -> swift.utils.parse_args: HfArgumentParser([SftArguments | RLHFArguments])
.parse_args_into_dataclasses(argv), so ``__post_init__`` runs; leftover strings are a ValueError there).

Only what must point at this machine is rewritten (:func:`localize`): the model becomes the tiny Qwen2 fixture, the
datasets a local tiny jsonl, output_dir a temp dir, a reference model the tiny model too; a job naming its model by
hub id (ms-swift derives model type and template from the id) gets ``--model_type qwen2 --template qwen2_5``.
The environment is the plan's own (NPROC_PER_NODE, NNODES, ...) plus what torchrun gives the rank-0 process (RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE), which ms-swift's get_dist_setting reads. torch's fake process group (rank 0
of WORLD_SIZE, no communication) stands in for the other ranks, so transformers' world_size is the plan's and nothing
waits for them. Everything a parse changes in os.environ, in accelerate's shared state and in transformers' tracker
registry is put back afterwards.

This machine has no GPU, no deepspeed and no liger-kernel. A parse that stops only because of that stops at one of
:data:`CPU_ONLY` (the exact ms-swift / transformers message); :meth:`SwiftParser.stand_in` then re-parses what a GPU
machine would reach past that point (see there).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import FIXTURES, REPO

DATA = {"sft": REPO / "jobs" / "data" / "muice-sample.jsonl", "grpo": REPO / "jobs" / "data" / "muice-grpo-sample.jsonl"}
PREFERENCE_DATA = REPO / "jobs" / "data" / "muice-dpo-sample.jsonl"

# Failures that only mean "this CPU machine lacks the GPU stack": (pattern, where it is raised).
CPU_ONLY = {
    "deepspeed-not-installed": (r"The 'deepspeed' distribution was not found",
                                "swift/arguments/sft_args.py _init_deepspeed: require_version('deepspeed')"),
    "bf16-needs-gpu": (r"Your setup doesn't support bf16/gpu",
                       "transformers/training_args.py __post_init__ (bf16 without a GPU or use_cpu)"),
    "liger-not-installed": (r"use_liger_kernel requires liger_kernels|No package metadata was found for liger-kernel",
                            "swift/trainers/arguments.py _init_liger; swift/arguments/rlhf_args.py _check_grpo "
                            "(liger-kernel version)"),
    "deepspeed-config-needs-deepspeed": (r"deepspeed",
                                         "transformers/integrations/deepspeed.py HfDeepSpeedConfig: "
                                         "dep_version_check('deepspeed')"),
}
_VALUED = {"--model", "--output_dir", "--ref_model"}


def _values_end(argv: list[str], i: int) -> int:
    end = i + 1
    while end < len(argv) and not argv[end].startswith("--"):
        end += 1
    return end


def localize(argv: list[str], tmp: Path) -> list[str]:
    """The argv with the machine-specific paths replaced (model, datasets, output dir, reference model)."""
    stage = argv[argv.index("--rlhf_type") + 1] if "--rlhf_type" in argv else "sft"
    data = DATA.get(stage, PREFERENCE_DATA if stage != "sft" else DATA["sft"])
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in _VALUED:
            out += [arg, str(tmp / "out") if arg == "--output_dir" else str(FIXTURES / "tiny-qwen2")]
            i += 2
        elif arg in ("--dataset", "--val_dataset"):
            out += [arg, str(data)]
            i = _values_end(argv, i)
        else:
            out.append(arg)
            i += 1
    at = out.index("--model") + 2
    # a hub id names its model type and template; the tiny local dir matches several of each
    for name, value in (("--template", "qwen2_5"), ("--model_type", "qwen2")):
        if name not in out:
            out[at:at] = [name, value]
    return out


def rank0_env(env: dict[str, str]) -> dict[str, str]:
    """The plan's environment as torchrun passes it to the rank-0 process (swift/cli/main.py runs torchrun)."""
    out = dict(env)
    nproc, nnodes = int(env.get("NPROC_PER_NODE", "0") or 0), int(env.get("NNODES", "1"))
    if nproc or nnodes > 1:
        nproc = max(nproc, 1)
        out.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE=str(nproc * nnodes), LOCAL_WORLD_SIZE=str(nproc))
    return out


def cpu_only_reason(exc: BaseException) -> str | None:
    """Which CPU-only limit an exception is, or None when it is a real rejection."""
    text = f"{type(exc).__name__}: {exc}"
    for name, (pattern, _) in CPU_ONLY.items():
        if name == "deepspeed-config-needs-deepspeed":
            if isinstance(exc, (ImportError, ModuleNotFoundError)) and "deepspeed" in text.lower():
                return name
            continue
        if re.search(pattern, text):
            return name
    return None


class SwiftParser:
    """ms-swift imported once (per test module); parse argvs with its real parser and __post_init__."""

    def __init__(self, tmp: Path) -> None:
        import swift.arguments.sft_args as sft_args
        import torch.distributed as dist
        from accelerate.state import AcceleratorState
        from swift.arguments import RLHFArguments, SftArguments
        from swift.utils import parse_args
        from transformers.integrations import INTEGRATION_TO_CALLBACK

        self.tmp, self._dist, self._state = tmp, dist, AcceleratorState
        self._classes = {"sft": SftArguments, "rlhf": RLHFArguments}
        self._parse_args, self._sft_args = parse_args, sft_args
        self._callbacks = INTEGRATION_TO_CALLBACK
        self._saved_callbacks = dict(INTEGRATION_TO_CALLBACK)

    def close(self) -> None:
        if self._dist.is_initialized():
            self._dist.destroy_process_group()
        self._state._reset_state(reset_partial_state=True)
        self._callbacks.clear()
        self._callbacks.update(self._saved_callbacks)

    def _process_group(self, world_size: int) -> None:
        """torch's fake process group (no communication) of the plan's world size, as rank 0."""
        from torch.testing._internal.distributed.fake_pg import FakeStore

        self._dist.init_process_group("fake", store=FakeStore(), rank=0, world_size=world_size)

    @contextlib.contextmanager
    def _environment(self, env: dict[str, str]) -> Iterator[None]:
        import torch

        saved, threads = dict(os.environ), torch.get_num_threads()  # accelerate's MULTI_CPU set-up changes threads
        os.environ.update(env)
        os.environ.pop("TENSORBOARD_LOGGING_DIR", None)
        try:
            if "RANK" in os.environ:
                self._process_group(int(os.environ["WORLD_SIZE"]))
            yield
        finally:
            if self._dist.is_initialized():
                self._dist.destroy_process_group()
            torch.set_num_threads(threads)
            os.environ.clear()
            os.environ.update(saved)
            self._state._reset_state(reset_partial_state=True)
            self._callbacks.clear()
            self._callbacks.update(self._saved_callbacks)

    @contextlib.contextmanager
    def _visible_gpus(self, env: dict[str, str]) -> Iterator[None]:
        """ms-swift's is_mp() (device_map model parallelism) compares swift.utils.get_device_count with
        LOCAL_WORLD_SIZE; this machine has no GPU, so the count is the plan's CUDA_VISIBLE_DEVICES."""
        import swift.utils

        original = swift.utils.get_device_count
        visible = [d for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
        swift.utils.get_device_count = lambda: len(visible)
        try:
            yield
        finally:
            swift.utils.get_device_count = original

    def parse(self, argv: list[str], env: dict[str, str], *, skip_deepspeed_version: bool = False):
        """``argv`` = ["swift", "sft"|"rlhf", ...] (already localized) → the constructed arguments, or the raise."""
        cls = self._classes[argv[1]]
        original = self._sft_args.require_version
        if skip_deepspeed_version:
            self._sft_args.require_version = lambda req, *a: None if req == "deepspeed" else original(req, *a)
        try:
            with self._environment(rank0_env(env)), self._visible_gpus(env):
                args, rest = self._parse_args(cls, argv[2:])
                if rest:
                    raise ValueError(f"remaining_argv: {rest}")  # SwiftPipeline._parse_args
                return args
        finally:
            self._sft_args.require_version = original

    def stand_in(self, argv: list[str], env: dict[str, str]):
        """What a GPU machine reaches past the CPU-only stops, as far as this machine can go.

        ``--use_cpu true`` lets transformers accept bf16 without a GPU; liger-kernel (not installed) is left out;
        ``require_version('deepspeed')`` is skipped, so ms-swift resolves the DeepSpeed preset and goes on until
        transformers needs the deepspeed package itself (its DeepSpeed set-up is the LAST step of
        TrainingArguments.__post_init__): that ImportError is returned, not raised. A job with DeepSpeed is then
        parsed once more without it, to run the rest of SftArguments.__post_init__ (output dir, trackers).
        Returns (arguments of the last parse, the deepspeed ImportError or None).
        """
        argv = [*_drop(argv, "--use_liger_kernel"), "--use_cpu", "true"]
        stopped = None
        if "--deepspeed" in argv:
            try:
                self.parse(argv, env, skip_deepspeed_version=True)
            except ImportError as exc:
                if cpu_only_reason(exc) != "deepspeed-config-needs-deepspeed":
                    raise
                stopped = exc
            argv = _drop(argv, "--deepspeed")
        return self.parse(argv, env), stopped


def _drop(argv: list[str], name: str) -> list[str]:
    if name not in argv:
        return list(argv)
    i = argv.index(name)
    return argv[:i] + argv[_values_end(argv, i):]


def base_job(tmp: Path) -> dict:
    """A small valid job on the tiny model (CPU); tests and generators override its tables."""
    return {"swift_version": "4",
            "model": {"path": str(FIXTURES / "tiny-qwen2"), "model_type": "qwen2", "template": "qwen2_5",
                      "torch_dtype": "float32"},
            "data": {"train": [str(DATA["sft"])], "max_length": 512, "num_workers": 0},
            "output": {"dir": str(tmp / "out")}, "tracking": {"backend": "none"},
            "resources": {"device": "cpu", "gpus_per_node": 0}}


def write_job(path: Path, job: dict, **tables: dict | list | str) -> Path:
    """``job`` with ``tables`` merged in (a table's keys replace, None deletes), written as TOML."""
    import tomlkit

    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in job.items()}
    for name, value in tables.items():
        if isinstance(value, dict):
            table = merged.setdefault(name, {})
            for key, item in value.items():
                if item is None:
                    table.pop(key, None)
                else:
                    table[key] = item
        else:
            merged[name] = value
    path.write_text(tomlkit.dumps(merged), encoding="utf-8")
    return path
