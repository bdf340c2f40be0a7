"""Finding training runs without being told where they are: the swiftctl manifests under a directory.

`swiftctl train` writes ``swiftctl-manifest.json`` into ms-swift's versioned run dir (``output_dir/vN-.../``), or
into ``output_dir`` when ms-swift never created one. Runs are looked for in two places, both cheap:

- under the current directory (depth-limited; hidden dirs, virtualenvs, checkpoint dirs and site-packages skipped);
- in the ``[output] dir`` of each job file in ``./jobs/`` (read as plain TOML: a job that no longer validates still
  points at its runs), which finds runs written outside the current directory.

The newest run is the one started last (the manifest's ``started_at``; the manifest's mtime breaks ties).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from swiftctl.errors import SwiftctlError, UsageError
from swiftctl.runs.rundir import MANIFEST_NAME, RunDir, load_run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_DEPTH = 4  # ./output/job/vN-.../manifest is depth 3; deeper trees are data, not runs
_SKIP = {"node_modules", "__pycache__", "site-packages", "wandb", "swanlog", "runs_tb"}


class RunInfo(BaseModel):
    """One training run as `swiftctl runs` lists it."""

    run_dir: str = Field(description="The versioned run dir (or output_dir when ms-swift created none).")
    job: str | None = Field(None, description="The job file the run was started from.")
    status: str = Field(description="running | succeeded | failed | interrupted (from the manifest).")
    started_at: str | None = None
    ended_at: str | None = None
    age_s: float | None = Field(None, description="Seconds since the run started.")
    steps: int | None = Field(None, description="Last logged global step.")
    max_steps: int | None = None
    last_checkpoint: str | None = Field(None, description="Last complete checkpoint dir.")
    best_checkpoint: str | None = Field(None, description="Best checkpoint ms-swift recorded (eval metric).")
    base_model: str | None = None
    system: str | None = Field(None, description="The training system prompt (args.json).")

    @property
    def usable(self) -> bool:
        return self.last_checkpoint is not None


class RunsList(BaseModel):
    """Payload of `swiftctl runs --json`: every run found, newest first, and where they were looked for."""

    runs: list[RunInfo]
    searched: list[str] = Field(description="Where manifests were looked for.")


def _walk(root: Path, depth: int = MAX_DEPTH):
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name == MANIFEST_NAME and entry.is_file():
            yield Path(entry.path)
    if depth == 0:
        return
    for entry in entries:
        name = entry.name
        if (entry.is_dir(follow_symlinks=False) and not name.startswith(".") and name not in _SKIP
                and not name.startswith("checkpoint-")):
            yield from _walk(Path(entry.path), depth - 1)


def job_output_dirs(jobs_dir: Path) -> list[tuple[Path, Path]]:
    """(job file, its output dir) for each jobs/*.toml that names one."""
    found = []
    for job in sorted(jobs_dir.glob("*.toml")) if jobs_dir.is_dir() else []:
        try:
            data = tomllib.loads(job.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out = (data.get("output") or {}).get("dir") if isinstance(data.get("output"), dict) else None
        if isinstance(out, str) and out:
            path = Path(out).expanduser()
            found.append((job, path if path.is_absolute() else (job.parent / path)))
    return found


def _manifests_in(output_dir: Path) -> list[Path]:
    if not output_dir.is_dir():
        return []
    return [p for p in [output_dir / MANIFEST_NAME, *output_dir.glob(f"*/{MANIFEST_NAME}")] if p.is_file()]


def _steps(run: RunDir) -> tuple[int | None, int | None]:
    """(last global step, max steps) from the tail of logging.jsonl, else the last checkpoint's step."""
    if run.logging_path.is_file():
        with open(run.logging_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            tail = fh.read().decode("utf-8", errors="replace").splitlines()
        for line in reversed(tail):
            try:
                row = json.loads(line)
            except ValueError:
                continue
            step = row.get("global_step/max_steps") if isinstance(row, dict) else None
            if isinstance(step, str) and "/" in step:
                done, total = step.split("/", 1)
                if done.strip().isdigit() and total.strip().isdigit():
                    return int(done), int(total)
    last = run.checkpoints[-1].step if run.checkpoints else None
    return last, None


def _age(started: str | None, fallback: float) -> float:
    try:
        return max(0.0, time.time() - datetime.fromisoformat(started).timestamp()) if started else fallback
    except ValueError:
        return fallback


def read_run(manifest: Path) -> RunInfo | None:
    """One manifest → RunInfo; None when it is unreadable or its run dir is gone."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    run_path = Path(data.get("run_dir") or manifest.parent)
    if not run_path.is_absolute():
        run_path = manifest.parent
    info = RunInfo(run_dir=str(run_path.resolve()), job=(data.get("job") or {}).get("path"),
                   status=str(data.get("status") or "unknown"), started_at=data.get("started_at"),
                   ended_at=data.get("ended_at"))
    info.age_s = _age(info.started_at, time.time() - manifest.stat().st_mtime)
    if (run_path / "args.json").is_file():
        try:
            run = load_run(run_path)
        except (SwiftctlError, OSError):  # a half-written run is listed with what the manifest says
            return info
        last, best = run.last_checkpoint, run.best_checkpoint
        info.last_checkpoint = str(last.path) if last else None
        info.best_checkpoint = str(best.path) if best else None
        info.steps, info.max_steps = _steps(run)
        info.base_model = run.base_model
        info.system = run.args.get("system")
    return info


def find_runs(cwd: Path | None = None) -> RunsList:
    """Every run under ``cwd`` and in the output dirs of ``cwd/jobs/*.toml``, newest first."""
    cwd = (cwd or Path.cwd()).resolve()
    searched = [f"{cwd} (depth {MAX_DEPTH})"]
    manifests = set(_walk(cwd))
    for job, out in job_output_dirs(cwd / "jobs"):
        searched.append(f"{out} (output.dir of {job.relative_to(cwd)})")
        manifests.update(_manifests_in(out))
    runs: dict[str, RunInfo] = {}
    for path in manifests:
        info = read_run(path.resolve())
        if info is not None and info.run_dir not in runs:
            runs[info.run_dir] = info
    ordered = sorted(runs.values(), key=lambda r: (r.age_s if r.age_s is not None else float("inf"), r.run_dir))
    return RunsList(runs=ordered, searched=searched)


def display(path: str | Path | None, cwd: Path | None = None) -> str:
    """A path relative to the current dir when it is under it."""
    if path is None:
        return "-"
    try:
        return str(Path(path).resolve().relative_to((cwd or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def pick_run(*, need_checkpoint: bool = True, cwd: Path | None = None) -> tuple[RunInfo, list[str]]:
    """The newest run (with a complete checkpoint when ``need_checkpoint``) and the notes saying what was picked."""
    found = find_runs(cwd)
    usable = [r for r in found.runs if r.usable or not need_checkpoint]
    if not usable:
        where = "\n".join(f"  looked in {s}" for s in found.searched)
        if found.runs:
            listed = ", ".join(f"{display(r.run_dir, cwd)} ({r.status})" for r in found.runs[:5])
            msg = f"no run with a complete checkpoint found: {listed}\n{where}"
        else:
            msg = f"no training run found (no {MANIFEST_NAME})\n{where}"
        raise UsageError(msg, hint="train one: swiftctl train jobs/demo.toml; or point at one: pass RUN_DIR (an "
                                   "output_dir, a vN-... run, a checkpoint-N dir or a job .toml), or --model DIR")
    picked = usable[0]
    notes = [f"no RUN given: using the newest run {display(picked.run_dir, cwd)}"
             + (f" (job {display(picked.job, cwd)}, {picked.status})" if picked.job else f" ({picked.status})")]
    if len(usable) > 1:
        notes.append(f"{len(usable)} runs found, the newest picked; `swiftctl runs` lists them, pass one as RUN")
    else:
        notes.append("pass RUN (or a checkpoint-N dir) to use another run; `swiftctl runs` lists them")
    return picked, notes
