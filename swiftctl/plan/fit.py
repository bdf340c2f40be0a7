"""The fit verdict for `job check`: the same memory model as `swiftctl plan`, only when the GPU memory is known."""

from __future__ import annotations

from dataclasses import dataclass

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.load import LoadedJob, is_local_model

WARN_SHARE = 0.9  # above 90 % of the GPU's memory: a warning (the estimate is not exact)


@dataclass(frozen=True)
class FitFinding:
    severity: str   # "error" | "warning"
    message: str
    hint: str
    key: str


def fit_finding(lj: LoadedJob) -> FitFinding | None:
    from swiftctl.plan.build import PlanOptions, make_plan
    from swiftctl.plan.gpus import lookup, table

    gpu = lj.job.resources.gpu
    if gpu and lookup(gpu) is None:
        return FitFinding("warning", f"unknown GPU {gpu!r}: no fit check",
                          f"use one of: {', '.join(g.name for g in table())}", "resources.gpu")
    m = lj.job.model.path
    if lj.job.resources.device != "cuda" or not is_local_model(m) or not (lj.local(m) / "config.json").is_file():
        return None
    try:
        report = make_plan(lj, PlanOptions(use_data=False))
    except SwiftctlError:
        return None  # unknown architecture or GPU: `swiftctl plan` says why
    mem = report.memory
    if mem.gpu_mem_gib is None or mem.per_gpu_peak_gib <= WARN_SHARE * mem.gpu_mem_gib:
        return None
    best = next((r for r in report.recommendations if r.fits), None)
    hint = f"e.g. {best.change} ({best.per_gpu_peak_gib:.1f} GiB); see `swiftctl plan {lj.path}`" if best else \
        f"see `swiftctl plan {lj.path}` for the breakdown"
    what = "does not fit" if not mem.fits else "is within 10 % of"
    return FitFinding("error" if not mem.fits else "warning",
                      f"predicted peak {mem.per_gpu_peak_gib:.1f} GiB per GPU {what} {mem.gpu_mem_gib:g} GiB ({mem.gpu})",
                      hint, "resources.gpu" if lj.job.resources.gpu else "train")
