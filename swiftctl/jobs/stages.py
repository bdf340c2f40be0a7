"""Compile the preference/RL stages (``stage = "dpo" | ... | "grpo"`` + ``[rlhf]``) into `swift rlhf --rlhf_type ...`.

The SFT argv (``compile._build_argv``) is the base: every data/tuner/train key means the same in `swift rlhf`
(RLHFArguments extends SftArguments). This module swaps the command, adds the stage options, resolves
``model.from_run`` to the SFT run's best checkpoint, and checks the stage against the ms-swift argument list.

Starting from an SFT run (ms-swift 4.6, RLHFArguments' docstring and pipelines/train/rlhf.py):
- LoRA SFT run + LoRA stage: ``--adapters CKPT --ref_adapters CKPT`` (the policy continues the SFT adapter; the
  reference is the SFT model, not the base). Only DPO, KTO and GRPO accept ``--ref_adapters``; ORPO/CPO/SimPO
  have no reference model, so only ``--adapters``.
- full SFT run: ``--model CKPT`` (a full stage's reference then defaults to that same checkpoint).
- LoRA SFT run + full stage: refused (merge the adapter first).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.load import LoadedJob, is_local_model
from swiftctl.jobs.swift_args import ArgList, rlhf_for

# The first ms-swift version whose `swift rlhf --rlhf_type` accepts each stage (ms-swift changelog; 3.0 already had
# dpo/orpo/simpo/kto/cpo in swift/llm/argument/rlhf_args.py, GRPO landed in 3.1 (February 2025)).
SINCE = {"dpo": "3.0", "orpo": "3.0", "simpo": "3.0", "kto": "3.0", "cpo": "3.0", "grpo": "3.1"}
REF_ADAPTER_STAGES = {"dpo", "kto", "grpo"}   # pipelines/train/rlhf.py asserts this for --ref_adapters
NO_REF_STAGES = {"orpo", "cpo", "simpo"}        # reference-free losses: --ref_model is a ValueError
PERSONA = "swiftctl_persona"


@dataclass(frozen=True)
class Start:
    """Where a stage starts: a checkpoint of an SFT run (``kind`` lora/full) or nothing (model.path)."""
    checkpoint: Path | None
    kind: str  # "lora" | "full" | "missing" | "none"


def start_point(loaded: LoadedJob) -> Start:
    """``model.from_run`` → the run's best checkpoint (last when none was recorded). Reads the run dir."""
    from_run = loaded.job.model.from_run
    if from_run is None:
        return Start(None, "none")
    from swiftctl.runs.rundir import resolve_run

    try:
        ckpt = resolve_run(loaded.local(from_run)).checkpoint("auto")
    except SwiftctlError:
        return Start(loaded.local(from_run), "missing")
    return Start(ckpt.path, "lora" if ckpt.kind == "lora" else "full")


def plugin_path() -> Path:
    """The persona reward plugin file ms-swift imports through --external_plugins."""
    from swiftctl.resources import resource_dir

    return resource_dir("plugins") / "persona_reward.py"


def persona_name(loaded: LoadedJob) -> str | None:
    r, ident = loaded.job.rlhf, loaded.job.data.identity
    if r is not None and r.persona_name:
        return r.persona_name
    return ident.name[0] if ident and ident.name else None


def stage_arglist(loaded: LoadedJob, args: ArgList) -> tuple[ArgList, list[SwiftctlError]]:
    """The argument list the job's command is checked against, and errors for a stage this ms-swift lacks."""
    stage = loaded.job.stage
    if stage == "sft":
        return args, []
    where = loaded.where("stage")
    if args.major < 4:
        return args, [SwiftctlError(f"stage {stage!r} is compiled for ms-swift 4.x only (swift_version = "
                                    f"{loaded.job.swift_version!r})", location=where,
                                    hint="set swift_version = \"4\" and install ms-swift 4.x")]
    found = rlhf_for(args)
    if found is None:
        return args, [SwiftctlError(f"no `swift rlhf` argument list for ms-swift {args.version}", location=where,
                                    hint="install ms-swift 4.x (swiftctl env install cpu)")]
    rlhf_args, types = found
    if types and stage not in types:
        return rlhf_args, [SwiftctlError(f"ms-swift {rlhf_args.version} has no `swift rlhf --rlhf_type {stage}` "
                                         f"(it supports: {', '.join(types)})", location=where,
                                         hint=f"{stage} needs ms-swift >= {SINCE.get(stage, '4.6')}: upgrade ms-swift")]
    return rlhf_args, []


def stage_argv(loaded: LoadedJob, argv: list[str], start: Start) -> list[str]:
    """The SFT argv → `swift rlhf --rlhf_type STAGE ...` with the stage options (unchanged for sft)."""
    job = loaded.job
    if job.stage == "sft":
        return argv
    from swiftctl.jobs.compile import _opt

    out = ["swift", "rlhf", "--rlhf_type", job.stage, *argv[2:]]
    if start.kind in ("full", "missing"):
        out[out.index("--model") + 1] = str(start.checkpoint)
        if "--check_model" not in out:
            out[out.index("--model") + 2:out.index("--model") + 2] = ["--check_model", "false"]
    r = job.rlhf
    if start.kind == "lora":
        _opt(out, "adapters", start.checkpoint)
        if job.stage in REF_ADAPTER_STAGES:
            _opt(out, "ref_adapters", start.checkpoint)
    if r is None:
        return out
    _opt(out, "beta", r.beta)
    if r.loss_type:
        _opt(out, "loss_type", *r.loss_type)
    if r.ref_model is not None:
        _opt(out, "ref_model", str(loaded.local(r.ref_model)) if is_local_model(r.ref_model) else r.ref_model)
    if job.stage != "grpo":
        return out
    _opt(out, "num_generations", r.num_generations)
    _opt(out, "max_completion_length", r.max_completion_length)
    if r.reward_funcs:
        _opt(out, "reward_funcs", *r.reward_funcs)
    if r.reward_weights:
        _opt(out, "reward_weights", *r.reward_weights)
    _opt(out, "temperature", r.temperature)
    if r.use_vllm and not (job.resources.device == "cpu" and r.vllm_fallback):
        _opt(out, "use_vllm", True)
        _opt(out, "vllm_mode", r.vllm_mode)
        _opt(out, "vllm_server_host", r.vllm_server_host)
        _opt(out, "vllm_server_port", r.vllm_server_port)
    _opt(out, "log_completions", r.log_completions)
    if PERSONA in r.reward_funcs:
        _opt(out, "external_plugins", plugin_path())
    return out


def stage_env(loaded: LoadedJob) -> dict[str, str]:
    """Environment the persona reward plugin reads in the training processes."""
    r = loaded.job.rlhf
    if loaded.job.stage != "grpo" or r is None or PERSONA not in r.reward_funcs:
        return {}
    env = {"SWIFTCTL_PERSONA_NAME": persona_name(loaded) or ""}
    if r.persona_reference_column:
        env["SWIFTCTL_PERSONA_REFERENCE"] = r.persona_reference_column
    return env


def check_stage(loaded: LoadedJob, start: Start, reward_names: frozenset[str] | None) -> list[SwiftctlError]:
    """Stage/[rlhf] problems ms-swift would reject at start-up (or that would silently do the wrong thing)."""
    from swiftctl.jobs.stage_rules import RULES

    return [err for rule in RULES for err in rule(loaded, start, reward_names)]


# ms-swift 4.6's swift/rewards/orm.py `orms` keys: used when the argument list is the bundled one.
BUNDLED_REWARDS = frozenset({"toolbench", "math", "accuracy", "format", "react_format", "cosine", "repetition",
                             "soft_overlong"})


def registered_rewards(args: ArgList) -> frozenset[str]:
    """The names in ms-swift's reward registry (``orms``), read with ast from the installed source."""
    import ast

    from swiftctl.jobs.swift_args import installed_swift

    found = installed_swift() if args.source.startswith("installed:") else None
    if found is None:
        return BUNDLED_REWARDS
    path = found[1] / "swift" / "rewards" / "orm.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return BUNDLED_REWARDS
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "orms" for t in node.targets) \
                and isinstance(node.value, ast.Dict):
            return frozenset(k.value for k in node.value.keys if isinstance(k, ast.Constant))
    return BUNDLED_REWARDS
