"""Atomic file writes: a reader never sees a half-written file, and a crash never leaves one behind for long.

The temp file sits beside its target as ``.<name>.swiftctl-<pid>-<random>.tmp``. It is removed on any error,
on Ctrl-C and on SIGTERM (the CLI turns SIGTERM into an exception, so cleanup code runs); after a SIGKILL it stays
findable by that name, and the next write to the same target removes every such file whose process is gone.
Written files get the mode the umask gives (0644 under the usual 022), not mkstemp's private 0600.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMP_PATTERN = ".{name}.swiftctl-{pid}-*.tmp"


def umask_mode(base: int = 0o666) -> int:
    """``base`` with the process umask applied (what open() would give a new file)."""
    current = os.umask(0)
    os.umask(current)
    return base & ~current


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temps(path: Path) -> list[Path]:
    """Remove temp files of earlier writes to ``path`` whose process is gone (killed with SIGKILL)."""
    removed = []
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.swiftctl-(\d+)-[^/]*\.tmp$")
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = pattern.match(entry.name)
            if match and int(match[1]) != os.getpid() and not _alive(int(match[1])):
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name the same file (links and relative spellings included)."""
    with contextlib.suppress(OSError):
        if Path(a).exists() and Path(b).exists():
            return os.path.samefile(a, b)
    return Path(a).resolve() == Path(b).resolve()


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
    sweep_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.swiftctl-{os.getpid()}-", suffix=".tmp", dir=path.parent)
    binary = "b" in mode
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, umask_mode() if file_mode is None else file_mode)
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


def check_output(path: Path, *, inputs: tuple[Path | None, ...] = (), force: bool = False, option: str = "--out") -> None:
    """Before any work starts: refuse an output that is one of the inputs, or an existing file without --force."""
    from swiftctl.errors import UsageError

    path = Path(path)
    for source in inputs:
        if source is not None and same_file(path, Path(source)):
            raise UsageError(f"{option} {path} is also an input: writing it would destroy the input",
                             hint=f"give {option} another file name", location=option)
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory", hint=f"give {option} a file name", location=option)
    if path.exists() and not force:
        raise UsageError(f"{option} {path} already exists: refusing to overwrite it",
                         hint="choose another file name, or add --force to replace it", location=option)


def read_stdin(stream: IO[str], *, what: str, hint: str) -> str:
    """All of standard input as text; an unreadable or non-UTF-8 stdin is one usage error naming ``what``."""
    from swiftctl.errors import UsageError

    try:
        return stream.read()
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # closed, not readable, a detached terminal, bad bytes
        raise UsageError(f"cannot read {what} from stdin: {exc}", location="-", hint=hint) from None
