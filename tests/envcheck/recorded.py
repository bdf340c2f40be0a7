"""nvidia-smi transcripts for the GPU probe.

No GPU is on the machines these tests run on, so these are RECONSTRUCTED from the real format of
`nvidia-smi --query-gpu=index,name,memory.total,driver_version,compute_cap --format=csv,noheader,nounits`
(comma + space separated, MiB without unit, one line per GPU), with the names, memory sizes and compute
capabilities those cards report (RTX 5090: 32607 MiB, sm_120; H100 SXM: 81559 MiB, sm_90).
"""

RTX5090_X8 = "".join(f"{i}, NVIDIA GeForce RTX 5090, 32607, 575.57.08, 12.0\n" for i in range(8))
H100_X8 = "".join(f"{i}, NVIDIA H100 80GB HBM3, 81559, 550.90.07, 9.0\n" for i in range(8))
# Drivers older than 510 do not know compute_cap and nvidia-smi prints this instead of CSV (exit 2).
OLD_DRIVER = 'Field "compute_cap" is not a valid field to query.\n\n'
NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
             "Make sure that the latest NVIDIA driver is installed and running.\n\n")

# The two usage queries (RECONSTRUCTIONS as well: no GPU here). Their real format: comma + space separated, MiB
# without unit; --query-compute-apps prints nothing at all when no process is running, and "[N/A]" for used_memory
# where the driver cannot attribute memory (containers, MIG).
H100_UUIDS = [f"GPU-7c1b2a9e-4f0d-3c8e-9a61-0b5e2d4f8a{i:02d}" for i in range(8)]
# 8×H100 where someone else's job holds GPUs 0 and 1 (a leftover torchrun), the rest idle (driver reserve ~0-4 MiB).
H100_X8_MEMORY = "".join(f"{i}, {H100_UUIDS[i]}, {71234 if i < 2 else 4}, 81559\n" for i in range(8))
H100_X8_APPS = (f"{H100_UUIDS[0]}, 48211, /usr/bin/python3.11, 71220\n"
                f"{H100_UUIDS[1]}, 48212, /usr/bin/python3.11, 71220\n")
H100_X8_IDLE_MEMORY = "".join(f"{i}, {H100_UUIDS[i]}, 4, 81559\n" for i in range(8))
H100_X8_IDLE_APPS = ""
# In a container the other job's processes are not visible: memory is used, the process list is empty.
H100_X8_HIDDEN_APPS_MEMORY = "".join(f"{i}, {H100_UUIDS[i]}, {30100 if i == 3 else 4}, 81559\n" for i in range(8))
# A process name with a comma and memory [N/A] (MIG / some containers).
H100_APPS_NA = f"{H100_UUIDS[5]}, 777, python -c import a,b, [N/A]\n"


def runner_for(inventory: str, memory: str | None = None, apps: str = ""):
    """An injected nvidia-smi runner answering each query with its recording (memory=None: the usage query fails)."""
    from swiftctl.launch.process import CommandResult

    def run(argv, timeout):
        query = argv[1]
        if query.startswith("--query-compute-apps"):
            return CommandResult(tuple(argv), 0, apps, "")
        if "memory.used" in query:
            if memory is None:
                return CommandResult(tuple(argv), 6, "", 'Field "memory.used" is not a valid field to query.\n')
            return CommandResult(tuple(argv), 0, memory, "")
        return CommandResult(tuple(argv), 0, inventory, "")

    return run
