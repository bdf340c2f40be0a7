"""What is installed, read from ``*.dist-info`` metadata only: never by importing the package.

Importing torch or swift to ask its version costs seconds and can crash on a broken stack, which is exactly the
stack doctor must describe. ``path`` is a list of directories to search instead of ``sys.path`` (tests build fake
distributions there; ``env install`` can ask about another interpreter's site-packages).
"""

from __future__ import annotations

import importlib.metadata as md
import re
from functools import lru_cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


def _find(name: str, path: list[str] | None) -> md.Distribution | None:
    # importlib.metadata matches ms-swift, ms_swift and MS-Swift alike (it normalises the dist-info name).
    wanted = canonicalize_name(name)
    if path is None:
        try:
            return md.distribution(wanted)
        except md.PackageNotFoundError:
            return None
    for dist in md.distributions(path=list(path)):
        if canonicalize_name(dist.metadata.get("Name") or "") == wanted:
            return dist
    return None


def clear_cache() -> None:
    """Forget cached versions (call after pip changed the environment, e.g. before doctor ends `env install`)."""
    _cached_version.cache_clear()


def installed_version(name: str, path: list[str] | None = None) -> Version | None:
    """The installed version of distribution ``name`` (``ms-swift`` == ``ms_swift``), or None if absent/unreadable."""
    # Doctor asks about the same ~30 names many times; parsing METADATA (an email parser) dominates its run time.
    return _cached_version(canonicalize_name(name), tuple(path) if path is not None else None)


@lru_cache(maxsize=1024)
def _cached_version(name: str, path: tuple[str, ...] | None) -> Version | None:
    dist = _find(name, list(path) if path is not None else None)
    if dist is None:
        return None
    try:
        return Version(dist.version)
    except (InvalidVersion, TypeError):
        return None


def installed_requires(name: str, path: list[str] | None = None) -> list[Requirement]:
    """The Requires-Dist of installed ``name`` (all of them, extras included, markers kept); [] if absent."""
    dist = _find(name, path)
    out: list[Requirement] = []
    for line in (dist.requires or []) if dist is not None else []:
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            continue  # one malformed line in a third-party METADATA must not hide the others
    return out


def base_requires(name: str, path: list[str] | None = None) -> list[Requirement]:
    """Requires-Dist that apply on this machine without any extra (the ranges pip enforced when installing)."""
    reqs = []
    for req in installed_requires(name, path):
        if req.marker is not None:
            try:
                if not req.marker.evaluate({"extra": ""}):
                    continue
            except Exception:  # an unknown marker variable: keep the requirement rather than hide a conflict
                pass
        reqs.append(req)
    return reqs


def dist_dir(name: str, path: list[str] | None = None) -> Path | None:
    """The ``*.dist-info`` directory of ``name`` (its mtime says when it was installed)."""
    dist = _find(name, path)
    if dist is None:
        return None
    located = getattr(dist, "_path", None)  # PathDistribution keeps it; no public accessor exists
    return Path(located) if located is not None else None


def read_dist_file(name: str, relpath: str, path: list[str] | None = None) -> str | None:
    """Text of a file that belongs to the distribution's install tree (e.g. ``torch/version.py``), or None."""
    dist = _find(name, path)
    if dist is None:
        return None
    try:
        return Path(str(dist.locate_file(relpath))).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


_CUDA_LINE = re.compile(r"^cuda\s*(?::[^=\n]*)?=\s*['\"]([\d.]+)['\"]", re.MULTILINE)


def torch_build(path: list[str] | None = None) -> str | None:
    """torch's compute build without importing it: ``"cpu"``, ``"cu128"`` style, or None when torch is absent.

    torch/version.py (written at build time) says ``cuda = '12.8'`` or ``cuda: Optional[str] = None``;
    the version's local label (``+cpu``, ``+cu128``) is the fallback when that file cannot be read.
    """
    version = installed_version("torch", path)
    if version is None:
        return None
    text = read_dist_file("torch", "torch/version.py", path)
    if text is not None:
        match = _CUDA_LINE.search(text)
        if match:
            return "cu" + match.group(1).replace(".", "")
        if re.search(r"^cuda\s*(?::[^=]*)?=\s*None", text, re.MULTILINE):
            return "cpu"
    return version.local or None


def cuda_version_of(build: str | None) -> Version | None:
    """``cu128`` -> 12.8, ``cu130`` -> 13.0; None for cpu/unknown."""
    if not build or not build.startswith("cu") or not build[2:].isdigit() or len(build) < 4:
        return None
    digits = build[2:]
    return Version(f"{digits[:-1]}.{digits[-1]}")
