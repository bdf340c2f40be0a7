"""What `swiftctl patch list/check` and doctor report: each patch, whether it is needed and enabled, and why."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from swiftctl.envcheck.findings import Finding, Severity
from swiftctl.errors import SwiftctlError
from swiftctl.patches import registry
from swiftctl.patches.env import enabled_ids, patch_environment

FIX_HINT = 'eval "$(swiftctl patch env)"'


class State(str, enum.Enum):
    NEEDED = "needed"          # needed, and this environment does not enable it
    APPLIED = "applied"        # needed, and enabled for every Python process started from this environment
    NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class PatchStatus:
    id: str
    title: str
    state: State
    reason: str                  # the fact detection found
    why: str
    threads: tuple[str, ...]
    concerns: tuple[tuple[str, str], ...]
    alternatives: tuple[str, ...]
    verified: str | None = None  # with --verify: "applied" or "failed: ..." as seen in a real child process


@dataclass(frozen=True)
class CheckResult:
    statuses: list[PatchStatus]
    missing: list[str]           # needed ids not applied (or failing in the child with --verify)

    @property
    def ok(self) -> bool:
        return not self.missing


def collect(env: Mapping[str, str] | None = None) -> list[PatchStatus]:
    enabled = set(enabled_ids(env))
    statuses = []
    for patch in registry.all_patches():
        found = patch.detect()
        state = State.NOT_NEEDED if not found.needed else State.APPLIED if patch.id in enabled else State.NEEDED
        statuses.append(PatchStatus(patch.id, patch.title, state, found.reason, patch.why, patch.threads,
                                    patch.concerns, patch.alternatives))
    return statuses


_VERIFY = """
import importlib, json, sys
from swiftctl.patches import registry, runtime
out = {}
for pid in sys.argv[1:]:
    try:
        importlib.import_module(registry.get(pid).target)
    except Exception as exc:
        out[pid] = f"failed: importing {registry.get(pid).target}: {type(exc).__name__}: {exc}"
        continue
    out[pid] = runtime.STATE.get(pid, "failed: not armed in the child (is swiftctl/patches/boot on PYTHONPATH?)")
print("SWIFTCTL-VERIFY " + json.dumps(out))
"""


def verify(ids: list[str], env: Mapping[str, str]) -> dict[str, str]:
    """Import each patch's target in a real child Python started with ``env``; return the runtime's verdicts.

    Imports transformers / ms-swift in the child (seconds to tens of seconds), never in this process.
    """
    from swiftctl.launch.process import capture

    if not ids:
        return {}
    result = capture([sys.executable, "-c", _VERIFY, *ids], timeout=600, env=env)
    for line in result.stdout.splitlines():
        if line.startswith("SWIFTCTL-VERIFY "):
            return json.loads(line.split(" ", 1)[1])
    raise SwiftctlError(f"the verification child exited {result.returncode}: {result.stderr.strip()[-500:]}",
                        hint="run `swiftctl patch check --verify` with SWIFTCTL_DEBUG=1, or check the python stack")


def check(*, do_verify: bool = False) -> CheckResult:
    statuses = collect()
    if do_verify:
        needed = [s.id for s in statuses if s.state is not State.NOT_NEEDED]
        import os

        verdicts = verify(needed, patch_environment(os.environ, needed, force=True) if needed else dict(os.environ))
        statuses = [s if s.id not in verdicts else _with(s, verdicts[s.id]) for s in statuses]
    missing = [s.id for s in statuses
               if s.state is State.NEEDED or (s.verified is not None and s.verified != "applied")]
    return CheckResult(statuses, missing)


def _with(status: PatchStatus, verdict: str) -> PatchStatus:
    from dataclasses import replace

    return replace(status, verified=verdict)


def doctor_findings() -> list[Finding]:
    """Needed patches that this environment does not enable, as doctor findings."""
    findings = []
    for s in collect():
        if s.state is not State.NEEDED:
            continue
        patch = registry.get(s.id)
        fix = (f"swiftctl train/infer/serve/eval apply it automatically; for a command run by hand: {FIX_HINT}"
               + "".join(f"; or {alt}" for alt in s.alternatives))
        findings.append(Finding(code=f"patch.needed.{s.id}", severity=Severity.WARNING,
                                what=f"patch {s.id} is needed: {s.reason}", why=s.why, fix=fix, blocks=patch.blocks))
    return findings
