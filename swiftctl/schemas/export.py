"""Build the JSON Schema of each registered output and write/compare the files under ``schemas/``."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from swiftctl.schemas import REGISTRY, Entry

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def resolve(dotted: str) -> Any:
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def _close(node: Any) -> None:
    """additionalProperties: false on every object with named properties, so a field added to the output without
    regenerating the schema fails validation (dicts keyed by data keep their own additionalProperties)."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


def _apply(schema: dict, patch: dict[str, dict]) -> None:
    for where, props in patch.items():
        node = schema
        for part in [p for p in where.split("/") if p]:
            node = node[part]
        node.setdefault("properties", {}).update(props)
        node.setdefault("required", []).extend(k for k in props if k not in node.get("required", []))


def build(name: str, entry: Entry | None = None) -> dict:
    from pydantic import TypeAdapter

    entry = entry or REGISTRY[name]
    body = TypeAdapter(resolve(entry.type)).json_schema(mode="serialization", by_alias=True)
    if entry.patch:
        _apply(body, entry.patch)
    _close(body)
    head = {"$schema": DRAFT, "title": f"swiftctl {name}", "description": f"The output of `{entry.command}`.",
            "schema_version": entry.version}
    return head | {k: v for k, v in body.items() if k not in ("title", "description")}


def render(name: str) -> str:
    return json.dumps(build(name), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write_all(out_dir: Path) -> list[Path]:
    from swiftctl.fsutil import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in REGISTRY:
        path = out_dir / f"{name}.schema.json"
        atomic_write_text(path, render(name))
        written.append(path)
    return written


def stale(out_dir: Path) -> list[str]:
    """Names whose committed file differs from the generated one (or is missing), plus files nobody generates."""
    wrong = [n for n in REGISTRY if not (out_dir / f"{n}.schema.json").is_file()
             or (out_dir / f"{n}.schema.json").read_text(encoding="utf-8") != render(n)]
    extra = [p.name for p in out_dir.glob("*.schema.json") if p.name.removesuffix(".schema.json") not in REGISTRY]
    return wrong + extra
