"""`swiftctl train`: preflight, then launch `swift sft` through :func:`swiftctl.launch.process.run`, and record it.

Order matters for "nothing written on bad input": every check (job, arguments, lint, doctor, data, output dir,
port, ms-swift installed) runs before the output dir is created. The run's console is teed to
``output_dir/swiftctl-train.log``; the manifest goes to ms-swift's versioned run dir (see launch.manifest).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.load import LoadedJob, is_local_dataset
from swiftctl.launch import manifest as mf
from swiftctl.jobs.compile import LaunchPlan

LOG_NAME = "swiftctl-train.log"
_VERSIONED = re.compile(r"^v\d+-\d{8}-\d{6}$")
_INTERRUPTED = {129, 130, 143}


@dataclass(frozen=True)
class TrainResult:
    exit_code: int
    status: str
    output_dir: Path
    run_dir: Path | None
    manifest: Path
    log: Path
    resumed_from: Path | None


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


def versioned_runs(output_dir: Path) -> list[Path]:
    if not output_dir.is_dir():
        return []
    return sorted((p for p in output_dir.iterdir() if p.is_dir() and _VERSIONED.match(p.name)),
                  key=lambda p: (int(p.name[1:].split("-")[0]), p.name))


def last_checkpoint(output_dir: Path) -> Path | None:
    """The last complete checkpoint of the newest run that has one."""
    from swiftctl.runs.rundir import load_run

    for run in reversed(versioned_runs(output_dir)):
        with contextlib.suppress(SwiftctlError):
            ckpt = load_run(run).last_checkpoint
            if ckpt is not None:
                return ckpt.path
    return None


def with_resume(plan: LaunchPlan, checkpoint: Path) -> LaunchPlan:
    return replace(plan, argv=[*plan.argv, "--resume_from_checkpoint", str(checkpoint)])


def check_output_dir(plan: LaunchPlan, resume: bool) -> Path | None:
    """Refuse to clobber; with resume, the checkpoint to continue from."""
    out = plan.output_dir
    if out.exists() and not out.is_dir():
        raise SwiftctlError(f"output dir {out} is a file", hint="set output.dir to a directory", location="output.dir")
    busy = out.is_dir() and bool(mf.blocking_entries(out, versioned_runs(out), last_checkpoint))
    if not resume:
        if busy:
            raise SwiftctlError(f"output dir {out} is not empty: refusing to overwrite a previous run",
                                hint="add --resume to continue it, or set another output.dir", location="output.dir")
        return None
    ckpt = last_checkpoint(out) if busy else None
    if ckpt is None:
        raise SwiftctlError(f"nothing to resume: no complete checkpoint under {out}",
                            hint="run without --resume to start from scratch", location="output.dir")
    return ckpt


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
    if found is None or mf.package_versions().get("ms-swift") is None:
        raise SwiftctlError("ms-swift is not installed: cannot launch `swift sft`",
                            hint="swiftctl env install cpu   (or pip install ms-swift in this environment)")
    return found


def preflight(lj: LoadedJob, plan: LaunchPlan, *, profile: str | None = None, skip_doctor: bool = False) -> None:
    """Doctor (for training), lint and data check; raise one ErrorGroup with every blocking problem."""
    from swiftctl.jobs.lint import lint_job
    from swiftctl.jobs.swift_args import for_target

    errors = [SwiftctlError(i.message, hint=i.hint, location=i.location)
              for i in lint_job(lj, for_target(lj.job.swift_version)).errors]
    if not skip_doctor:
        from swiftctl.envcheck.doctor import run_doctor

        need = {"train", "track"} if lj.job.tracking.backend == "swanlab" else {"train"}
        report = run_doctor(profile=profile, require=need, output_dir=_existing(plan.output_dir))
        errors += [SwiftctlError(f.what, hint=f.fix, location="doctor") for f in report.blocking(need)]
    if errors:
        raise ErrorGroup(f"{lj.path}: preflight failed, nothing was launched", errors)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def launch(lj: LoadedJob, plan: LaunchPlan, *, resume: bool = False, profile: str | None = None,
           skip_doctor: bool = False, echo: bool = True) -> TrainResult:
    """Check everything, then run the plan; returns when the run ends (or is interrupted)."""
    preflight(lj, plan, profile=profile, skip_doctor=skip_doctor)
    with mf.output_lock(plan.output_dir):  # a second `swiftctl train` into the same dir is refused until this ends
        return _launch(lj, plan, resume=resume, echo=echo)


def _launch(lj: LoadedJob, plan: LaunchPlan, *, resume: bool, echo: bool) -> TrainResult:
    ckpt = check_output_dir(plan, resume)
    check_port(plan)
    swift = swift_binary()
    if ckpt is not None:
        plan = with_resume(plan, ckpt)
    from swiftctl.launch.process import run

    out = plan.output_dir
    before = set(versioned_runs(out))
    out.mkdir(parents=True, exist_ok=True)
    log = out / (LOG_NAME if plan.node_rank == 0 else f"swiftctl-train.node{plan.node_rank}.log")
    record = mf.Manifest(
        job={"path": str(lj.path), "sha256": mf.sha256_file(lj.path), "text": lj.path.read_text(encoding="utf-8"),
             "resolved": lj.job.model_dump(mode="json")},
        command=mf.command_record(plan.argv, plan.env, plan.runtime_secrets, plan.arg_source),
        output_dir=str(out), log=str(log), node_rank=plan.node_rank, nnodes=plan.nnodes,
        nproc_per_node=plan.nproc_per_node, resumed_from=str(ckpt) if ckpt else None,
        patches=[p for p in plan.env.get("SWIFTCTL_PATCHES", "").split(",") if p],
        patch_env=sorted(k for k in plan.env if k not in _PLAN_KEYS and k not in lj.job.resources.env),
        datasets=mf.dataset_records([lj.local(e.split("#", 1)[0]) for e in [*lj.job.data.train, *lj.job.data.val]
                                     if is_local_dataset(e)]),
        git=mf.git_state(lj.path.resolve().parent))
    watcher = _RunDirWatcher(out, before, record)
    code = run([swift, *plan.argv[1:]], env={**os.environ, **plan.env}, cwd=out, log_path=log, echo=echo,
               on_line=watcher.poll)
    watcher.poll("", force=True)
    record.finish(code, interrupted=code in _INTERRUPTED)
    path = record.write(watcher.run_dir or out)
    return TrainResult(code, record.status, out, watcher.run_dir, path, log, ckpt)


_PLAN_KEYS = {"CUDA_VISIBLE_DEVICES", "NPROC_PER_NODE", "PYTORCH_CUDA_ALLOC_CONF", "NNODES", "NODE_RANK",
              "MASTER_ADDR", "MASTER_PORT"}


class _RunDirWatcher:
    """Notices ms-swift's new vN-* run dir from the console stream and writes the 'running' manifest into it."""

    def __init__(self, output_dir: Path, before: set[Path], record: mf.Manifest) -> None:
        self.output_dir, self.before, self.record = output_dir, before, record
        self.run_dir: Path | None = None
        self._next = 0.0

    def poll(self, _line: str, force: bool = False) -> None:
        if self.run_dir is not None or (not force and time.monotonic() < self._next):
            return
        self._next = time.monotonic() + 1.0
        new = [p for p in versioned_runs(self.output_dir) if p not in self.before]
        if new:
            self.run_dir = new[-1]
            self.record.run_dir = str(self.run_dir)
            with contextlib.suppress(OSError):
                self.record.write(self.run_dir)


def prepare(job_path: Path, *, node_rank: int = 0, slurm: bool = False) -> tuple[LoadedJob, LaunchPlan]:
    """Load, validate and compile a job for this machine (installed ms-swift's argument list, patch env)."""
    from swiftctl.jobs.load import load_job
    from swiftctl.jobs.swift_args import for_target
    from swiftctl.jobs.compile import compile_plan

    lj = load_job(job_path)
    plan = compile_plan(lj, for_target(lj.job.swift_version), node_rank=node_rank,
                        extra_env=environment_additions(lj), slurm=slurm)
    return lj, plan


def write_script(path: Path, text: str, *, mode: int = 0o755, overwrite: bool = False) -> None:
    """Write a script/job atomically; an existing file is replaced only with ``overwrite`` (--force)."""
    from swiftctl.fsutil import atomic_write_text, umask_mode

    try:
        atomic_write_text(Path(path), text, overwrite=overwrite, file_mode=umask_mode(mode))
    except FileExistsError:
        raise SwiftctlError(f"{path} already exists: refusing to overwrite it", hint="choose another file name or "
                            "remove it first", location=str(path)) from None
