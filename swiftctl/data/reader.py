"""Stream a jsonl file in constant memory: lines in large binary chunks, or rows (line, raw, value, problems).

Byte-level problems (BOM, invalid UTF-8, invalid JSON, raw control characters, blank lines) are diagnosed here,
only for the lines that fail the fast path (``orjson.loads`` on the raw bytes).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"
CHUNK = 1 << 20  # bytes read at a time (a batch stays in the CPU cache); progress is reported once per chunk
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
        return "DS032", f"raw control byte 0x{match.group()[0]:02x} at column {match.start() + 1}"
    return "DS004", f"invalid JSON: {str(err).split(': line')[0]}"


def iter_lines(path: Path, progress: Progress | None = None, start: int = 0,
               end: int | None = None) -> Iterator[tuple[bytes, list[bytes]]]:
    """``(chunk, lines)``: the file's lines (split on ``\\n``, without it, not stripped), about ``CHUNK`` bytes at a time.

    ``chunk`` holds every byte of ``lines`` but the start of ``lines[0]`` (carried over from the previous chunk), so
    a byte search over ``chunk`` and ``lines[0]`` covers the batch. Lines are numbered from 1 across batches,
    exactly as ``for line in open(path, "rb")`` numbers them. ``progress`` is called after each batch has been
    consumed, and once at the end with ``(total, total)``. ``start``/``end``: only the bytes ``[start, end)`` of a
    plain (not gzip) file, ``start`` at a line start (``data check --jobs``: one byte range of the file).
    """
    total = path.stat().st_size
    done = 0
    tail = b""
    with open(path, "rb") as probe:
        zipped = probe.read(2) == b"\x1f\x8b"  # HF's json builder decompresses a gzip file whatever its name
    left = total if end is None else end - start
    with (gzip.open(path, "rb") if zipped else open(path, "rb", buffering=0)) as handle:
        if start:
            handle.seek(start)
        while True:
            chunk = handle.read(CHUNK if end is None else min(CHUNK, left))
            if not chunk:
                break
            done += len(chunk)
            left -= len(chunk)
            lines = chunk.split(b"\n")
            if tail:
                lines[0] = tail + lines[0]
            tail = lines.pop()  # after the last newline: the start of the next batch's first line
            if lines:
                yield chunk, lines
                if progress is not None:
                    progress(path, done - len(tail), total)
    if tail:
        yield tail, [tail]
    if progress is not None:
        progress(path, total, total)


def parse_row(lineno: int, raw: bytes) -> tuple[bytes, Any, list[RowProblem]]:
    """``(raw, value, problems)`` of one line: raw without BOM and surrounding whitespace, value None if unparsed."""
    problems: list[RowProblem] = []
    if lineno == 1 and raw.startswith(BOM):
        problems.append(("DS002", "the file starts with a UTF-8 byte-order mark"))
        raw = raw[len(BOM):]
    raw = raw.strip()
    if not raw:
        problems.append(("DS005", "blank line"))
        return raw, None, problems
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        value = _lenient(raw)
        if value is None:
            problems.append(_diagnose(raw, err))
    return raw, value, problems


class Many(list):
    """Several JSON values on one line: pyarrow reads each as a row."""


def _lenient(raw: bytes) -> Any:
    """What pyarrow also reads: NaN/Infinity, several objects on one line. None when it does not parse."""
    if _RAW_CONTROL.search(raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder, values, pos = json.JSONDecoder(), Many(), 0
    try:
        while pos < len(text):
            value, pos = decoder.raw_decode(text, pos)
            values.append(value)
            while pos < len(text) and text[pos] in " \t\r":
                pos += 1
    except json.JSONDecodeError:
        return None
    return values[0] if len(values) == 1 else values


def iter_rows(path: Path, progress: Progress | None = None) -> Iterator[tuple[int, bytes, Any, list[RowProblem]]]:
    """Yield ``(line, raw, value, problems)`` for every line; ``value`` is None when it did not parse.

    Blank lines yield ``(line, b"", None, [("DS005", ...)])``. ``raw`` is the line without BOM and surrounding
    whitespace (what duplicate detection hashes).
    """
    lineno = 0
    for _chunk, lines in iter_lines(path, progress):
        for raw in lines:
            lineno += 1
            yield lineno, *parse_row(lineno, raw)
