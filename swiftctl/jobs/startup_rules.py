"""Combinations ms-swift 4.6 refuses when `swift sft` / `swift rlhf` starts (its argument classes' __post_init__, or
the first thing training does), found in the job before launch: each with a code, the TOML key and the fix.

The job keys and ``extra_args`` are read together, so a conflict split between them is found too. Where ms-swift
raises is in :data:`SOURCES` (docs/fidelity.md "Jobs" has the table); tests/jobs/test_startup_rules.py makes
ms-swift itself raise on each combination, so a rule cannot drift from it.
"""

from __future__ import annotations

from collections.abc import Callable

from swiftctl.jobs.load import LoadedJob

# code -> where ms-swift 4.6 (or the library it hands over to) raises
SOURCES: dict[str, str] = {
    "startup.device-map-parallel": "accelerate/accelerator.py:1820 (prepare_model: device_map in any distributed "
                                   "mode); transformers/integrations/accelerate.py:135 (ZeRO-3)",
    "startup.fsdp-deepspeed": "swift/arguments/sft_args.py:295",
    "startup.warmup-both": "swift/trainers/arguments.py:231",
    "startup.loss-types": "swift/arguments/rlhf_args.py:323",
    "startup.grpo-truncation": "swift/arguments/rlhf_args.py:354",
    "gpus.device-map": "swift/arguments/sft_args.py:256 (DeepSpeed), :291 (FSDP2); swift/trainers/arguments.py:279 "
                       "(liger); swift/arguments/rlhf_args.py:542 (GRPO + vLLM)",
    "packing.no-flash-attn": "swift/arguments/sft_args.py:196",
    "padding-free.no-flash-attn": "swift/arguments/sft_args.py:196",
}

# (code, message, hint, TOML key)
Finding = tuple[str, str, str, str]


def extra_option(extra: list[str], name: str) -> tuple[int, list[str]] | None:
    """(index, values) of ``--name`` in an argument list (``--name=value`` too), or None."""
    for i, arg in enumerate(extra):
        key, eq, value = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        if key == name:
            if eq:
                return i, [value]
            end = i + 1
            while end < len(extra) and not extra[end].startswith("--"):
                end += 1
            return i, extra[i + 1:end]
    return None


def truthy(values: list[str]) -> bool:
    return not values or values[0].strip().lower() not in ("false", "0", "no", "none", "")


def sharding(lj: LoadedJob) -> tuple[str | None, str | None]:
    """(deepspeed, fsdp) as the compiled command has them: the job key, or the value given in extra_args."""
    t, extra = lj.job.train, lj.job.extra_args
    ds, fsdp = extra_option(extra, "deepspeed"), extra_option(extra, "fsdp")
    deepspeed = t.deepspeed or (ds[1][0] if ds and ds[1] and truthy(ds[1]) else None)
    return deepspeed, t.fsdp or (fsdp[1][0] if fsdp and fsdp[1] and truthy(fsdp[1]) else None)


def _key(lj: LoadedJob, name: str, job_key: str) -> str:
    found = extra_option(lj.job.extra_args, name)
    return f"extra_args.{found[0]}" if found else job_key


def device_map_parallel(lj: LoadedJob) -> list[Finding]:
    found = extra_option(lj.job.extra_args, "device_map")
    if found is None:
        return []
    r = lj.job.resources
    deepspeed, fsdp = sharding(lj)
    procs = max(r.gpus_per_node, 1) * r.nodes
    why = (f"DeepSpeed ({deepspeed})" if deepspeed else f"FSDP ({fsdp})" if fsdp else
           f"data parallelism ({procs} processes)" if procs > 1 else None)
    if why is None:
        return []
    return [("startup.device-map-parallel", f"--device_map with {why}: each process must hold its own copy of the "
             "model, and accelerate refuses a model loaded with a device_map in any distributed mode",
             "remove --device_map from extra_args (ms-swift places each rank's model on its own GPU)",
             f"extra_args.{found[0]}")]


def fsdp_deepspeed(lj: LoadedJob) -> list[Finding]:
    deepspeed, fsdp = sharding(lj)
    if not (deepspeed and fsdp) or (lj.job.train.deepspeed and lj.job.train.fsdp):  # both keys: the schema refuses
        return []
    if lj.job.train.deepspeed and extra_option(lj.job.extra_args, "fsdp"):
        return []  # reported by compile's extra_args check ("--fsdp cannot be combined with train.deepspeed")
    return [("startup.fsdp-deepspeed", f"DeepSpeed ({deepspeed}) and FSDP ({fsdp}) together: ms-swift raises "
             "'FSDP2 is not compatible with DeepSpeed.'", "keep one: remove --deepspeed/train.deepspeed or "
             "--fsdp/train.fsdp", _key(lj, "deepspeed", "train.deepspeed"))]


def warmup_both(lj: LoadedJob) -> list[Finding]:
    steps = extra_option(lj.job.extra_args, "warmup_steps")
    ratio = lj.job.train.warmup_ratio
    extra_ratio = extra_option(lj.job.extra_args, "warmup_ratio")
    if ratio is None and extra_ratio is not None and extra_ratio[1]:
        try:
            ratio = float(extra_ratio[1][0])
        except ValueError:
            ratio = None
    if steps is None or not ratio or not steps[1] or steps[1][0] in ("0", "0.0"):
        return []
    return [("startup.warmup-both", f"warmup_ratio {ratio} and --warmup_steps {steps[1][0]} together: ms-swift "
             "raises '`warmup_ratio` and `warmup_steps` cannot be set at the same time.'",
             "keep one: remove train.warmup_ratio or --warmup_steps", f"extra_args.{steps[0]}")]


def loss_types(lj: LoadedJob) -> list[Finding]:
    r = lj.job.rlhf
    if r is None or not r.loss_type or len(r.loss_type) < 2 or lj.job.stage == "dpo":
        return []
    return [("startup.loss-types", f"{len(r.loss_type)} loss types on a {lj.job.stage} stage: ms-swift combines "
             "several loss types only for DPO (AssertionError at start-up)",
             f"give one rlhf.loss_type for {lj.job.stage} (several only with stage = \"dpo\")", "rlhf.loss_type")]


def grpo_truncation(lj: LoadedJob) -> list[Finding]:
    strategy = lj.job.data.truncation_strategy
    if lj.job.stage != "grpo" or strategy in (None, "left", "delete"):
        return []
    return [("startup.grpo-truncation", f"GRPO with truncation_strategy = {strategy!r}: ms-swift raises 'GRPO "
             "requires truncation_strategy left or delete' (a right-cut prompt loses its question)",
             "set data.truncation_strategy = \"left\" (ms-swift's GRPO default) or \"delete\"",
             "data.truncation_strategy")]


RULES: tuple[Callable[[LoadedJob], list[Finding]], ...] = (device_map_parallel, fsdp_deepspeed, warmup_both,
                                                           loss_types, grpo_truncation)


def findings(lj: LoadedJob) -> list[Finding]:
    return [f for rule in RULES for f in rule(lj)]
