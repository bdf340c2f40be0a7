"""Compile a job into a launch plan: the exact env + argv of `swift sft`. A pure function (no I/O, no processes).

Inputs that depend on the machine (the argument list of the installed ms-swift, the patch environment, the
profile's runtime env, the node rank) are passed in, so the same inputs always give the same plan (golden tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.load import LoadedJob, is_local_dataset, is_local_model
from swiftctl.jobs.stages import check_stage, registered_rewards, stage_arglist, stage_argv, stage_env, start_point
from swiftctl.jobs.swift_args import ArgList, replacement
from swiftctl.secrets import SECRET_OPTIONS

ALLOC_CONF = "expandable_segments:True"


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]                 # ["swift", "sft", ...]; argv[0] is resolved to the installed binary at launch
    env: dict[str, str]             # only the variables the plan sets (added to the caller's environment)
    output_dir: Path
    nproc_per_node: int
    nnodes: int
    node_rank: int
    arg_source: str                 # where the argument names were validated from
    runtime_secrets: tuple[str, ...] = field(default_factory=tuple)  # env names used from the environment


def _opt(argv: list[str], name: str, *values: object) -> None:
    if not values or all(v is None for v in values):
        return
    texts = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    if len(texts) == 1 and texts[0].startswith("-"):
        argv.append(f"--{name}={texts[0]}")  # argparse would take a separate "-x" for an option
        return
    argv.append(f"--{name}")
    argv += texts


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _datasets(loaded: LoadedJob, entries: list[str]) -> list[str]:
    out = []
    for entry in entries:
        if is_local_dataset(entry):
            path, sep, count = entry.partition("#")
            out.append(f"{loaded.local(path)}{sep}{count}")
        else:
            out.append(entry)
    return out


def _build_argv(loaded: LoadedJob, major: int) -> list[str]:
    job = loaded.job
    m, d, t, tr, tk = job.model, job.data, job.tuner, job.train, job.tracking
    local_model = is_local_model(m.path)
    argv = ["swift", "sft"]
    _opt(argv, "model", str(loaded.local(m.path)) if local_model else m.path)
    _opt(argv, "model_type", m.model_type)
    _opt(argv, "template", m.template)
    _opt(argv, "torch_dtype", m.torch_dtype)
    _opt(argv, "attn_impl", m.attn_impl)
    if local_model:
        _opt(argv, "check_model", False)  # a local dir: skip ~20 s of hub retries
    _opt(argv, "dataset", *_datasets(loaded, d.train))
    if d.val:
        _opt(argv, "val_dataset", *_datasets(loaded, d.val))
        _opt(argv, "split_dataset_ratio", 0)
    _opt(argv, "system", d.system)
    if d.identity and any(not is_local_dataset(e) and "self-cognition" in e for e in d.train):
        if d.identity.name:
            _opt(argv, "model_name", *d.identity.name)
        if d.identity.author:
            _opt(argv, "model_author", *d.identity.author)
    _opt(argv, "max_length", d.max_length)
    _opt(argv, "truncation_strategy", d.truncation_strategy)
    if d.packing:
        _opt(argv, "packing", True)
    if d.padding_free:
        _opt(argv, "padding_free", True)
    _opt(argv, "dataloader_num_workers", d.num_workers)
    _opt(argv, "dataset_num_proc", d.num_proc)
    _opt(argv, "strict", d.strict)
    _opt(argv, "tuner_type" if major >= 4 else "train_type", "lora" if t.type == "qlora" else t.type)
    if t.bits:
        _opt(argv, "quant_method", "bnb")
        _opt(argv, "quant_bits", t.bits)
    _opt(argv, "lora_rank", t.lora_rank)
    _opt(argv, "lora_alpha", t.lora_alpha)
    _opt(argv, "lora_dropout", t.lora_dropout)
    if t.target_modules:
        _opt(argv, "target_modules", *t.target_modules)
    _opt(argv, "per_device_train_batch_size", tr.per_device_batch_size)
    _opt(argv, "per_device_eval_batch_size", tr.eval_batch_size)
    _opt(argv, "gradient_accumulation_steps", tr.gradient_accumulation_steps)
    _opt(argv, "num_train_epochs", None if tr.num_train_epochs is None else _fmt(tr.num_train_epochs))
    _opt(argv, "max_steps", tr.max_steps)
    _opt(argv, "learning_rate", tr.learning_rate)
    _opt(argv, "warmup_ratio", tr.warmup_ratio)
    _opt(argv, "weight_decay", tr.weight_decay)
    _opt(argv, "gradient_checkpointing", tr.gradient_checkpointing)
    _opt(argv, "deepspeed", tr.deepspeed)
    _opt(argv, "fsdp", tr.fsdp)
    _opt(argv, "use_liger_kernel", tr.use_liger_kernel)
    _opt(argv, "logging_steps", tr.logging_steps)
    _opt(argv, "eval_steps", tr.eval_steps)
    _opt(argv, "save_steps", tr.save_steps)
    _opt(argv, "save_total_limit", tr.save_total_limit)
    _opt(argv, "seed", tr.seed)
    _opt(argv, "output_dir", loaded.local(job.output.dir))
    _opt(argv, "report_to", *tk.report_to)
    if "swanlab" in tk.backend:
        _opt(argv, "swanlab_project", tk.project)
        _opt(argv, "swanlab_workspace", tk.workspace)
        _opt(argv, "swanlab_exp_name", tk.exp_name)
        _opt(argv, "swanlab_mode", _SWANLAB_MODE.get(tk.mode or "", tk.mode))  # ms-swift 4.6: cloud | local
    return argv


_SWANLAB_MODE = {"offline": "local"}
_WANDB_MODE = {"offline": "offline", "local": "offline", "disabled": "disabled", "cloud": "online"}
# Secrets each tracker reads from the environment at run time (never from the job, never written).
TRACKER_SECRETS = {"swanlab": ("SWANLAB_API_KEY",), "wandb": ("WANDB_API_KEY",),
                   "mlflow": ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD")}


def tracking_env(loaded: LoadedJob) -> dict[str, str]:
    """Environment for wandb / mlflow (configured by variables, not `swift sft` arguments); no secrets."""
    tk, env = loaded.job.tracking, {}
    if "wandb" in tk.backend:
        pairs = {"WANDB_PROJECT": tk.project, "WANDB_ENTITY": tk.workspace, "WANDB_NAME": tk.exp_name,
                 "WANDB_MODE": _WANDB_MODE.get(tk.mode or "")}
        env.update({k: v for k, v in pairs.items() if v})
    if "mlflow" in tk.backend:
        pairs = {"MLFLOW_EXPERIMENT_NAME": tk.project, "MLFLOW_RUN_NAME": tk.exp_name}
        env.update({k: v for k, v in pairs.items() if v})
    return env


def option_names(argv: list[str]) -> list[tuple[int, str]]:
    """(index, name) of each `--name` option in an argv (`--name=value` too)."""
    return [(i, a[2:].partition("=")[0]) for i, a in enumerate(argv) if a.startswith("--") and len(a) > 2]


def check_extra_args(loaded: LoadedJob, args: ArgList, compiled: set[str]) -> list[SwiftctlError]:
    """Problems with ``extra_args``: unknown or renamed names, and arguments the job already sets."""
    errors = []
    for i, name in option_names(loaded.job.extra_args):
        where = loaded.where(f"extra_args.{i}")
        new = replacement(name, args.major)
        if new is not None and name not in args.names:
            errors.append(SwiftctlError(f"--{name} was renamed to --{new} in ms-swift {args.major}.x", location=where,
                                        hint=f"use --{new} (or run `swiftctl job migrate {loaded.path}`)"))
        elif name not in args.names:
            import difflib

            close = difflib.get_close_matches(name, sorted(args.names), n=1)
            errors.append(SwiftctlError(f"--{name} is not a `swift sft` argument of ms-swift {args.version}",
                                        location=where, hint=f"did you mean --{close[0]}?" if close
                                        else f"remove it (argument list from {args.source})"))
        elif f"--{name}" in SECRET_OPTIONS:
            errors.append(SwiftctlError(f"--{name} would put a secret in the command line", location=where,
                                        hint="remove it and export the secret in the environment (e.g. SWANLAB_API_KEY)"))
        elif name == "fsdp" and loaded.job.train.deepspeed:
            errors.append(SwiftctlError(f"--fsdp cannot be combined with train.deepspeed = {loaded.job.train.deepspeed!r}",
                                        location=where, hint="use one of them: remove --fsdp or train.deepspeed"))
        elif name in compiled:
            errors.append(SwiftctlError(f"--{name} is already set by the job", location=where,
                                        hint="set it through the job's own key instead of extra_args"))
    if args.source.startswith("installed:"):  # value types are known only from the installed ms-swift
        from swiftctl.jobs.argtypes import extra_arg_problems

        errors += [SwiftctlError(msg, location=loaded.where(f"extra_args.{i}"), hint="fix the value in extra_args")
                   for i, msg in extra_arg_problems(loaded.job.extra_args)]
    return errors


def compile_plan(loaded: LoadedJob, args: ArgList, *, node_rank: int = 0,
                 extra_env: Mapping[str, str] | None = None, slurm: bool = False) -> LaunchPlan:
    """Job → launch plan for the ms-swift whose argument list is ``args``; every problem raised at once.

    With ``slurm`` the rendezvous (MASTER_ADDR, NODE_RANK) is left to the sbatch script's SLURM variables.
    """
    job, res = loaded.job, loaded.job.resources
    args, errors = stage_arglist(loaded, args)
    start = start_point(loaded)
    argv = stage_argv(loaded, _build_argv(loaded, args.major), start)
    compiled = {name for _, name in option_names(argv)}
    errors += check_stage(loaded, start, registered_rewards(args))
    errors += [SwiftctlError(f"--{name} is not a `swift {argv[1]}` argument of ms-swift {args.version}",
                            hint=f"set swift_version to the installed ms-swift's major version ({args.source})",
                            location=loaded.where("swift_version"))
              for name in sorted(compiled - args.names)]
    errors += check_extra_args(loaded, args, compiled)
    if not 0 <= node_rank < res.nodes:
        errors.append(SwiftctlError(f"node rank {node_rank} is outside 0..{res.nodes - 1} (NODE_RANK must be < NNODES)",
                                    hint=f"pass --node-rank between 0 and {res.nodes - 1}",
                                    location=loaded.where("resources.nodes")))
    if res.nodes > 1 and not res.master_addr and not slurm:
        errors.append(SwiftctlError("a multi-node job needs the rendezvous host", location=loaded.where("resources"),
                                    hint="set resources.master_addr = \"<node 0 hostname>\" (or use --slurm)"))
    if errors:
        raise ErrorGroup(f"{loaded.path}: cannot compile the job", errors)
    if res.device == "cpu" and res.nodes > 1:
        # without it transformers sees no accelerator and trains each rank alone (parallel_mode NOT_PARALLEL,
        # every rank "world process zero"), although ms-swift's process group is up with world_size = nodes
        argv += ["--use_cpu", "true"]
    argv += job.extra_args
    env: dict[str, str] = dict(extra_env or {})
    env.update(res.env)
    env.update(stage_env(loaded))
    if res.device == "cuda":
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in res.visible)
        env["NPROC_PER_NODE"] = str(res.gpus_per_node)
        env["PYTORCH_CUDA_ALLOC_CONF"] = ALLOC_CONF
    if res.nodes > 1:
        if res.device == "cpu":
            env["NPROC_PER_NODE"] = "1"  # one process per node (torchrun's --nproc_per_node)
        env.update(NNODES=str(res.nodes), NODE_RANK=str(node_rank), MASTER_ADDR=str(res.master_addr or ""),
                   MASTER_PORT=str(res.master_port))
    elif res.device == "cuda":
        env["MASTER_PORT"] = str(res.master_port)
    env.update(tracking_env(loaded))
    secrets = tuple(name for tracker in job.tracking.backend for name in TRACKER_SECRETS.get(tracker, ()))
    return LaunchPlan(argv=argv, env=env, output_dir=loaded.local(job.output.dir), nproc_per_node=res.gpus_per_node,
                      nnodes=res.nodes, node_rank=node_rank, runtime_secrets=secrets,
                      arg_source=f"ms-swift {args.version} ({args.source.partition(':')[0]} argument list)")
