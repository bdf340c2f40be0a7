"""A pool of worker processes that maps a function over items, results in order (``data check --jobs``).

Generic: any picklable, importable ``fn`` and picklable items. Workers start through ``forkserver`` (``spawn`` where
there is none): no fork of a parent that may hold threads or locks. Workers ignore SIGINT, so Ctrl-C reaches only the
parent, which tears the pool down; leaving the ``with`` block, normally or by an exception (a worker's exception is
re-raised in the parent), terminates and joins every worker: no orphan is left behind.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def process_map(fn: Callable[[Any], Any], items: Iterable[Any], jobs: int,
                preload: Sequence[str] = ()) -> Iterator[Iterator[Any]]:
    """``with process_map(fn, items, jobs) as results:`` ``fn(item)`` for each item in ``jobs`` processes, in order.

    ``preload``: modules the fork server imports once, so each worker starts warm.
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if preload and ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(list(preload))
    pool = ctx.Pool(jobs, initializer=_ignore_sigint)
    try:
        yield pool.imap(fn, items)
    finally:
        pool.terminate()
        pool.join()
