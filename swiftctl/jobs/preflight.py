"""Everything `swiftctl train` checks and computes for this machine before anything starts: the plan for this machine
(load → compile with the installed ms-swift's argument list and the patch environment), then the preflight (lint,
data, trackers, doctor, port, ms-swift installed). Raises one error (an ErrorGroup for many); starts nothing itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.compile import LaunchPlan
from swiftctl.jobs.load import LoadedJob


def environment_additions(lj: LoadedJob) -> dict[str, str]:
    """Patch environment (every torchrun worker) + the CPU profile's runtime env, as additions to os.environ."""
    from swiftctl.envcheck.profiles import load_profile
    from swiftctl.patches import patch_environment

    base = dict(os.environ)
    extra: dict[str, str] = {}
    if lj.job.resources.device == "cpu":
        with contextlib.suppress(SwiftctlError):  # the profile is an extra: env/ may be absent from a packaged install
            extra.update(load_profile("cpu").runtime_env)
    patched = patch_environment(base)
    extra.update({k: v for k, v in patched.items() if base.get(k) != v})
    return extra


def prepare(job_path: Path, *, node_rank: int = 0, slurm: bool = False,
            master_addr: str | None = None) -> tuple[LoadedJob, LaunchPlan]:
    """Load, validate and compile a job for this machine (installed ms-swift's argument list, patch env)."""
    from swiftctl.jobs.compile import compile_plan
    from swiftctl.jobs.load import load_job
    from swiftctl.jobs.swift_args import for_target

    lj = load_job(job_path)
    if master_addr:
        lj.job.resources.master_addr = master_addr
    plan = compile_plan(lj, for_target(lj.job.swift_version), node_rank=node_rank,
                        extra_env=environment_additions(lj), slurm=slurm)
    return lj, plan


def check_port(plan: LaunchPlan) -> None:
    port = plan.env.get("MASTER_PORT")
    if not port or plan.node_rank != 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("0.0.0.0", int(port)))
        except OSError:
            raise SwiftctlError(f"MASTER_PORT {port} is already in use on this machine (another training run?)",
                                hint="set resources.master_port to a free port", location="resources.master_port") from None


def swift_binary() -> str:
    import shutil

    beside = Path(sys.executable).parent / "swift"
    found = str(beside) if beside.is_file() else shutil.which("swift")
    if found is None or _version("ms-swift") is None:
        raise SwiftctlError("ms-swift is not installed: cannot launch `swift sft`",
                            hint="swiftctl env install cpu   (or pip install ms-swift in this environment)")
    return found


def preflight(lj: LoadedJob, plan: LaunchPlan, *, profile: str | None = None, skip_doctor: bool = False) -> None:
    """Doctor (for training), lint and data check; raise one ErrorGroup with every blocking problem."""
    from swiftctl.jobs.lint import lint_job
    from swiftctl.jobs.swift_args import for_target

    errors = [SwiftctlError(i.message, hint=i.hint, location=i.location)
              for i in lint_job(lj, for_target(lj.job.swift_version)).errors]
    errors += tracker_errors(lj)
    if not skip_doctor:
        from swiftctl.envcheck.doctor import run_doctor

        need = {"train", "track"} if "swanlab" in lj.job.tracking.backend else {"train"}
        report = run_doctor(profile=profile, require=need, output_dir=_existing(plan.output_dir))
        errors += [SwiftctlError(f.what, hint=f.fix, location="doctor") for f in report.blocking(need)]
    if errors:
        raise ErrorGroup(f"{lj.path}: preflight failed, nothing was launched", errors)


_TRACKER_PACKAGES = {"tensorboard": "tensorboard", "swanlab": "swanlab", "wandb": "wandb", "mlflow": "mlflow"}


def tracker_errors(lj: LoadedJob) -> list[SwiftctlError]:
    """Every tracker in tracking.backend must be installed where ms-swift runs (it would fail after loading)."""
    from importlib import metadata

    errors = []
    for name in lj.job.tracking.backend:
        package = _TRACKER_PACKAGES.get(name)
        if package is None:
            continue
        try:
            metadata.version(package)
        except metadata.PackageNotFoundError:
            errors.append(SwiftctlError(f"tracker {name} is not installed in this environment",
                                        hint=f"pip install {package}, or remove {name} from tracking.backend",
                                        location=lj.where("tracking.backend")))
    return errors


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path



def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
