"""`swiftctl train`'s launch and record: run `swift sft` through :func:`swiftctl.launch.process.run`, record it.

The train path reads top-down: load + plan (:func:`swiftctl.jobs.preflight.prepare`) → lint, data, trackers,
doctor (:func:`swiftctl.jobs.preflight.preflight`) → :func:`launch` here (output dir, port, ms-swift installed,
lock, multi-node rendezvous, run) → record (manifest). Every check runs before the output dir is created. The run's console is teed to
``output_dir/swiftctl-train.log``; the manifest goes to ms-swift's versioned run dir (see launch.manifest).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.compile import LaunchPlan
from swiftctl.jobs.load import LoadedJob, is_local_dataset
from swiftctl.jobs.stages import stage_env
from swiftctl.launch import manifest as mf
from swiftctl.launch import rendezvous as rdv
from swiftctl.runs.resume import check_output_dir, versioned_runs, with_resume

LOG_NAME = "swiftctl-train.log"
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


def launch(lj: LoadedJob, plan: LaunchPlan, *, resume: bool | str = False, echo: bool = True,
           rendezvous_timeout: float = rdv.DEFAULT_TIMEOUT) -> TrainResult:
    """Run a preflighted plan; returns when the run ends (or is interrupted).

    Multi-node: node 0 owns the output-dir checks, the lock and the manifest; every other node joins node 0's
    rendezvous (:mod:`swiftctl.launch.rendezvous`), takes the checkpoint to resume from there and writes its own log.
    """
    from swiftctl.jobs.preflight import check_port, swift_binary

    head = plan.node_rank == 0
    ckpt = check_output_dir(plan, resume) if head else None
    check_port(plan)
    swift = swift_binary()
    out = plan.output_dir
    with contextlib.ExitStack() as stack:
        if head:  # a second `swiftctl train` into the same dir is refused until this one ends
            stack.enter_context(mf.output_lock(out))
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
        patch_env=sorted(k for k in plan.env if k not in _PLAN_KEYS and k not in lj.job.resources.env
                         and k not in stage_env(lj)),
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
                       on_line=watcher.poll, on_start=pid.append, report_signal=True)
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


def write_script(path: Path, text: str, *, mode: int = 0o755, overwrite: bool = False) -> None:
    """Write a script/job atomically; an existing file is replaced only with ``overwrite`` (--force)."""
    from swiftctl.fsutil import atomic_write_text, umask_mode

    try:
        atomic_write_text(Path(path), text, overwrite=overwrite, file_mode=umask_mode(mode))
    except FileExistsError:
        raise SwiftctlError(f"{path} already exists: refusing to overwrite it", hint="choose another file name or "
                            "remove it first", location=str(path)) from None
