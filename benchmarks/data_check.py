"""Structural check throughput (--jobs 1 and --jobs all cores) vs the parse floor and `datasets.load_dataset("json")`.

    .venv/bin/python benchmarks/data_check.py [--rows 1000000] [--path /tmp/swiftctl-bench/messages.jsonl]

Each measurement runs in its own child process. Peak RSS: that child's ru_maxrss; for --jobs N, the peak of the
sum of the RSS of the child and its workers, sampled every 50 ms. Prints MB/s, ratios to the floor, and each
child's CPU time (on a loaded machine the CPU-time ratio is the steadier one; wall time is the target; with
--jobs N the CPU time is the parent's only).
"""

from __future__ import annotations

import argparse
import json
import os
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
import os, resource, sys, threading, time
from swiftctl.data.check import check_files
jobs, peak, done = int(sys.argv[2]), [0], threading.Event()
def tree_rss():  # kB: this process and every descendant (the forkserver and its workers)
    kids, rss = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            kids.setdefault(int(stat[1]), []).append(int(pid)); rss[int(pid)] = int(stat[21]) * 4
        except (OSError, IndexError):
            pass
    todo, total = [os.getpid()], 0
    while todo:
        pid = todo.pop(); total += rss.get(pid, 0); todo += kids.get(pid, [])
    return total
def sample():
    while not done.wait(0.05):
        peak[0] = max(peak[0], tree_rss())
if jobs > 1:
    threading.Thread(target=sample, daemon=True).start()
t, c = time.perf_counter(), time.process_time()
r = check_files([sys.argv[1]], jobs=jobs)
wall, cpu = time.perf_counter() - t, time.process_time() - c
done.set()
assert r.summary.rows and not r.problems, r.problems[:3]
print(cpu, wall, r.summary.rows, max(peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
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


def run(code: str, path: Path, *args: str) -> tuple[float, int, float, float]:
    """(wall seconds, rows, peak RSS MB, CPU seconds of the process: less sensitive to other load than wall time)."""
    out = subprocess.run([sys.executable, "-c", code, str(path), *args], capture_output=True, text=True, check=True)
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
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    floor_name, one, many = "floor (orjson line parse)", "data check --jobs 1", f"data check --jobs {cores} (all)"
    results = {floor_name: run(FLOOR, args.path), one: run(CHECK, args.path, "1"), many: run(CHECK, args.path, str(cores))}
    if not args.skip_datasets:
        results[HF] = run(DATASETS, args.path)
    print(f"file: {args.path} ({args.rows} rows, {mb:.1f} MB), {cores} cores")
    for name, (sec, rows, rss, cpu) in results.items():
        print(f"{name:32s} {sec:8.2f} s {mb / sec:9.1f} MB/s  peak RSS {rss:7.1f} MB  rows {rows}  (CPU {cpu:.2f} s)")
    floor = results[floor_name]
    for name in (one, many):
        check = results[name]
        cpu = f"; by CPU time {floor[3] / check[3]:.0%}" if name == one else ""
        print(f"{name} / floor throughput: {floor[0] / check[0]:.0%}{cpu}" + (" (target >= 50%)" if name == one else ""))
    if not args.skip_datasets:
        for name in (one, many):
            print(f"{name} vs datasets: {results[HF][0] / results[name][0]:.1f}x faster")
    print(f"check peak RSS: {results[one][2]:.0f} MB with --jobs 1, {results[many][2]:.0f} MB with --jobs {cores} "
          "(parent + workers)")


if __name__ == "__main__":
    main()
