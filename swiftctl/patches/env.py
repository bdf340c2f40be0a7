"""The environment that carries patches into child processes.

Mechanism, and why: a STATIC bootstrap directory shipped in the package (``swiftctl/patches/boot``, holding only
``sitecustomize.py``) is put first on ``PYTHONPATH`` and ``SWIFTCTL_PATCHES`` names the patches. Python imports
``sitecustomize`` at start-up in every interpreter that inherits the environment, so the patches reach torchrun
workers, vLLM engine processes started with multiprocessing 'spawn', dataloader workers and scripts run by hand,
before any user code runs. The bootstrap only arms lazy import hooks, then executes the next ``sitecustomize`` on
sys.path (the user's or the distribution's), so an existing one keeps working. Nothing is generated or written:
no temp dir to clean up, nothing in site-packages, nothing left after the run, works on a read-only disk.

ms-swift's ``--external_plugins`` was rejected as the carrier: it is imported only by processes that parse ms-swift
arguments, after ``swift`` and transformers are already imported (``BaseArguments.__post_init__``), never in vLLM's
engine processes or in processes that are not ms-swift at all (plain torchrun scripts, ``vllm`` API servers), and it
changes the command line the user sees. ``PYTHONPATH`` + ``sitecustomize`` covers all of those.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from swiftctl.errors import UsageError
from swiftctl.patches import registry
from swiftctl.patches.runtime import ENV_IDS, ENV_REPORT

BOOT_DIR = Path(__file__).resolve().parent / "boot"


def resolve_ids(only: Sequence[str] | None, *, force: bool = False) -> list[str]:
    """The ids to enable: the needed ones, or ``only`` (validated: known, and needed unless ``force``)."""
    if only is None:
        return needed_patch_ids()
    chosen: list[str] = []
    for patch_id in only:
        try:
            patch = registry.get(patch_id)
        except registry.UnknownPatch:
            raise UsageError(f"unknown patch {patch_id!r}",
                             hint=f"use one of: {', '.join(registry.ids())} (see `swiftctl patch list`)") from None
        if not force:
            found = patch.detect()
            if not found.needed:
                raise UsageError(f"patch {patch_id!r} is not needed here: {found.reason}",
                                 hint=f"add --force to enable it anyway (swiftctl patch env --only {patch_id} --force)")
        if patch_id not in chosen:
            chosen.append(patch_id)
    return chosen


def needed_patch_ids() -> list[str]:
    """Ids of the patches the installed packages need (cheap: metadata and source text, no heavy import)."""
    return [p.id for p in registry.all_patches() if p.detect().needed]


def _split(path: str) -> list[str]:
    return [p for p in path.split(os.pathsep) if p]


def patch_environment(base_env: Mapping[str, str] | None = None, only: Sequence[str] | None = None, *,
                      force: bool = False, report: Path | None = None) -> dict[str, str]:
    """The complete environment for a child process, with the needed patches (or ``only``) enabled.

    Returns a copy of ``base_env`` (default ``os.environ``) with ``swiftctl/patches/boot`` first on PYTHONPATH and
    ``SWIFTCTL_PATCHES`` set; unchanged when no patch is needed. ``report`` names a file each child appends one JSON
    line per patch outcome to. Raises UsageError for an unknown id, or a not-needed one without ``force``.
    """
    env = dict(os.environ if base_env is None else base_env)
    ids = resolve_ids(only, force=force)
    if not ids:
        return env
    boot = str(BOOT_DIR)
    rest = [p for p in _split(env.get("PYTHONPATH", "")) if os.path.abspath(p) != boot]
    env["PYTHONPATH"] = os.pathsep.join([boot, *rest])
    env[ENV_IDS] = ",".join(ids)
    if report is not None:
        env[ENV_REPORT] = str(report)
    return env


def enabled_ids(env: Mapping[str, str] | None = None) -> list[str]:
    """Ids that ``env`` (default ``os.environ``) enables: named in SWIFTCTL_PATCHES with the boot dir on PYTHONPATH."""
    env = os.environ if env is None else env
    boot = str(BOOT_DIR)
    if not any(os.path.abspath(p) == boot for p in _split(env.get("PYTHONPATH", ""))):
        return []
    return [p.strip() for p in env.get(ENV_IDS, "").split(",") if p.strip()]
