"""Structural check throughput vs the parse floor and vs `datasets.load_dataset("json")`, with peak RSS.

    .venv/bin/python benchmarks/data_check.py [--rows 1000000] [--path /tmp/swiftctl-bench/messages.jsonl]

Each measurement runs in its own child process (peak RSS = that child's ru_maxrss). Prints MB/s and ratios, and
each child's CPU time (on a loaded machine the CPU-time ratio is the steadier one; wall time is the target).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HF = 'datasets.load_dataset("json")'
FLOOR = """
import orjson, resource, sys, time
t, c = time.perf_counter(), time.process_time(); n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        orjson.loads(line); n += 1
print(time.process_time() - c, time.perf_counter() - t, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
CHECK = """
import resource, sys, time
from swiftctl.data.check import check_files
t, c = time.perf_counter(), time.process_time()
r = check_files([sys.argv[1]])
assert r.summary.rows and not r.problems, r.problems[:3]
print(time.process_time() - c, time.perf_counter() - t, r.summary.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
DATASETS = """
import resource, sys, tempfile, time
import datasets
datasets.disable_progress_bars()
with tempfile.TemporaryDirectory() as cache:
    t, c = time.perf_counter(), time.process_time()
    ds = datasets.load_dataset("json", data_files=sys.argv[1], split="train", cache_dir=cache)
    print(time.process_time() - c, time.perf_counter() - t, len(ds), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def generate(path: Path, rows: int) -> None:
    if path.exists() and path.with_suffix(".rows").exists() and path.with_suffix(".rows").read_text() == str(rows):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    filler = "沐雪今天也很开心，我们一起学习 Python 和机器学习吧。" * 3
    with open(path, "w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(json.dumps({"messages": [
                {"role": "system", "content": "你是一个名为沐雪的可爱AI女孩子"},
                {"role": "user", "content": f"第 {i} 个问题：{filler[: 20 + i % 40]}"},
                {"role": "assistant", "content": f"回答 {i}：{filler}"}]}, ensure_ascii=False) + "\n")
    path.with_suffix(".rows").write_text(str(rows))


def run(code: str, path: Path) -> tuple[float, int, float, float]:
    """(wall seconds, rows, peak RSS MB, CPU seconds of the process: less sensitive to other load than wall time)."""
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    cpu, seconds, rows, rss_kb = out.stdout.split()[-4:]
    return float(seconds), int(rows), int(rss_kb) / 1024, float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, default=Path(tempfile.gettempdir()) / "swiftctl-bench" / "messages.jsonl")
    parser.add_argument("--skip-datasets", action="store_true")
    args = parser.parse_args()
    generate(args.path, args.rows)
    mb = args.path.stat().st_size / 1e6
    results = {"floor (orjson line parse)": run(FLOOR, args.path), "swiftctl data check": run(CHECK, args.path)}
    if not args.skip_datasets:
        results[HF] = run(DATASETS, args.path)
    print(f"file: {args.path} ({args.rows} rows, {mb:.1f} MB)")
    for name, (sec, rows, rss, cpu) in results.items():
        print(f"{name:32s} {sec:8.2f} s {mb / sec:9.1f} MB/s  peak RSS {rss:7.1f} MB  rows {rows}  (CPU {cpu:.2f} s)")
    floor, check = results["floor (orjson line parse)"], results["swiftctl data check"]
    print(f"check / floor throughput: {floor[0] / check[0]:.0%} (target >= 50%); by CPU time {floor[3] / check[3]:.0%}")
    floor, check = floor[0], check[0]
    if not args.skip_datasets:
        print(f"check vs datasets: {results[HF][0] / check:.1f}x faster (target >= 5x)")
    print(f"check peak RSS: {results['swiftctl data check'][2]:.0f} MB (target <= 300 MB)")


if __name__ == "__main__":
    main()
