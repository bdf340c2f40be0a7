"""The dataset format specs as data: JSON Schemas and rules from ``swiftctl/resources/datasets_spec/``.

The checker takes format detection keys, aliases and role names from each schema's ``x-swiftctl`` block, and
rule severities and fixes from ``rules.json``, so the published specs and the validator cannot drift apart.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.resources import resource_dir

# Detection order: the first format whose keys a row has wins (ms-swift's AutoPreprocessor order).
FORMAT_NAMES = ("messages", "sharegpt", "sharegpt-classic", "alpaca", "prompt-completion", "query-response")


def spec_dir() -> Path:
    """``$SWIFTCTL_DATASETS_SPEC`` (a user's override) or the specs shipped in the package (swiftctl/resources/datasets_spec)."""
    env = os.environ.get("SWIFTCTL_DATASETS_SPEC")
    path = Path(env) if env else resource_dir("datasets_spec")
    if not (path / "rules.json").is_file():
        raise SwiftctlError(f"dataset specs not found in {path} (no rules.json)",
                            hint="unset SWIFTCTL_DATASETS_SPEC, or point it at a copy of swiftctl/resources/datasets_spec")
    return path


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # "error" | "warning"
    what: str
    fix: str
    ms_swift: str  # drop | crash (the job stops) | trains-wrong | keep
    source: str = ""  # where ms-swift 4.6 does it (file:line in its source)


@cache
def rules() -> dict[str, Rule]:
    data = json.loads((spec_dir() / "rules.json").read_text(encoding="utf-8"))
    return {code: Rule(code=code, **fields) for code, fields in data["rules"].items()}


@cache
def schema(fmt: str) -> dict:
    """The JSON Schema of one format (``messages``, ``sharegpt``, ...)."""
    if fmt not in FORMAT_NAMES:
        raise SwiftctlError(f"unknown dataset format {fmt!r}", hint=f"use one of: {', '.join(FORMAT_NAMES)}",
                            exit_code=2)
    return json.loads((spec_dir() / f"{fmt}.schema.json").read_text(encoding="utf-8"))


def hints(fmt: str) -> dict:
    """The ``x-swiftctl`` block of a format's schema: detection keys, aliases, role names."""
    return schema(fmt)["x-swiftctl"]
