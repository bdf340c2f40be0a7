"""Output dirs and checkpoints of `swiftctl train`: refuse to clobber a previous run, find the checkpoint to resume
from (``--resume last|auto``), and refuse a checkpoint made by a different model or tuner.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.compile import LaunchPlan

LOCK_NAME = ".swiftctl-train.lock"
# what a launch leaves in output_dir before ms-swift makes its run dir: no reason to refuse a plain rerun
OWN_FILES = re.compile(r"^(swiftctl-train(\.node\d+)?\.log|swiftctl-manifest(\.node\d+)?\.json|\.swiftctl-train\.lock"
                       r"|\..*\.swiftctl-\d+-.*\.tmp)$")
_VERSIONED = re.compile(r"^v\d+-\d{8}-\d{6}$")


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


def blocking_entries(out: Path) -> list[Path]:
    """Entries of output_dir that a fresh launch would clobber or mix with: anything but swiftctl's own files,
    unless the runs there never saved a checkpoint (a launch that failed early can simply be rerun)."""
    if last_checkpoint(out) is not None:
        return [out]
    runs = versioned_runs(out)
    return [p for p in out.iterdir() if p not in runs and not OWN_FILES.match(p.name)]


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
    busy = out.is_dir() and bool(blocking_entries(out))
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

