"""Consoles and JSON output. Data goes to stdout, messages to stderr."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from functools import cache
from pathlib import PurePath
from typing import Any

from rich.console import Console


@cache
def out() -> Console:
    """Console for data (tables, reports)."""
    return Console(soft_wrap=False)


@cache
def err() -> Console:
    """Console for messages, warnings and progress."""
    return Console(stderr=True)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, enums, paths and sets to plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "model_dump"):  # pydantic models
        return to_jsonable(obj.model_dump(mode="json"))
    return obj


def print_json(obj: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
