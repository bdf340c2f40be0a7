"""Launch a Python script under torchrun (``python -m torch.distributed.run``), one process per rank.

Single node only, ``--standalone`` (rendezvous on a free local port, so parallel runs never collide on 29500).
The environment passed (e.g. from ``swiftctl.patches.patch_environment``) reaches every rank unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from swiftctl.errors import UsageError
from swiftctl.launch.process import run


def torchrun_argv(script_and_args: Sequence[str], *, nproc_per_node: int, python: str | None = None) -> list[str]:
    """argv for ``python -m torch.distributed.run --standalone --nproc_per_node N SCRIPT ARGS...``."""
    if nproc_per_node < 1:
        raise UsageError(f"nproc_per_node must be >= 1, got {nproc_per_node}", hint="pass 1 or more processes")
    if not script_and_args:
        raise UsageError("no script to run under torchrun", hint="pass the script path and its arguments")
    return [python or sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc_per_node}", *script_and_args]


def run_torchrun(script_and_args: Sequence[str], *, nproc_per_node: int, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None, log_path: Path | None = None, echo: bool = True,
                 on_line: Callable[[str], None] | None = None, python: str | None = None) -> int:
    """Run the script on ``nproc_per_node`` ranks; returns torchrun's exit code (signals forwarded to all ranks)."""
    argv = torchrun_argv(script_and_args, nproc_per_node=nproc_per_node, python=python)
    return run(argv, env=env, cwd=cwd, log_path=log_path, echo=echo, on_line=on_line)
