"""`doctor --job JOB`: does this machine fit the job? Its GPU count, its cuda_visible_devices and the disk its
checkpoints need, measured against the GPU probe and the free space under the job's output dir.

The disk estimate is deliberately coarse and says how it was made: weights from the model dir's *.safetensors/*.bin,
a full fine-tune checkpoint = weights + AdamW state (2 fp32 moments = 4× bf16 weights), a LoRA checkpoint ≈ 5 % of
the weights (an upper bound for ranks ≤ 64), times save_total_limit (all checkpoints are kept when it is unset).
"""

from __future__ import annotations

from pathlib import Path

from swiftctl.envcheck.findings import Finding, Severity
from swiftctl.envcheck.gpu_usage import busy
from swiftctl.envcheck.probe import Disk, GpuProbe

FULL_FACTOR, LORA_FACTOR = 5.0, 0.05


def weights_gib(model_dir: Path) -> float | None:
    files = [p for pattern in ("*.safetensors", "*.bin") for p in model_dir.glob(pattern)]
    return round(sum(p.stat().st_size for p in files) / 1024**3, 2) if files else None


def checkpoint_need_gib(lj) -> tuple[float | None, str]:
    """(GiB the job's checkpoints need, how that was estimated)."""
    from swiftctl.jobs.load import is_local_model

    job = lj.job
    if not is_local_model(job.model.path) or not lj.local(job.model.path).is_dir():
        return None, f"model {job.model.path} is not a local dir: its size is unknown here"
    weights = weights_gib(lj.local(job.model.path))
    if weights is None:
        return None, f"no *.safetensors/*.bin in {lj.local(job.model.path)}"
    factor = FULL_FACTOR if job.tuner.type == "full" else LORA_FACTOR
    keep = job.train.save_total_limit
    need = round(weights * factor * (keep or 1), 2)
    how = (f"{job.tuner.type}: {weights} GiB weights × {factor} per checkpoint × "
           f"{keep if keep else '1 (save_total_limit unset: every checkpoint is kept, so more)'}")
    return need, how


def job_findings(lj, gpus: GpuProbe, disk: Disk) -> list[Finding]:
    """GPU count, visible devices and disk of ``lj`` (a jobs.load.LoadedJob) against this machine."""
    out: list[Finding] = []
    res = lj.job.resources
    where = lj.where("resources")
    if res.device == "cuda":
        visible = res.visible
        if gpus.status != "ok":
            out.append(Finding("job.no-gpu", Severity.ERROR, f"{where}: the job needs {res.gpus_per_node} GPU(s) per node "
                               f"but nvidia-smi {gpus.status}" + (f" ({gpus.detail})" if gpus.detail else ""),
                               "resources.device = \"cuda\"", "run it on a GPU node, or set resources.device = \"cpu\" "
                               "and gpus_per_node = 0", ("train",)))
        else:
            missing = [i for i in visible if i >= gpus.count]
            if missing:
                out.append(Finding("job.gpus-missing", Severity.ERROR,
                                   f"{lj.where('resources.cuda_visible_devices')}: the job uses GPU(s) "
                                   f"{','.join(map(str, visible))} but this machine has {gpus.count} "
                                   f"(0..{gpus.count - 1})", "CUDA fails with 'invalid device ordinal'",
                                   f"set resources.cuda_visible_devices to at most {gpus.count} GPUs and "
                                   f"gpus_per_node = {min(gpus.count, res.gpus_per_node)}", ("train",)))
            held = [g.index for g in gpus.gpus if g.index in visible and busy(g)]
            if held:
                out.append(Finding("job.gpus-busy", Severity.WARNING, f"GPU(s) {','.join(map(str, held))} of the job "
                                   "are held by another process", "the launch would run out of memory or crawl",
                                   "pick free GPUs in resources.cuda_visible_devices (see gpu.busy)"))
    elif gpus.status == "ok":
        out.append(Finding("job.cpu-on-gpu-node", Severity.INFO, f"{where}: a CPU job on a machine with "
                           f"{gpus.count} GPU(s)", "resources.device = \"cpu\"", "set resources.device = \"cuda\" "
                           "to use them"))
    need, how = checkpoint_need_gib(lj)
    if need is None:
        out.append(Finding("job.disk-unknown", Severity.INFO, "checkpoint size not estimated", how,
                           "check free space under output.dir by hand"))
    elif disk.free_gib is not None and disk.free_gib < need:
        out.append(Finding("job.disk-short", Severity.ERROR, f"{lj.where('output.dir')}: checkpoints need ~{need} GiB, "
                           f"{disk.free_gib} GiB free under {disk.path}", how,
                           "free space, set train.save_total_limit, or move output.dir to a bigger disk", ("train",)))
    return out
