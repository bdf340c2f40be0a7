"""`swiftctl train`: preflight, then launch `swift sft` through :func:`swiftctl.launch.process.run`, and record it.

Order matters for "nothing written on bad input": every check (job, arguments, lint, doctor, data, output dir,
port, ms-swift installed) runs before the output dir is created. The run's console is teed to
``output_dir/swiftctl-train.log``; the manifest goes to ms-swift's versioned run dir (see launch.manifest).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.compile import LaunchPlan
from swiftctl.jobs.load import LoadedJob, is_local_dataset
from swiftctl.launch import manifest as mf
from swiftctl.launch import rendezvous as rdv

LOG_NAME = "swiftctl-train.log"
LOCK_NAME = ".swiftctl-train.lock"
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


def check_output_dir(plan: LaunchPlan, resume: bool | str) -> Path | None:
    """Refuse to clobber; with resume, the checkpoint to continue from.

    ``resume``: "no" (False), "last" (True: a checkpoint must exist) or "auto" (the last complete checkpoint when
    there is one, else a fresh run beside the old ones). A checkpoint of a different model or tuner is refused.
    """
    mode = {True: "last", False: "no"}.get(resume, resume) if isinstance(resume, bool) else resume
    out = plan.output_dir
    if out.exists() and not out.is_dir():
        raise SwiftctlError(f"output dir {out} is a file", hint="set output.dir to a directory", location="output.dir")
    busy = out.is_dir() and any(p.name != LOCK_NAME for p in out.iterdir())
    if mode == "no":
        if busy:
            raise SwiftctlError(f"output dir {out} is not empty: refusing to overwrite a previous run",
                                hint="add --resume last (or auto) to continue it, or set another output.dir", location="output.dir")
        return None
    ckpt = last_checkpoint(out) if busy else None
    if ckpt is None and mode == "last":
        raise SwiftctlError(f"nothing to resume: no complete checkpoint under {out}",
                            hint="run without --resume to start from scratch", location="output.dir")
    if ckpt is not None:
        check_same_job(plan, ckpt)
    return ckpt


_SAME = (("model", "model"), ("tuner_type", "tuner.type"), ("train_type", "tuner.type"), ("lora_rank", "tuner.lora_rank"),
         ("model_type", "model.model_type"))


def check_same_job(plan: LaunchPlan, ckpt: Path) -> None:
    """The checkpoint must come from the same model and tuner (its run's args.json against the plan)."""
    import json

    try:
        saved = json.loads((ckpt.parent / "args.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    argv = plan.argv
    diffs = []
    for name, key in _SAME:
        flag = f"--{name}"
        if flag in argv and name in saved and saved[name] is not None:
            now = argv[argv.index(flag) + 1]
            if str(saved[name]) != now:
                diffs.append(f"{key}: {saved[name]} in the checkpoint, {now} in the job")
    if diffs:
        raise SwiftctlError(f"cannot resume from {ckpt}: it comes from a different job ({'; '.join(diffs)})",
                            hint="set another output.dir for the changed job, or restore the job that made it",
                            location="output.dir")


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


def launch(lj: LoadedJob, plan: LaunchPlan, *, resume: bool | str = False, profile: str | None = None,
           skip_doctor: bool = False, echo: bool = True, rendezvous_timeout: float = rdv.DEFAULT_TIMEOUT) -> TrainResult:
    """Check everything, then run the plan; returns when the run ends (or is interrupted).

    Multi-node: node 0 owns the output-dir checks, the lock and the manifest; every other node joins node 0's
    rendezvous (:mod:`swiftctl.launch.rendezvous`), takes the checkpoint to resume from there and writes its own log.
    """
    preflight(lj, plan, profile=profile, skip_doctor=skip_doctor)
    head = plan.node_rank == 0
    ckpt = check_output_dir(plan, resume) if head else None
    check_port(plan)
    swift = swift_binary()
    out = plan.output_dir
    with contextlib.ExitStack() as stack:
        if head:
            out.mkdir(parents=True, exist_ok=True)
            stack.enter_context(_locked(out))
        joined = _rendezvous(lj, plan, ckpt, rendezvous_timeout)
        if joined is not None and joined.resume and not head:
            ckpt = Path(joined.resume)
        if ckpt is not None:
            plan = with_resume(plan, ckpt)
        return _run(lj, plan, swift, ckpt, joined, echo)
    raise AssertionError("unreachable")


def _rendezvous(lj: LoadedJob, plan: LaunchPlan, ckpt: Path | None, timeout: float) -> rdv.Joined | None:
    if plan.nnodes < 2:
        return None
    addr, port = plan.env.get("MASTER_ADDR") or "127.0.0.1", rdv.control_port(int(plan.env.get("MASTER_PORT", "29500")))
    me = rdv.Hello(rank=plan.node_rank, host=socket.gethostname(), job_sha256=mf.sha256_file(lj.path),
                   job=lj.job.model_dump(mode="json"), nnodes=plan.nnodes)
    if plan.node_rank == 0:
        return rdv.host_nodes(me, addr, port, timeout=timeout, resume=str(ckpt) if ckpt else None)
    return rdv.join_node(me, addr, port, timeout=timeout)


@contextlib.contextmanager
def _locked(out: Path):
    """Node 0 holds an exclusive lock on the output dir while it trains (a second `train` there is refused)."""
    import fcntl

    with open(out / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SwiftctlError(f"another `swiftctl train` is running in {out}", location="output.dir",
                                hint="wait for it to end, or set another output.dir") from None
        yield


def _run(lj: LoadedJob, plan: LaunchPlan, swift: str, ckpt: Path | None, joined: rdv.Joined | None,
         echo: bool) -> TrainResult:
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
        git=mf.git_state(lj.path.resolve().parent),
        nodes=[n.__dict__ for n in joined.nodes] if joined else [])
    watcher = _RunDirWatcher(out, before, record if plan.node_rank == 0 else None)
    pid: list[int] = []
    if joined is not None:
        joined.channel.watch(lambda: pid[0] if pid else None)
    code = 1
    try:
        with _usr1_stops(record):
            code = run([swift, *plan.argv[1:]], env={**os.environ, **plan.env}, cwd=out, log_path=log, echo=echo,
                       on_line=watcher.poll, on_start=pid.append)
    finally:
        codes = joined.channel.finish(code, wait_for_peers=30 if plan.node_rank == 0 else 0) if joined else {}
    watcher.poll("", force=True)
    record.finish(code, interrupted=code in _INTERRUPTED)
    if joined is not None:
        record.stopped_by = record.stopped_by or joined.channel.stopped_by
        for node in record.nodes:
            node["exit_code"] = code if node["rank"] == plan.node_rank else codes.get(node["rank"])
    # node N>0 points at node 0's manifest (shared storage), which it never writes itself
    path = record.write(watcher.run_dir or out) if plan.node_rank == 0 else (watcher.run_dir or out) / mf.MANIFEST_NAME
    return TrainResult(code, record.status, out, watcher.run_dir, path, log, ckpt)


@contextlib.contextmanager
def _usr1_stops(record: mf.Manifest):
    """SIGUSR1 (Slurm's warning before the time limit, `--signal=B:USR1@N`) stops the run cleanly, as Ctrl-C does.

    ms-swift has no save-on-signal; a clean stop keeps every complete checkpoint and `--resume auto` continues
    from the last one (at most save_steps steps are redone), with nothing injected into ms-swift's workers.
    """
    def stop(_signum: int, _frame: object) -> None:
        record.stopped_by = "SIGUSR1 (time limit ahead): stopped cleanly; `--resume auto` continues"
        os.kill(os.getpid(), signal.SIGINT)

    try:
        previous = signal.signal(signal.SIGUSR1, stop)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


_PLAN_KEYS = {"CUDA_VISIBLE_DEVICES", "NPROC_PER_NODE", "PYTORCH_CUDA_ALLOC_CONF", "NNODES", "NODE_RANK",
              "MASTER_ADDR", "MASTER_PORT"}


class _RunDirWatcher:
    """Notices ms-swift's new vN-* run dir from the console stream and writes the 'running' manifest into it."""

    def __init__(self, output_dir: Path, before: set[Path], record: mf.Manifest | None) -> None:
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
            if self.record is None:  # nodes N>0: node 0 owns the manifest
                return
            self.record.run_dir = str(self.run_dir)
            with contextlib.suppress(OSError):
                self.record.write(self.run_dir)


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


def write_script(path: Path, text: str, *, mode: int = 0o755) -> None:
    """Write a script/job atomically; an existing file is never replaced."""
    from swiftctl.fsutil import atomic_write_text

    try:
        atomic_write_text(Path(path), text, overwrite=False, file_mode=mode)
    except FileExistsError:
        raise SwiftctlError(f"{path} already exists: refusing to overwrite it", hint="choose another file name or "
                            "remove it first", location=str(path)) from None
