"""Read a job file's text safely: only regular files of a sane size, UTF-8 (a BOM is fine), never gzip; and find
NUL characters hidden in string values (an escaped ``\\u0000`` is valid TOML but no process argument can hold it).

A FIFO would block forever, ``/dev/zero`` would grow memory without end, so both are refused before any read.
"""

from __future__ import annotations

import errno
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from swiftctl.errors import SwiftctlError

MAX_BYTES = 1 << 20  # a job file is a few KiB; anything near this is not one
_BOM = b"\xef\xbb\xbf"
_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}
_FIX = "pass the path of a job TOML file, e.g. jobs/demo.toml"


def _os_error(path: Path, exc: OSError, what: str = "job file", fix: str = _FIX) -> SwiftctlError:
    hint = {errno.EACCES: f"make it readable (chmod u+r {path})", errno.EPERM: f"make it readable (chmod u+r {path})",
            errno.ENOTDIR: "a part of the path is a file, not a directory: fix the path",
            errno.ELOOP: "the path is a symlink loop: fix the link"}.get(exc.errno, fix)
    return SwiftctlError(f"cannot read {what}: {exc.strerror}", location=str(path), hint=hint)


def read_job_text(path: Path, what: str = "job file", fix: str = _FIX) -> str:
    """The text of a job file, or one SwiftctlError saying what the path is and what to pass instead."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SwiftctlError(f"{what} not found: {path}", hint=fix) from None
    except OSError as exc:
        raise _os_error(path, exc, what, fix) from None
    kind = stat.S_IFMT(info.st_mode)
    if kind != stat.S_IFREG:
        raise SwiftctlError(f"{path} is {_KINDS.get(kind, 'not a regular file')}, not a {what}", location=str(path),
                            hint=fix)
    if info.st_size > MAX_BYTES:
        raise SwiftctlError(f"{path} is {info.st_size} bytes: too large to be a {what}", location=str(path),
                            hint=fix)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _os_error(path, exc, what, fix) from None
    if data[:2] == b"\x1f\x8b":
        raise SwiftctlError(f"the {what} is gzip-compressed", location=str(path),
                            hint=f"decompress it first: gunzip -c {path} > job.toml")
    data = data.removeprefix(_BOM)  # editors on Windows add one; TOML does not allow it, nothing is lost by dropping it
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SwiftctlError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}", location=f"{path}:{line}",
                            hint=f"convert it, e.g. iconv -f GBK -t UTF-8 {path} > job.toml") from None


def nul_keys(raw: Any, prefix: str = "") -> Iterator[str]:
    """Dotted keys of string values (or keys) holding a NUL character."""
    if isinstance(raw, dict):
        for key, value in raw.items():
            full = f"{prefix}.{key}" if prefix else str(key)
            if "\x00" in str(key):
                yield full
            yield from nul_keys(value, full)
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            yield from nul_keys(value, f"{prefix}.{i}")
    elif isinstance(raw, str) and "\x00" in raw:
        yield prefix
