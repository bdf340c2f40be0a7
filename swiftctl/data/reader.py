"""Stream a jsonl file row by row in constant memory: (line number, raw bytes, parsed value, problems).

Byte-level problems (BOM, invalid UTF-8, invalid JSON, raw control characters, blank lines) are diagnosed here,
only for the lines that fail the fast path (``orjson.loads`` on the raw bytes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"
PROGRESS_EVERY = 1 << 14  # lines between two progress callbacks
_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# progress(path, bytes_done, bytes_total)
Progress = Callable[[Path, int, int], None]
RowProblem = tuple[str, str]  # (rule code, detail)


def _diagnose(raw: bytes, err: Exception) -> RowProblem:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "DS003", f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is not UTF-8"
    match = _RAW_CONTROL.search(raw)
    if match:
        return "DS031", f"raw control character 0x{match.group()[0]:02x} at column {match.start() + 1}"
    return "DS004", f"invalid JSON: {str(err).split(': line')[0]}"


def iter_rows(path: Path, progress: Progress | None = None) -> Iterator[tuple[int, bytes, Any, list[RowProblem]]]:
    """Yield ``(line, raw, value, problems)`` for every non-blank line; ``value`` is None when it did not parse.

    Blank lines yield ``(line, b"", None, [("DS005", ...)])``. ``raw`` is the line without BOM and surrounding
    whitespace (what duplicate detection hashes).
    """
    total = path.stat().st_size
    done = 0
    loads = orjson.loads
    with open(path, "rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            done += len(raw)
            if progress is not None and lineno % PROGRESS_EVERY == 0:
                progress(path, done, total)
            problems: list[RowProblem] = []
            if lineno == 1 and raw.startswith(BOM):
                problems.append(("DS002", "the file starts with a UTF-8 byte-order mark"))
                raw = raw[len(BOM):]
            raw = raw.strip()
            if not raw:
                problems.append(("DS005", "blank line"))
                yield lineno, raw, None, problems
                continue
            try:
                value = loads(raw)
            except orjson.JSONDecodeError as err:
                problems.append(_diagnose(raw, err))
                value = None
            yield lineno, raw, value, problems
    if progress is not None:
        progress(path, total, total)
