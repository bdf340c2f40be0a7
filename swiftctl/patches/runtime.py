"""The part of swiftctl that runs inside every patched child process (stdlib only, cheap at start-up).

`boot/sitecustomize.py` calls :func:`install` with the ids in ``SWIFTCTL_PATCHES``. Nothing is imported eagerly:
a meta-path finder waits for each patch's target module (e.g. ``transformers.activations``) and, when Python first
executes it, runs the patch's ``apply`` right after the module's own code, before the importer gets the module.
A process that never imports the target pays one dict lookup per import.

A patch that fails is logged once per process on stderr and the program goes on without it. When
``SWIFTCTL_PATCH_REPORT`` names a file, one JSON line per patch outcome is appended to it (pid, rank, id, state).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import json
import os
import sys
import threading
from collections.abc import Callable
from types import ModuleType

ENV_IDS = "SWIFTCTL_PATCHES"
ENV_REPORT = "SWIFTCTL_PATCH_REPORT"

# id -> "applied" | "failed: ..." | "waiting" (target not imported yet)
STATE: dict[str, str] = {}
_logged: set[str] = set()
_lock = threading.RLock()


def log_once(key: str, message: str) -> None:
    """One line on stderr per key and process; never raises."""
    with _lock:
        if key in _logged:
            return
        _logged.add(key)
    with contextlib.suppress(Exception):
        sys.stderr.write(f"swiftctl-patches[{os.getpid()}]: {message}\n")
        sys.stderr.flush()


def _report(patch_id: str, state: str) -> None:
    path = os.environ.get(ENV_REPORT)
    if not path:
        return
    line = json.dumps({"pid": os.getpid(), "rank": os.environ.get("RANK"), "id": patch_id, "state": state}) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())  # one short O_APPEND write: lines of concurrent ranks never interleave
        finally:
            os.close(fd)
    except OSError as exc:
        log_once("report", f"cannot write the patch report {path}: {exc}")


def _run(patch_id: str, apply: Callable[[ModuleType], None], check: Callable[[ModuleType], str | None],
         module: ModuleType) -> None:
    try:
        apply(module)
        problem = check(module)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    state = "applied" if problem is None else f"failed: {problem}"
    with _lock:
        STATE[patch_id] = state
    if problem is not None:
        log_once(f"fail:{patch_id}", f"patch {patch_id} did not apply ({problem}); continuing without it "
                                     "(see `swiftctl patch list`)")
    _report(patch_id, state)


class PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: asks the finders after it, then wraps the loader's exec_module to run hooks."""

    def __init__(self) -> None:
        self.hooks: dict[str, list[Callable[[ModuleType], None]]] = {}
        self._busy = threading.local()

    def find_spec(self, name, path=None, target=None):
        hooks = self.hooks.get(name)
        if not hooks:
            return None
        busy = self._busy.__dict__.setdefault("names", set())
        if name in busy:
            return None
        busy.add(name)
        try:
            spec = None
            index = sys.meta_path.index(self) if self in sys.meta_path else -1
            for finder in sys.meta_path[index + 1:]:
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, target) if find is not None else None
                if spec is not None:
                    break
        finally:
            busy.discard(name)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            if getattr(module, "__name__", None) != name:  # a loader shared by several modules
                return
            for hook in list(self.hooks.get(name, ())):
                hook(module)

        with contextlib.suppress(AttributeError, TypeError):  # a loader that refuses attributes: leave it be
            loader.exec_module = exec_module
        return spec


_finder: PostImportFinder | None = None


def when_imported(module_name: str, hook: Callable[[ModuleType], None]) -> None:
    """Run ``hook(module)`` right after ``module_name`` is first executed (now, if it already was)."""
    global _finder
    if module_name in sys.modules:
        hook(sys.modules[module_name])
        return
    with _lock:
        if _finder is None:
            _finder = PostImportFinder()
            sys.meta_path.insert(0, _finder)
        _finder.hooks.setdefault(module_name, []).append(hook)


def install(ids_text: str | None = None) -> list[str]:
    """Arm the patches named in ``ids_text`` (default: ``$SWIFTCTL_PATCHES``); never raises. Returns the ids armed."""
    text = os.environ.get(ENV_IDS, "") if ids_text is None else ids_text
    armed = []
    for patch_id in filter(None, (p.strip() for p in text.split(","))):
        try:
            from swiftctl.patches.registry import get

            patch = get(patch_id)
        except Exception as exc:
            log_once(f"unknown:{patch_id}", f"patch {patch_id} not armed: {type(exc).__name__}: {exc}")
            STATE[patch_id] = f"failed: unknown patch ({exc})"
            continue
        if patch_id in STATE:  # idempotent: a second install() does not add a second hook
            continue
        STATE[patch_id] = "waiting"
        when_imported(patch.target, lambda m, p=patch: _run(p.id, p.apply, p.self_check, m))
        armed.append(patch_id)
    return armed
