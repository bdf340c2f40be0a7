"""Cheap facts about the installed packages for detection: metadata and source text, never an import."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from swiftctl.envcheck.installed import installed_version


def dist_version(name: str) -> str | None:
    version = installed_version(name)
    return None if version is None else str(version)


def module_file(module: str) -> Path | None:
    """The source file of ``module`` (``a.b.c``) without importing it (the parent package's dir is located only)."""
    top, _, rest = module.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return Path(spec.origin) if spec is not None and spec.origin and not rest else None
    base = Path(next(iter(spec.submodule_search_locations)))
    if not rest:
        return base / "__init__.py"
    path = base.joinpath(*rest.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def source_text(module: str) -> str | None:
    path = module_file(module)
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path is not None else None
    except OSError:
        return None


def importable(top_level: str) -> bool:
    try:
        return importlib.util.find_spec(top_level) is not None
    except (ImportError, ValueError):
        return False
