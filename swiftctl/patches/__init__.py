"""Compatibility patches for the ms-swift stack, applied in every Python process swiftctl starts.

One module per patch (``gelu_tanh_alias``, ``vllm_swift_plugin``), listed in ``registry``. ``env`` builds the
child environment (static ``boot/sitecustomize.py`` first on PYTHONPATH; see its docstring for why), ``runtime``
is what runs inside children (lazy post-import hooks), ``status`` feeds `swiftctl patch list/check` and doctor.
Importing this package is cheap: no transformers, torch, swift or vllm import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from swiftctl.envcheck.findings import Finding

__all__ = ["doctor_findings", "needed_patch_ids", "patch_environment"]


def patch_environment(base_env: Mapping[str, str] | None = None, only: Sequence[str] | None = None, *,
                      force: bool = False, report: Path | None = None) -> dict[str, str]:
    """See :func:`swiftctl.patches.env.patch_environment`."""
    from swiftctl.patches.env import patch_environment as build

    return build(base_env, only, force=force, report=report)


def needed_patch_ids() -> list[str]:
    """Ids of the patches this environment needs (metadata and source text only)."""
    from swiftctl.patches.env import needed_patch_ids as needed

    return needed()


def doctor_findings() -> list[Finding]:
    """Needed-but-not-enabled patches as doctor findings."""
    from swiftctl.patches.status import doctor_findings as findings

    return findings()
