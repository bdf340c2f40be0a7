"""`swiftctl job migrate`: a pasted `swift sft` command line (2.x/3.x/4.x) → a corrected ms-swift 4.x job TOML,
or a job file whose ``extra_args`` use old names → the same job with 4.x names.

Every change is listed in ``notes`` (and as comments at the top of the TOML), so nothing is silently dropped.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from pydantic import ValidationError

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.schema import Job
from swiftctl.jobs.swift_args import bundled, replacement
from swiftctl.secrets import SECRET_OPTIONS, is_secret_name

# `swift sft` argument → dotted job key (4.x names)
FIELD_OF = {
    "model": "model.path", "model_type": "model.model_type", "template": "model.template",
    "torch_dtype": "model.torch_dtype", "attn_impl": "model.attn_impl",
    "dataset": "data.train", "val_dataset": "data.val", "system": "data.system", "max_length": "data.max_length",
    "truncation_strategy": "data.truncation_strategy", "packing": "data.packing", "padding_free": "data.padding_free",
    "use_liger_kernel": "train.use_liger_kernel",
    "dataloader_num_workers": "data.num_workers", "dataset_num_proc": "data.num_proc", "strict": "data.strict",
    "tuner_type": "tuner.type", "lora_rank": "tuner.lora_rank", "lora_alpha": "tuner.lora_alpha",
    "lora_dropout": "tuner.lora_dropout", "target_modules": "tuner.target_modules",
    "per_device_train_batch_size": "train.per_device_batch_size", "per_device_eval_batch_size": "train.eval_batch_size",
    "gradient_accumulation_steps": "train.gradient_accumulation_steps", "num_train_epochs": "train.num_train_epochs",
    "max_steps": "train.max_steps", "learning_rate": "train.learning_rate", "warmup_ratio": "train.warmup_ratio",
    "weight_decay": "train.weight_decay", "gradient_checkpointing": "train.gradient_checkpointing",
    "deepspeed": "train.deepspeed", "logging_steps": "train.logging_steps", "eval_steps": "train.eval_steps",
    "save_steps": "train.save_steps", "save_total_limit": "train.save_total_limit", "seed": "train.seed",
    "output_dir": "output.dir", "report_to": "tracking.backend", "swanlab_project": "tracking.project",
    "swanlab_workspace": "tracking.workspace", "swanlab_exp_name": "tracking.exp_name", "swanlab_mode": "tracking.mode",
}
_LISTS = {"data.train", "data.val", "tuner.target_modules"}
_DEEPSPEED_2X = {"default-zero2": "zero2", "default-zero3": "zero3"}
# max_position_embeddings of well-known Qwen chat models, for when the model dir is not on this machine
KNOWN_MAX_POSITIONS = {"qwen2-": 32768, "qwen2.5-": 32768}


@dataclass
class MigrateResult:
    toml: str
    notes: list[str] = field(default_factory=list)


def split_command(text: str) -> tuple[dict[str, str], list[str]]:
    """Leading VAR=value assignments and the argv of a pasted shell command (line continuations allowed)."""
    try:
        words = shlex.split(text.replace("\\\n", " "), comments=True)
    except ValueError as exc:
        raise SwiftctlError(f"cannot parse the command line: {exc}", hint="check its quotes") from None
    env = {}
    while words and "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if words[:1] == ["export"]:
        raise SwiftctlError("pass the `swift sft ...` line itself", hint="put VAR=value before `swift sft`")
    return env, words


def _options(argv: list[str], notes: list[str]) -> dict[str, list[str]]:
    if len(argv) < 2 or Path(argv[0]).name != "swift" or argv[1] != "sft":
        raise SwiftctlError("not a `swift sft` command", hint="paste the whole `swift sft --model ... ` line")
    opts: dict[str, list[str]] = {}
    name = None
    for word in argv[2:]:
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if name in opts:
                notes.append(f"--{name} was given twice: kept the last value")
            opts[name] = [value] if eq else []
        elif name is None:
            raise SwiftctlError(f"unexpected argument {word!r} before the first --option")
        else:
            opts[name].append(word)
    return opts


def _set(tree: dict, dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def migrate_command(text: str) -> MigrateResult:
    """A `swift sft` command line → a 4.x job (as TOML text) and the list of what was changed and why."""
    notes: list[str] = []
    env, argv = split_command(text)
    opts = _options(argv, notes)
    names = bundled(4).names
    tree: dict = {"swift_version": "4"}
    extra: list[str] = []
    for old, values in opts.items():
        name = replacement(old, 4) or old
        if name != old:
            notes.append(f"--{old} → --{name} (ms-swift 4.x name; --{old} is fatal there)")
        if name == "deepspeed" and values and values[0] in _DEEPSPEED_2X:
            values = [_DEEPSPEED_2X[values[0]]]
        if f"--{name}" in SECRET_OPTIONS:
            notes.append(f"--{name} dropped: secrets go in the environment (export SWANLAB_API_KEY=...)")
        elif name in ("model_name", "model_author"):
            notes.append(f"--{name} dropped: it only fills the registered swift/self-cognition dataset; fill "
                         "{{NAME}}/{{AUTHOR}} in a local self_cognition.jsonl instead")
        elif name in ("check_model", "split_dataset_ratio") and (name == "check_model" or "val_dataset" in opts):
            notes.append(f"--{name} dropped: swiftctl sets it")
        elif name in FIELD_OF:
            key = FIELD_OF[name]
            _set(tree, key, values if key in _LISTS else (values[0] if values else "true"))
        elif name in names:
            extra += [f"--{name}", *values]
        else:
            notes.append(f"--{name} is not a `swift sft` argument of ms-swift 4.x: dropped")
    if extra:
        tree["extra_args"] = extra
    _resources(tree, env, notes)
    _start_up_conflicts(tree, notes)
    _cap_length(tree, notes)
    try:
        job = Job.model_validate(tree)
    except ValidationError as exc:
        raise ErrorGroup("the migrated job is not valid", [
            SwiftctlError(e["msg"], location=".".join(str(p) for p in e["loc"])) for e in exc.errors()]) from None
    return MigrateResult(_to_toml(job, notes), notes)


def _drop_option(extra: list[str], name: str) -> bool:
    if name not in extra:
        return False
    i = extra.index(name)
    end = i + 1
    while end < len(extra) and not extra[end].startswith("--"):
        end += 1
    del extra[i:end]
    return True


def _start_up_conflicts(tree: dict, notes: list[str]) -> None:
    """Options ms-swift 4.6 rejects at start-up together (swiftctl.jobs.startup_rules has the codes and sources):
    dropped with a note when one of them is clearly redundant, refused when the fix is the user's choice."""
    extra = tree.get("extra_args", [])
    train, res = tree.get("train", {}), tree.get("resources", {})
    deepspeed = bool(train.get("deepspeed"))
    fsdp = "--fsdp" in extra
    procs = int(res.get("gpus_per_node", 1) or 1) * int(res.get("nodes", 1) or 1)
    if (deepspeed or fsdp or procs > 1) and _drop_option(extra, "--device_map"):
        why = "DeepSpeed" if deepspeed else "FSDP" if fsdp else f"data parallelism ({procs} processes)"
        notes.append(f"--device_map dropped (startup.device-map-parallel): ms-swift refuses device_map with {why}; "
                     "each process loads the whole model")
    if deepspeed and _drop_option(extra, "--fsdp"):
        notes.append("--fsdp dropped (startup.fsdp-deepspeed): ms-swift refuses DeepSpeed and FSDP together "
                     "(kept --deepspeed)")
    if train.get("warmup_ratio") is not None and "--warmup_steps" in extra:
        del train["warmup_ratio"]
        notes.append("--warmup_ratio dropped (startup.warmup-both): ms-swift refuses warmup_ratio with warmup_steps "
                     "(kept the explicit --warmup_steps)")
    data, attn = tree.get("data", {}), str(tree.get("model", {}).get("attn_impl", ""))
    for key in ("packing", "padding_free"):
        if str(data.get(key, "false")).lower() == "true" and not attn.startswith("flash"):
            code = key.replace("_", "-") + ".no-flash-attn"
            raise SwiftctlError(f"--{key} without flash attention: ms-swift 4.6 refuses this command at start-up "
                                f"({code}: 'The \"{key}\" feature requires a flash attention implementation')",
                                hint=f"add --attn_impl flash_attn (flash-attn installed) or remove --{key}, then "
                                "migrate again", location=f"--{key}")
    if not extra:
        tree.pop("extra_args", None)


def _resources(tree: dict, env: dict[str, str], notes: list[str]) -> None:
    res = tree.setdefault("resources", {})
    visible = [d for d in env.pop("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    nproc = env.pop("NPROC_PER_NODE", None)
    if visible:
        res["cuda_visible_devices"] = ",".join(visible)
    if nproc:
        res["gpus_per_node"] = int(nproc)
    elif len(visible) > 1:
        res["gpus_per_node"] = len(visible)
        notes.append(f"{len(visible)} visible GPUs without NPROC_PER_NODE: ms-swift ran ONE process with device_map "
                     f"model parallelism; now NPROC_PER_NODE={len(visible)} (data parallel, "
                     f"{len(visible)}× the global batch)")
    for var, key in (("NNODES", "nodes"), ("MASTER_ADDR", "master_addr"), ("MASTER_PORT", "master_port")):
        if var in env:
            res[key] = env.pop(var)
    env.pop("NODE_RANK", None)
    for name in [n for n in env if is_secret_name(n)]:
        env.pop(name)
        notes.append(f"{name} dropped: secrets are read from the environment at run time")
    if env:
        res["env"] = env


def _cap_length(tree: dict, notes: list[str]) -> None:
    data, model = tree.get("data", {}), tree.get("model", {}).get("path", "")
    if "max_length" not in data:
        return
    limit = None
    config = Path(model) / "config.json"
    if config.is_file():
        limit = json.loads(config.read_text(encoding="utf-8")).get("max_position_embeddings")
    else:
        limit = next((v for k, v in KNOWN_MAX_POSITIONS.items() if k in Path(model).name.lower()), None)
    if limit and int(data["max_length"]) > limit:
        notes.append(f"max_length {data['max_length']} exceeds the model's {limit} positions: set to {limit}")
        data["max_length"] = limit


def _to_toml(job: Job, notes: list[str]) -> str:
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Migrated by `swiftctl job migrate` to ms-swift 4.x. Changes:"))
    for note in notes or ["none"]:
        doc.add(tomlkit.comment(f"  - {note}"))
    dumped = job.model_dump(mode="json", exclude_unset=True)
    for key, value in dumped.items():
        doc[key] = value
    return tomlkit.dumps(doc)


def migrate_job(path: Path) -> MigrateResult:
    """A job file with 2.x/3.x names in extra_args → the same job text with 4.x names (comments kept)."""
    from swiftctl.jobs.load import load_job

    load_job(path)  # report schema errors first
    doc = tomlkit.parse(Path(path).read_text(encoding="utf-8"))
    notes: list[str] = []
    extra = doc.get("extra_args", [])
    for i, arg in enumerate(list(extra)):
        name, eq, value = str(arg)[2:].partition("=") if str(arg).startswith("--") else ("", "", "")
        new = replacement(name, 4) if name else None
        if new is not None:
            extra[i] = f"--{new}{eq}{value}"
            notes.append(f"extra_args: --{name} → --{new}")
    if str(doc.get("swift_version", "4")).split(".")[0] != "4":
        doc["swift_version"] = "4"
        notes.append("swift_version → \"4\"")
    return MigrateResult(tomlkit.dumps(doc), notes)


def read_command(source: str, stdin) -> str:
    """The command text from a file path, or from stdin for '-'."""
    if source == "-":
        from swiftctl.fsutil import read_stdin

        return read_stdin(stdin, what="the command", hint="pipe the `swift sft` command in, or pass the file holding it")
    from swiftctl.jobs.readjob import read_job_text

    # regular files only: a FIFO would block and /dev/zero would grow memory without end
    return read_job_text(Path(source), "command file", "pass a file with the `swift sft` command, or - to read it "
                         "from stdin")
