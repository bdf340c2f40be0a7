"""Atomic file writes: a reader never sees a half-written file, and a crash never leaves one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", *, encoding: str | None = "utf-8", overwrite: bool = True,
                file_mode: int | None = None) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success fsync and rename it over ``path``; on error remove it.

    With ``overwrite=False`` an existing ``path`` is never replaced (FileExistsError is raised before writing).
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if file_mode is not None:
            os.chmod(tmp, file_mode)
        if not overwrite and path.exists():
            raise FileExistsError(str(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, *, overwrite: bool = True, file_mode: int | None = None) -> None:
    with atomic_open(path, "w", overwrite=overwrite, file_mode=file_mode) as handle:
        handle.write(text)


def atomic_write_bytes(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    with atomic_open(path, "wb", encoding=None, overwrite=overwrite) as handle:
        handle.write(data)
