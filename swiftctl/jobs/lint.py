"""`swiftctl job check`: the defects that make a job fail late or train badly, found before launch.

Each rule is one small function returning issues with the TOML location and the exact fix. Rules read files
(model config.json, datasets, mounts) but never start processes and never import heavy packages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.load import LoadedJob, is_local_dataset, is_local_model
from swiftctl.jobs.swift_args import ArgList

MIN_GLOBAL_BATCH = 16   # ms-swift's own target when it picks gradient_accumulation_steps
VLLM_MAX_LORA_RANK = 16
_SHARED_FS = {"nfs", "nfs4", "lustre", "gpfs", "cephfs", "ceph", "beegfs", "glusterfs", "fuse.glusterfs", "cifs",
              "smb3", "wekafs", "fuse.juicefs", "fuse.s3fs", "9p"}


@dataclass(frozen=True)
class Issue:
    code: str
    severity: Literal["error", "warning"]
    message: str
    hint: str
    location: str


@dataclass
class LintReport:
    job: str
    issues: list[Issue] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # checks not run (--offline), each saying what it would check

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


Rule = Callable[[LoadedJob], list[Issue]]


def _issue(lj: LoadedJob, code: str, sev: Literal["error", "warning"], msg: str, hint: str, key: str) -> Issue:
    return Issue(code, sev, msg, hint, lj.where(key))


def global_batch(lj: LoadedJob) -> int:
    r, t = lj.job.resources, lj.job.train
    return t.per_device_batch_size * (t.gradient_accumulation_steps or 1) * max(r.gpus_per_node, 1) * r.nodes


def rule_paths(lj: LoadedJob) -> list[Issue]:
    out = []
    m = lj.job.model
    if is_local_model(m.path) and not (lj.local(m.path) / "config.json").is_file():
        what = "does not exist" if not lj.local(m.path).exists() else "has no config.json"
        out.append(_issue(lj, "path.model", "error", f"model dir {lj.local(m.path)} {what}",
                          "point model.path at a downloaded model directory", "model.path"))
    for key, entries in (("data.train", lj.job.data.train), ("data.val", lj.job.data.val)):
        for i, entry in enumerate(entries):
            if is_local_dataset(entry) and not lj.local(entry.split("#", 1)[0]).is_file():
                out.append(_issue(lj, "path.dataset", "error", f"dataset file {lj.local(entry.split('#', 1)[0])} "
                                  "does not exist", "fix the path (relative paths start at the job file)", f"{key}.{i}"))
    return out


def rule_batch(lj: LoadedJob) -> list[Issue]:
    total = global_batch(lj)
    if total >= MIN_GLOBAL_BATCH or lj.job.resources.device == "cpu":
        return []
    t = lj.job.train
    need = -(-MIN_GLOBAL_BATCH * (t.gradient_accumulation_steps or 1) // total)
    return [_issue(lj, "batch.small", "warning", f"effective global batch is {total} (per-device "
                   f"{t.per_device_batch_size} × accumulation {t.gradient_accumulation_steps or 1} × "
                   f"{max(lj.job.resources.gpus_per_node, 1)} GPUs × {lj.job.resources.nodes} nodes): loss will be noisy",
                   f"set train.gradient_accumulation_steps = {need} (global batch ≥ {MIN_GLOBAL_BATCH})",
                   "train.gradient_accumulation_steps")]


def model_max_positions(model_dir: Path) -> int | None:
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("max_position_embeddings") or config.get("text_config", {}).get("max_position_embeddings")
    return int(value) if isinstance(value, int) else None


def rule_max_length(lj: LoadedJob) -> list[Issue]:
    d, m = lj.job.data, lj.job.model
    if not is_local_model(m.path):
        return []
    limit = model_max_positions(lj.local(m.path))
    if limit is None:
        return []
    if d.max_length is None:
        return [_issue(lj, "length.unset", "warning", f"data.max_length is unset: ms-swift uses the model maximum "
                       f"({limit}), which costs memory", "set data.max_length to your longest sample", "data")]
    if d.max_length > limit:
        return [_issue(lj, "length.over-model", "error", f"max_length {d.max_length} exceeds the model's "
                       f"{limit} positions (config.json max_position_embeddings)",
                       f"set data.max_length ≤ {limit}", "data.max_length")]
    return []


def rule_packing(lj: LoadedJob) -> list[Issue]:
    """ms-swift's _check_padding_free (sft_args.py:196): packing / padding_free need a flash attention impl."""
    from swiftctl.jobs.startup_rules import extra_option, truthy

    d, m, extra = lj.job.data, lj.job.model, lj.job.extra_args
    given = {k: extra_option(extra, k) for k in ("packing", "padding_free", "attn_impl")}
    on = {k: getattr(d, k) or (given[k] is not None and truthy(given[k][1])) for k in ("packing", "padding_free")}
    attn = given["attn_impl"][1][0] if given["attn_impl"] and given["attn_impl"][1] else m.attn_impl
    if (on["packing"] or on["padding_free"]) and not (attn or "").startswith("flash"):
        key = "packing" if on["packing"] else "padding_free"
        where = f"extra_args.{given[key][0]}" if given[key] and not getattr(d, key) else f"data.{key}"
        return [_issue(lj, f"{key}.no-flash-attn".replace("_", "-"), "error", f"{key} needs flash attention (ms-swift "
                       f"refuses it with attn_impl {attn or 'unset'}; without it samples attend across each other)",
                       "set model.attn_impl = \"flash_attn\" (install flash-attn) or turn "
                       f"{key} off", where)]
    return []


def rule_gpus(lj: LoadedJob) -> list[Issue]:
    r = lj.job.resources
    if r.device != "cuda":
        return []
    visible = len(r.visible)
    if visible % r.gpus_per_node:
        return [_issue(lj, "gpus.not-multiple", "error", f"{visible} visible GPUs is not a multiple of "
                       f"{r.gpus_per_node} processes", f"list {r.gpus_per_node} GPUs in resources.cuda_visible_devices",
                       "resources.cuda_visible_devices")]
    if visible // r.gpus_per_node >= 2:
        from swiftctl.jobs.startup_rules import sharding

        deepspeed, fsdp = sharding(lj)
        rlhf = lj.job.rlhf
        refuses = ("DeepSpeed" if deepspeed else "FSDP2" if fsdp else "liger kernels" if lj.job.train.use_liger_kernel
                   else "GRPO with vLLM" if lj.job.stage == "grpo" and rlhf and rlhf.use_vllm else None)
        sev: Literal["error", "warning"] = "error" if refuses else "warning"
        why = f"{refuses} rejects device_map" if refuses else "one process drives several GPUs, slowly"
        return [_issue(lj, "gpus.device-map", sev, f"{visible} visible GPUs for {r.gpus_per_node} process(es): "
                       f"ms-swift switches to device_map model parallelism ({why})",
                       f"set resources.gpus_per_node = {visible} for data parallel", "resources.gpus_per_node")]
    return []


def rule_lora_rank(lj: LoadedJob) -> list[Issue]:
    t = lj.job.tuner
    if t.type in ("lora", "qlora") and (t.lora_rank or 8) > VLLM_MAX_LORA_RANK:
        return [_issue(lj, "lora.rank-over-vllm", "warning", f"lora_rank {t.lora_rank} is above vLLM's default max "
                       f"LoRA rank ({VLLM_MAX_LORA_RANK}): serving the adapter will fail",
                       f"set tuner.lora_rank ≤ {VLLM_MAX_LORA_RANK}, or serve with --vllm_max_lora_rank "
                       f"{t.lora_rank} / a merged model", "tuner.lora_rank")]
    return []


def _fstype(path: Path) -> str | None:
    while not path.exists() and path != path.parent:
        path = path.parent
    best, fstype = "", None
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        parts = line.split()
        if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
            best, fstype = parts[1], parts[2]
    return fstype


def rule_shared_output(lj: LoadedJob) -> list[Issue]:
    r = lj.job.resources
    if r.nodes < 2 or r.shared_storage:
        return []
    fstype = _fstype(lj.local(lj.job.output.dir))
    if fstype in _SHARED_FS:
        return []
    return [_issue(lj, "multinode.output-not-shared", "warning", f"output dir is on {fstype or 'unknown'} storage, "
                   "not shared by the nodes: checkpoints and resume break",
                   "put output.dir on shared storage (NFS/Lustre/...) and set resources.shared_storage = true",
                   "output.dir")]


def rule_identity(lj: LoadedJob) -> list[Issue]:
    out, d = [], lj.job.data
    registered = any(not is_local_dataset(e) and "self-cognition" in e for e in d.train)
    if d.identity and not registered:
        out.append(_issue(lj, "identity.no-effect", "warning", "model name/author only fill the registered "
                          "swift/self-cognition dataset; local files keep {{NAME}}/{{AUTHOR}}",
                          "fill the placeholders in your self-cognition file and remove data.identity", "data.identity"))
    for i, entry in enumerate(d.train):
        path = lj.local(entry.split("#", 1)[0])
        if is_local_dataset(entry) and path.is_file() and path.stat().st_size < 64 << 20:
            text = path.read_text(encoding="utf-8", errors="replace")
            if "{{NAME}}" in text or "{{AUTHOR}}" in text:
                out.append(_issue(lj, "identity.placeholders", "error", f"{path.name} contains {{{{NAME}}}}/"
                                  "{{AUTHOR}} placeholders: the model would learn them literally",
                                  f"replace them in {path} with the model's name and author", f"data.train.{i}"))
    return out


def rule_swanlab_key(lj: LoadedJob) -> list[Issue]:
    t = lj.job.tracking
    if "swanlab" in t.backend and (t.mode or "cloud") == "cloud" and not os.environ.get("SWANLAB_API_KEY"):
        return [_issue(lj, "tracking.no-key", "warning", "swanlab cloud tracking without SWANLAB_API_KEY in the "
                       "environment", "export SWANLAB_API_KEY=... before training (or tracking.mode = \"local\")",
                       "tracking.backend")]
    return []


def rule_rendezvous(lj: LoadedJob) -> list[Issue]:
    r = lj.job.resources
    if r.nodes > 1 and not r.master_addr:
        return [_issue(lj, "multinode.no-master-addr", "warning", "no resources.master_addr: only `swiftctl train "
                       "--slurm` can launch this job", "set resources.master_addr = \"<node 0 hostname>\"",
                       "resources")]
    return []


def rule_swift_version(lj: LoadedJob) -> list[Issue]:
    from swiftctl.jobs.swift_args import installed_swift

    found = installed_swift()
    if found is None or found[0].split(".")[0] == str(lj.job.major):
        return []
    return [_issue(lj, "version.mismatch", "error", f"the job targets ms-swift {lj.job.swift_version} but "
                   f"{found[0]} is installed: its arguments would be rejected",
                   f"set swift_version = \"{found[0].split('.')[0]}\" (and run `swiftctl job migrate {lj.path}`)",
                   "swift_version")]


def rule_stage(lj: LoadedJob) -> list[Issue]:
    """Preference/RL stage findings (swiftctl.jobs.stage_rules)."""
    from swiftctl.jobs.stage_rules import lint_findings

    return [_issue(lj, code, sev, msg, hint, key) for code, sev, msg, hint, key in lint_findings(lj)]  # type: ignore[arg-type]


def rule_startup(lj: LoadedJob) -> list[Issue]:
    """Combinations ms-swift refuses at start-up (swiftctl.jobs.startup_rules)."""
    from swiftctl.jobs.startup_rules import findings

    return [_issue(lj, code, "error", msg, hint, key) for code, msg, hint, key in findings(lj)]


def rule_fit(lj: LoadedJob) -> list[Issue]:
    """`swiftctl plan`'s memory model, when the GPU memory is known (resources.gpu or this machine's GPUs)."""
    from swiftctl.plan.fit import fit_finding

    f = fit_finding(lj)
    return [_issue(lj, "memory.fit", f.severity, f.message, f.hint, f.key)] if f else []  # type: ignore[arg-type]


RULES: tuple[Rule, ...] = (rule_swift_version, rule_paths, rule_batch, rule_max_length, rule_packing, rule_gpus,
                           rule_lora_rank, rule_shared_output, rule_rendezvous, rule_identity, rule_swanlab_key,
                           rule_stage, rule_startup, rule_fit)


def rule_data(lj: LoadedJob) -> list[Issue]:
    """`swiftctl data check` on the local dataset files."""
    from swiftctl.data.check import check_files

    d, m = lj.job.data, lj.job.model
    train = [lj.local(e.split("#", 1)[0]) for e in d.train if is_local_dataset(e)]
    val = [lj.local(e.split("#", 1)[0]) for e in d.val if is_local_dataset(e)]
    if not train or not all(p.is_file() for p in [*train, *val]):
        return []  # reported by rule_paths
    model_dir = lj.local(m.path) if is_local_model(m.path) and lj.local(m.path).is_dir() else None
    try:
        report = check_files(train, val_paths=val, model_dir=model_dir, template=m.template,
                             max_length=d.max_length, system=d.system)
    except SwiftctlError as exc:
        return [_issue(lj, "data.check", "error", exc.message, exc.hint or "", "data.train")]
    from swiftctl.data.preference import check_stage

    r = lj.job.rlhf
    check_stage(report, train, lj.job.stage, reward_funcs=r.reward_funcs if r else (),
                reference_column=r.persona_reference_column if r else None)
    out = []
    for sev, problems in (("error", report.errors), ("warning", report.warnings)):
        for p in problems:
            out.append(Issue("data.check", sev, p.message, p.fix, p.location))
    return out


# What `job check --offline` leaves out: the rules that read the model or the dataset files (a CI lint runner has neither).
NEEDS_MODEL_OR_DATA: dict[Rule, str] = {
    rule_paths: "model.path and the dataset files exist (path.model, path.dataset)",
    rule_max_length: "data.max_length against the model's config.json (length.unset, length.over-model)",
    rule_data: "data check of the dataset files: format, roles, duplicates, token lengths (data.check)",
    rule_fit: "memory fit against the GPU, from the model's config.json (memory.fit; `swiftctl plan --config` works offline)",
}


def lint_job(lj: LoadedJob, args: ArgList, *, data: bool = True, offline: bool = False) -> LintReport:
    """Run every rule (and the compile-time argument checks) and collect the issues.

    ``offline`` runs only what needs neither the model nor the data; ``report.skipped`` says what was left out."""
    from swiftctl.jobs.compile import compile_plan

    report = LintReport(job=str(lj.path))
    try:
        compile_plan(lj, args, slurm=True)
    except ErrorGroup as group:
        report.issues += [Issue("args", "error", e.message, e.hint or "", e.location or "") for e in group.errors]
    for rule in (*RULES, rule_data) if data else RULES:
        if offline and rule in NEEDS_MODEL_OR_DATA:
            report.skipped.append(NEEDS_MODEL_OR_DATA[rule])
            continue
        report.issues += rule(lj)
    return report
