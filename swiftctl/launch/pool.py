"""Pools of worker processes for heavy per-row work, kept out of the CLI process: ``worker_pool`` (workers that load
something once, e.g. ms-swift's template encode) and ``process_map`` (an ordered map, ``data check --jobs``).

Workers are started with ``spawn`` (a fresh interpreter: nothing of the parent's state, no fork of a threaded
process), import what they need once in ``initializer``, and ignore SIGINT: Ctrl-C reaches the parent, which
terminates the pool. The pool is torn down (terminated and joined) when the ``with`` block ends, normally, on an error or
on Ctrl-C, so no worker outlives the command.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any


def _orphan_guard(parent: int) -> None:
    """A worker whose parent died without tearing the pool down (SIGKILL, SIGTERM) exits instead of lingering."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init(initializer: Callable[..., None], initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_orphan_guard, args=(os.getppid(),), daemon=True).start()
    initializer(*initargs)


class WorkerPool:
    """``call(fn, *args)`` runs ``fn(*args)`` in a worker and returns its result (exceptions are re-raised here)."""

    def __init__(self, pool) -> None:
        self._pool = pool

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._pool.apply(fn, args)

    def map(self, fn: Callable[[Any], Any], items: list) -> list:
        return self._pool.map(fn, items, chunksize=1)


@contextlib.contextmanager
def _main_not_rerun() -> Iterator[None]:
    """Spawn re-runs the caller's ``__main__`` script in each worker; a script without an ``if __name__ ==
    "__main__"`` guard would start pools inside the workers, which die and are respawned forever. The workers only
    need swiftctl's own modules, so they are started without it."""
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if hasattr(main, k)}
    if "__file__" in saved:
        del main.__file__
    if "__spec__" in saved:
        main.__spec__ = None
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(main, key, value)


@contextlib.contextmanager
def worker_pool(initializer: Callable[..., None], initargs: tuple = (), processes: int = 1) -> Iterator[WorkerPool]:
    """Start ``processes`` spawned workers, each running ``initializer(*initargs)`` once; stop them all on exit."""
    ctx = multiprocessing.get_context("spawn")
    with _main_not_rerun():
        pool = ctx.Pool(processes, initializer=_init, initargs=(initializer, initargs))
    try:
        yield WorkerPool(pool)
    finally:  # every result is in (calls are synchronous) or no longer wanted: stop the workers now
        pool.terminate()
        pool.join()


def _nothing() -> None:
    pass


@contextlib.contextmanager
def process_map(fn: Callable[[Any], Any], items: Iterable[Any], jobs: int,
                preload: Sequence[str] = ()) -> Iterator[Iterator[Any]]:
    """``with process_map(fn, items, jobs) as results:`` ``fn(item)`` for each item in ``jobs`` processes, in order.

    Workers start through ``forkserver`` (``spawn`` where there is none): no fork of a parent that may hold threads
    or locks; ``preload``: modules the fork server imports once, so each worker starts warm. A worker's exception is
    re-raised in the parent; leaving the block terminates and joins every worker.
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if preload and ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(list(preload))
    with _main_not_rerun():
        pool = ctx.Pool(jobs, initializer=_init, initargs=(_nothing, ()))
    try:
        yield pool.imap(fn, items)
    finally:
        pool.terminate()
        pool.join()
