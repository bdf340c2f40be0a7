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
    ms_swift: str  # drop | crash (the job stops) | trains-wrong | keep | depends (on the network or the files)
    source: str = ""  # where ms-swift 4.6 does it (file:line in its source)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # a user's override (SWIFTCTL_DATASETS_SPEC) broken or incomplete
        raise SwiftctlError(f"cannot read dataset spec: {exc}", location=str(path),
                            hint="fix the file, or unset SWIFTCTL_DATASETS_SPEC to use the specs shipped with "
                                 "swiftctl") from exc


@cache
def rules() -> dict[str, Rule]:
    path = spec_dir() / "rules.json"
    try:
        return {code: Rule(code=code, **fields) for code, fields in _read_json(path)["rules"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise SwiftctlError(f"not a rules file ({exc!r}): expected a \"rules\" object of code -> "
                            "{name, severity, what, fix, ms_swift}", location=str(path),
                            hint="compare with swiftctl/resources/datasets_spec/rules.json") from exc


@cache
def schema(fmt: str) -> dict:
    """The JSON Schema of one format (``messages``, ``sharegpt``, ...)."""
    if fmt not in FORMAT_NAMES:
        raise SwiftctlError(f"unknown dataset format {fmt!r}", hint=f"use one of: {', '.join(FORMAT_NAMES)}",
                            exit_code=2)
    return _read_json(spec_dir() / f"{fmt}.schema.json")


def hints(fmt: str) -> dict:
    """The ``x-swiftctl`` block of a format's schema: detection keys, aliases, role names."""
    block = schema(fmt).get("x-swiftctl")
    if not isinstance(block, dict):
        raise SwiftctlError("no \"x-swiftctl\" block (format detection keys)", location=str(spec_dir() / f"{fmt}.schema.json"),
                            hint="compare with swiftctl/resources/datasets_spec/messages.schema.json")
    return block
