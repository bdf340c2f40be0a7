"""Who is using the GPUs: memory used per GPU and the compute processes on each, from two more nvidia-smi queries.

Run only after the inventory query (probe.NVIDIA_SMI_QUERY) succeeded, through the same injected runner and with
its own timeout. A hang or unparsable output here is reported as the usage status ("timeout", "garbage", ...) and
leaves the GPU inventory intact: a machine whose usage query fails still has its GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from swiftctl.errors import SwiftctlError

if TYPE_CHECKING:
    from swiftctl.envcheck.findings import Finding
    from swiftctl.envcheck.probe import Gpu, GpuProbe, Runner

QUERY_MEMORY = ("nvidia-smi", "--query-gpu=index,uuid,memory.used,memory.total", "--format=csv,noheader,nounits")
QUERY_APPS = ("nvidia-smi", "--query-compute-apps=gpu_uuid,pid,process_name,used_memory",
              "--format=csv,noheader,nounits")
# Memory in use with no process listed means a process of another container/namespace (nvidia-smi hides its pid).
BUSY_MIB = 1024


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    name: str
    used_memory_mib: int | None  # None when the driver says [N/A] (some containers, MIG)


def _mib(text: str) -> int | None:
    text = text.strip()
    if text in ("[N/A]", "N/A", "[Not Supported]", ""):
        return None
    return int(float(text))


def parse_memory(text: str) -> dict[int, tuple[str, int | None]]:
    """``index, uuid, memory.used, memory.total`` lines -> {index: (uuid, used MiB)}; ValueError on anything else."""
    out: dict[int, tuple[str, int | None]] = {}
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4 or not parts[1].startswith(("GPU-", "MIG-")):
            raise ValueError(f"expected 'index, uuid, used, total', got: {line[:120]!r}")
        out[int(parts[0])] = (parts[1], _mib(parts[2]))
    if not out:
        raise ValueError("no output")
    return out


def parse_apps(text: str) -> list[tuple[str, GpuProcess]]:
    """``gpu_uuid, pid, process_name, used_memory`` lines (none when idle) -> [(uuid, process)]; ValueError otherwise."""
    out = []
    for line in text.strip().splitlines():
        uuid, _, rest = line.partition(",")
        pid, _, rest = rest.partition(",")
        name, _, used = rest.rpartition(",")  # a process name may contain commas; the memory never does
        if not uuid.strip().startswith(("GPU-", "MIG-")) or not name:
            raise ValueError(f"expected 'gpu_uuid, pid, process_name, used_memory', got: {line[:120]!r}")
        out.append((uuid.strip(), GpuProcess(int(pid), name.strip(), _mib(used))))
    return out


def _query(runner: Runner, argv: Sequence[str], timeout: float) -> tuple[str, Any]:
    """(status, stdout or detail): status is ok | timeout | absent | failed."""
    try:
        result = runner(list(argv), timeout)
    except SwiftctlError as exc:
        return ("timeout" if "did not finish" in exc.message else "absent"), exc.message
    except OSError as exc:
        return "absent", str(exc)
    if result.returncode != 0:
        first = (result.stderr or result.stdout).strip().splitlines()
        return "failed", f"exit {result.returncode}: {first[0] if first else 'no output'}"
    return "ok", result.stdout


def probe_usage(runner: Runner, gpus: tuple[Gpu, ...], timeout: float) -> tuple[tuple[Gpu, ...], str, str]:
    """The GPUs with memory_used_mib and processes filled in, the usage status and its detail."""
    status, mem_out = _query(runner, QUERY_MEMORY, timeout)
    if status != "ok":
        return gpus, status, f"{QUERY_MEMORY[1]}: {mem_out}"
    status, apps_out = _query(runner, QUERY_APPS, timeout)
    if status != "ok":
        return gpus, status, f"{QUERY_APPS[1]}: {apps_out}"
    try:
        memory, apps = parse_memory(mem_out), parse_apps(apps_out)
    except ValueError as exc:
        return gpus, "garbage", str(exc)
    by_uuid: dict[str, list[GpuProcess]] = {}
    for uuid, proc in apps:
        by_uuid.setdefault(uuid, []).append(proc)
    filled = []
    for gpu in gpus:
        uuid, used = memory.get(gpu.index, ("", None))
        filled.append(replace(gpu, memory_used_mib=used, processes=tuple(by_uuid.get(uuid, ()))))
    return tuple(filled), "ok", ""


def busy(gpu: Gpu) -> bool:
    """Another process holds this GPU: a listed compute process, or memory in use beyond the driver's own."""
    return bool(gpu.processes) or (gpu.memory_used_mib or 0) >= BUSY_MIB


def usage_findings(probe: GpuProbe) -> list[Finding]:
    """A warning when another process holds GPUs, or when who holds them could not be found out."""
    from swiftctl.envcheck.findings import Finding, Severity

    if probe.status != "ok":
        return []  # the inventory query's own status is reported by rules.hardware
    if probe.usage_status != "ok":
        return [Finding("gpu.usage-unknown", Severity.WARNING, f"GPU memory in use is unknown: nvidia-smi usage query "
                        f"{probe.usage_status} ({probe.usage_detail})",
                        f"the {probe.count} GPU(s) were found, but whether another job holds them was not checked",
                        "run nvidia-smi by hand before launching")]
    held = []
    for gpu in probe.gpus:
        if busy(gpu):
            procs = "; ".join(f"pid {p.pid} {p.name}" for p in gpu.processes) or "no process visible: another container?"
            held.append(f"GPU {gpu.index} ({gpu.memory_used_mib}/{gpu.memory_mib} MiB used; {procs})")
    if not held:
        return []
    return [Finding("gpu.busy", Severity.WARNING, "another process holds GPUs: " + ", ".join(held),
                    "a launch on those GPUs runs out of memory or shares them at a fraction of the speed",
                    "wait for it, stop it, or pick free GPUs with resources.cuda_visible_devices")]
