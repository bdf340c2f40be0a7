"""Start-up time of swiftctl against the heavy stack it must not import.

Median wall time over N runs (default 5) of each command, in the same run so the machine's load is shared:
  swiftctl --help, swiftctl doctor --json      (targets: <= 0.2 s, <= 1 s)
  swift sft --help, python -c "import torch"   (baselines)
Run: .venv/bin/python benchmarks/startup.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_wall(argv: list[str], runs: int) -> float:
    times = []
    env = {**os.environ, "VLLM_PLUGINS": "none"}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cases = {
        "swiftctl --help": ([str(BIN / "swiftctl"), "--help"], 0.2),
        "swiftctl doctor --json": ([str(BIN / "swiftctl"), "doctor", "--json"], 1.0),
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "python -c 'import torch'": ([sys.executable, "-c", "import torch"], None),
        "swift sft --help": ([str(BIN / "swift"), "sft", "--help"], None),
    }
    results = {name: median_wall(argv, runs) for name, (argv, _) in cases.items()}
    torch_s, swift_s = results["python -c 'import torch'"], results["swift sft --help"]
    print(f"median wall time over {runs} runs (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for name, (_, target) in cases.items():
        t = results[name]
        verdict = "" if target is None else (f"  target <= {target:g} s: " + ("ok" if t <= target else "MISSED"))
        print(f"  {name:28s} {t:7.3f} s  x{t / torch_s:5.2f} of import torch  x{t / swift_s:5.2f} of swift sft --help"
              f"{verdict}")


if __name__ == "__main__":
    main()
