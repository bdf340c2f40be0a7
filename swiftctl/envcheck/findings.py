"""A finding is one thing doctor (or a patch, a lint) tells the user: what, why, and the exact fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"      # blocks the capabilities in `blocks`
    WARNING = "warning"  # works, but likely to hurt
    INFO = "info"        # context


# What a user needs the environment for; a finding blocks some of them.
CAPABILITIES = ("train", "infer", "eval", "track", "webui")


@dataclass(frozen=True)
class Finding:
    code: str            # stable id, e.g. "version.out-of-range", "patch.needed.gelu-tanh-alias"
    severity: Severity
    what: str            # one line: what is wrong
    why: str             # why it matters, with the upstream thread when there is one
    fix: str             # the exact command (or edit) that fixes it
    blocks: tuple[str, ...] = field(default_factory=tuple)  # capabilities this finding blocks

    def blocks_any(self, required: set[str] | frozenset[str]) -> bool:
        return self.severity is Severity.ERROR and (not self.blocks or bool(required & set(self.blocks)))
