"""A real one-node Slurm cluster for tests: munged + slurmctld + slurmd from Debian's slurm-wlm, all in a temp dir.

Installed by `make slurm-setup` (apt-get install slurm-wlm munge). Nothing is written outside the temp dir: a
generated slurm.conf (proctrack/linuxproc, task/none, no cgroups, SlurmUser=root, free ports), a fresh munge key
and socket. Clients find it through SLURM_CONF. ``stop()`` cancels every job and ends every daemon it started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol")


def missing() -> list[str]:
    return [d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").exists()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _conf(d: Path, host: str, cpus: int) -> str:
    return f"""ClusterName=swiftctl-test
SlurmctldHost={host}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.sock
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
KillWait=20
MinJobAge=600
NodeName={host} CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


class LocalSlurm:
    def __init__(self, root: Path) -> None:
        self.dir = root
        self.env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}
        self._pids: list[Path] = []

    def start(self) -> LocalSlurm:
        d = self.dir
        for sub in ("state", "spool", "log"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        key = d / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        (d / "slurm.conf").write_text(_conf(d, socket.gethostname(), os.cpu_count() or 1))
        self._daemon(["munged", "--force", f"--key-file={key}", f"--socket={d}/munge.sock", f"--pid-file={d}/munged.pid",
                      f"--log-file={d}/log/munged.log", f"--seed-file={d}/munged.seed"], d / "munged.pid")
        self._daemon(["slurmctld", "-f", str(d / "slurm.conf")], d / "slurmctld.pid")
        self._daemon(["slurmd", "-f", str(d / "slurm.conf")], d / "slurmd.pid")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = self.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip()
            if out == "idle":
                return self
            time.sleep(0.5)
        raise RuntimeError(f"slurm did not come up: sinfo says {out!r}; logs in {d}/log")

    def _daemon(self, argv: list[str], pidfile: Path) -> None:
        subprocess.run(argv, env=self.env, check=True, timeout=60, capture_output=True)
        self._pids.append(pidfile)

    def run(self, *argv: str, check: bool = True, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), env={**self.env, **(env or {})}, check=check, capture_output=True, text=True,
                              timeout=120, cwd=cwd)

    def job_state(self, job_id: str) -> dict[str, str]:
        text = self.run("scontrol", "-o", "show", "job", job_id).stdout
        return dict(part.split("=", 1) for part in text.split() if "=" in part)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run("scancel", "--full", "--user=root", check=False)
            time.sleep(2)
        for pidfile in reversed(self._pids):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
