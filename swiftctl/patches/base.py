"""What a patch declares. Stdlib only: this module is imported inside every patched child process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType


@dataclass(frozen=True)
class Detection:
    """Whether a patch is needed in this environment, and the fact that decided it."""

    needed: bool
    reason: str


@dataclass(frozen=True)
class Patch:
    """One compatibility patch. ``apply``/``self_check`` receive the freshly executed ``target`` module.

    ``apply`` must be idempotent; the runtime catches anything it raises, logs it once and reports it.
    ``self_check`` returns None when the patch is in effect, else what is wrong.
    """

    id: str
    title: str
    why: str
    threads: tuple[str, ...]
    concerns: tuple[tuple[str, str], ...]  # (distribution, version range) pairs this patch is about
    target: str                             # module whose first import triggers apply()
    detect: Callable[[], Detection]
    apply: Callable[[ModuleType], None]
    self_check: Callable[[ModuleType], str | None]
    alternatives: tuple[str, ...] = field(default_factory=tuple)  # fixes without the patch
    blocks: tuple[str, ...] = field(default_factory=tuple)        # capabilities it breaks when missing
