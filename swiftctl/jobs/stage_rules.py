"""Compile-time rules for ``stage`` + ``[rlhf]``: each returns the errors ms-swift 4.6 would raise at start-up
(RLHFArguments.__post_init__, GRPOArgumentsMixin, the GRPO trainer's reward registry), with the TOML key to fix."""

from __future__ import annotations

from collections.abc import Callable

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.load import LoadedJob
from swiftctl.jobs.stage_schema import GRPO_KEYS, Rlhf
from swiftctl.jobs.stages import NO_REF_STAGES, PERSONA, Start, persona_name

_DEFAULTS = Rlhf()


def _err(lj: LoadedJob, msg: str, key: str, hint: str) -> SwiftctlError:
    return SwiftctlError(msg, location=lj.where(key), hint=hint)


def rule_table(lj: LoadedJob, start: Start, rewards) -> list[SwiftctlError]:
    job = lj.job
    if job.stage == "sft":
        out = []
        if job.rlhf is not None:
            out.append(_err(lj, "[rlhf] settings on an SFT job (stage = \"sft\")", "rlhf",
                            "set stage = \"dpo\" (or kto, orpo, simpo, cpo, grpo), or remove the [rlhf] table"))
        if job.model.from_run is not None:
            out.append(_err(lj, "model.from_run starts a preference/RL stage from an SFT run", "model.from_run",
                            "set stage = \"dpo\"/\"grpo\"/..., or point model.path at the checkpoint to fine-tune"))
        return out
    if job.stage == "grpo" or job.rlhf is None:
        return []
    return [_err(lj, f"rlhf.{key} is a GRPO setting; stage is {job.stage!r}", f"rlhf.{key}",
                 f"remove rlhf.{key} (or set stage = \"grpo\")")
            for key in GRPO_KEYS if getattr(job.rlhf, key) != getattr(_DEFAULTS, key)]


def rule_start(lj: LoadedJob, start: Start, rewards) -> list[SwiftctlError]:
    if start.kind == "lora" and lj.job.tuner.type == "full":
        return [_err(lj, f"{start.checkpoint} is a LoRA adapter: a full-parameter {lj.job.stage} stage cannot start "
                     "from it", "model.from_run", f"merge it first (swift export --adapters {start.checkpoint} "
                     "--merge_lora true) and set model.path to the merged dir, or set tuner.type = \"lora\"")]
    return []


def rule_ref_model(lj: LoadedJob, start: Start, rewards) -> list[SwiftctlError]:
    r, stage = lj.job.rlhf, lj.job.stage
    if r is None or r.ref_model is None:
        return []
    if stage in NO_REF_STAGES:
        return [_err(lj, f"{stage} has no reference model (ms-swift raises ValueError on --ref_model)",
                     "rlhf.ref_model", "remove rlhf.ref_model")]
    if lj.job.tuner.type == "lora":
        return [_err(lj, "a LoRA stage uses the model without its adapter as the reference (ms-swift raises "
                     "ValueError on --ref_model with LoRA)", "rlhf.ref_model",
                     "remove rlhf.ref_model (model.from_run sets --ref_adapters to the SFT adapter)")]
    return []


def rule_rewards(lj: LoadedJob, start: Start, rewards: frozenset[str] | None) -> list[SwiftctlError]:
    r = lj.job.rlhf
    if lj.job.stage != "grpo":
        return []
    if r is None or not r.reward_funcs:
        return [_err(lj, "a GRPO job needs reward functions (ms-swift: 'You must specify reward_funcs or "
                     "reward_model')", "rlhf", "set rlhf.reward_funcs = [\"swiftctl_persona\", \"format\"]")]
    out = []
    custom = any(a.startswith("--external_plugins") for a in lj.job.extra_args)
    if rewards is not None and not custom:
        known = sorted(rewards | {PERSONA})
        for i, name in enumerate(r.reward_funcs):
            if name not in known:
                out.append(_err(lj, f"reward function {name!r} is not registered in ms-swift's orms",
                                f"rlhf.reward_funcs.{i}", f"registered: {', '.join(known)} (or load your own with "
                                "extra_args = [\"--external_plugins\", \"my_reward.py\"])"))
    if r.reward_weights is not None and len(r.reward_weights) != len(r.reward_funcs):
        out.append(_err(lj, f"{len(r.reward_weights)} reward_weights for {len(r.reward_funcs)} reward_funcs",
                        "rlhf.reward_weights", "give one weight per reward function"))
    if PERSONA in r.reward_funcs and not persona_name(lj):
        out.append(_err(lj, "swiftctl_persona needs the persona's name", "rlhf.reward_funcs",
                        "set rlhf.persona_name = \"沐雪\" (or data.identity.name)"))
    return out


def rule_generation_batch(lj: LoadedJob, start: Start, rewards) -> list[SwiftctlError]:
    r, t, res = lj.job.rlhf, lj.job.train, lj.job.resources
    if lj.job.stage != "grpo" or r is None:
        return []
    g = r.num_generations or 8
    batch = t.per_device_batch_size * max(res.gpus_per_node, 1) * res.nodes * (t.gradient_accumulation_steps or 1)
    if batch % g:
        return [_err(lj, f"generation batch {batch} (per-device {t.per_device_batch_size} × processes × "
                     f"accumulation) is not a multiple of num_generations {g}: ms-swift raises ValueError",
                     "rlhf.num_generations", f"set rlhf.num_generations to a divisor of {batch}, or "
                     f"train.per_device_batch_size to a multiple of {g}")]
    return []


def rule_vllm(lj: LoadedJob, start: Start, rewards) -> list[SwiftctlError]:
    r = lj.job.rlhf
    if lj.job.stage != "grpo" or r is None:
        return []
    if not r.use_vllm:
        return [_err(lj, "rlhf.vllm_mode without rlhf.use_vllm = true", "rlhf.vllm_mode",
                     "set rlhf.use_vllm = true or remove vllm_mode")] if r.vllm_mode else []
    if lj.job.resources.device == "cpu":
        if r.vllm_fallback:
            return []
        return [_err(lj, "GRPO with vLLM needs a GPU: colocate mode shares GPU memory and syncs weights to the engine "
                     "through CUDA, and server mode (`swift rollout`) needs a GPU node", "rlhf.use_vllm",
                     "set rlhf.vllm_fallback = true to generate with transformers on this CPU job (slower), or "
                     "rlhf.use_vllm = false")]
    if r.vllm_mode is None:
        return [_err(lj, "rlhf.use_vllm needs rlhf.vllm_mode (ms-swift: 'vllm_mode is required')", "rlhf.use_vllm",
                     "set rlhf.vllm_mode = \"colocate\" (one node) or \"server\" (a `swift rollout` server)")]
    if r.vllm_mode == "server" and not r.vllm_server_host:
        return [_err(lj, "vllm_mode = \"server\" needs the rollout server's host", "rlhf.vllm_mode",
                     "set rlhf.vllm_server_host (and vllm_server_port), started with `swift rollout`")]
    return []


RULES: tuple[Callable[..., list[SwiftctlError]], ...] = (rule_table, rule_start, rule_ref_model, rule_rewards,
                                                         rule_generation_batch, rule_vllm)


def lint_findings(lj: LoadedJob) -> list[tuple[str, str, str, str, str]]:
    """`job check` findings of a stage job, as (code, severity, message, hint, key): things that compile but fail
    or surprise at run time (a from_run that does not resolve, a vLLM request dropped on CPU)."""
    from swiftctl.jobs.stages import start_point

    job, out = lj.job, []
    start = start_point(lj)
    if start.kind == "missing":
        out.append(("path.from-run", "error", f"model.from_run {start.checkpoint} has no ms-swift run with a "
                    "checkpoint", "train the SFT job first (its output.dir), or fix the path", "model.from_run"))
    r = job.rlhf
    if job.stage == "grpo" and r is not None and r.use_vllm and job.resources.device == "cpu" and r.vllm_fallback:
        out.append(("rlhf.vllm-fallback", "warning", "vLLM asked for on a CPU job: completions are generated with "
                    "transformers instead (rlhf.vllm_fallback = true)", "run on a GPU node for vLLM rollouts",
                    "rlhf.use_vllm"))
    if job.stage == "grpo" and r is not None and r.persona_reference_column and "swiftctl_persona" in r.reward_funcs:
        import importlib.util

        if importlib.util.find_spec("rouge_score") is None:
            out.append(("rlhf.persona-needs-rouge", "error", "swiftctl_persona scores closeness to "
                        f"{r.persona_reference_column!r} with ROUGE-L, but rouge-score is not installed",
                        "pip install 'swiftctl[eval]' in the training environment, or remove "
                        "rlhf.persona_reference_column", "rlhf.persona_reference_column"))
    return out
