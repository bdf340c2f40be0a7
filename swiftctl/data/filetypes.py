"""File types as ms-swift 4.6 loads them: ``.jsonl``/``.json`` through HF ``load_dataset('json')``, ``.csv`` through
``load_dataset('csv', na_filter=False)`` (swift/dataset/loader.py:52-59).

- ``.jsonl``, and a ``.json`` whose first non-blank byte is not ``[``: JSON Lines (pyarrow's reader; streamed by
  ``check.py``'s fast path). pyarrow also reads a BOM, ``NaN`` and two objects on one line; any line it cannot parse
  (invalid JSON, a raw control byte inside a string, bytes that are not UTF-8) makes it reject the WHOLE file.
- ``.json`` starting with ``[``: one JSON array of row objects (HF reads it with ``json.load``).
- ``.csv``: a header row, then one row per record; every value is a string (``na_filter=False``: empty stays "").

``iter_records`` yields ``(line, raw, value, problems)`` like ``reader.iter_rows`` for the array and csv kinds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from swiftctl.data.reader import BOM, RowProblem

JSONL, ARRAY, CSV = "jsonl", "json-array", "csv"
SUFFIXES = (".jsonl", ".json", ".csv")
GZIP = b"\x1f\x8b"


class FileRejected(Exception):
    """The whole file cannot be loaded: ``(code, line, detail)``."""

    def __init__(self, code: str, line: int, detail: str) -> None:
        super().__init__(detail)
        self.code, self.line, self.detail = code, line, detail


def kind(path: Path) -> str:
    """``jsonl`` (streamed), ``json-array`` or ``csv``; FileRejected for a type ms-swift cannot load here."""
    suffix = path.suffix.lower()
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(GZIP):
        return JSONL if suffix in (".jsonl", ".json") else CSV
    if suffix == ".csv":
        return CSV
    if suffix == ".json" and head.removeprefix(BOM).lstrip()[:1] == b"[":
        return ARRAY
    if suffix == ".json" and head.removeprefix(BOM).lstrip()[:1] == b"{":
        _one_object(path)
    if suffix in (".jsonl", ".json"):
        return JSONL
    raise FileRejected("DS008", 0, f"ms-swift loads {path.suffix or 'extension-less'} files with HF's "
                                   f"'{suffix.lstrip('.') or '?'}' builder, which swiftctl does not check")


def _one_object(path: Path) -> None:
    """A .json holding ONE (pretty-printed) object: neither an array of rows nor JSON Lines; HF fails on it."""
    with open(path, "rb") as handle:
        first = handle.readline().removeprefix(BOM).strip()
    try:
        json.loads(first)
        return  # the first line is a whole object: JSON Lines
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    try:
        json.loads(_decode(path))
    except json.JSONDecodeError:
        return  # not one object either: the per-line findings say where it breaks
    raise FileRejected("DS004", 1, "the .json file is one JSON object, neither an array of rows ([{...}, {...}]) "
                                   "nor JSON Lines (one object per line)")


def _decode(path: Path) -> str:
    data = path.read_bytes().removeprefix(BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FileRejected("DS003", line, f"byte 0x{data[exc.start]:02x} is not UTF-8 (unknown encoding: "
                                          "re-encode the file as UTF-8)") from exc


def _array(path: Path) -> Iterator[tuple[int, bytes, Any, list[RowProblem]]]:
    text = _decode(path)
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected("DS004", exc.lineno, f"the .json file starts with '[' but is not one JSON array "
                                                f"({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    if not isinstance(rows, list):
        raise FileRejected("DS004", 1, "the .json file is neither a JSON array nor JSON Lines")
    decoder = json.JSONDecoder()
    pos, line = text.index("[") + 1, text[:text.index("[")].count("\n") + 1
    for value in rows:
        # the line of each element: skip separators, then the element's own text
        while pos < len(text) and text[pos] in " \t\r\n,":
            line += text[pos] == "\n"
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        raw = text[pos:end]
        yield line, raw.encode(), value, [] if isinstance(value, dict) else [("DS006", "the element is not an object")]
        line += raw.count("\n")
        pos = end


def _csv(path: Path) -> Iterator[tuple[int, bytes, Any, list[RowProblem]]]:
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        width = len(header)
        start = reader.line_num + 1
        for record in reader:
            if not record:
                start = reader.line_num + 1
                continue
            problems: list[RowProblem] = []
            if len(record) != width:
                what = "shifts the columns (pandas reads the extra leading fields as an index)" if len(record) > width \
                    else "fills the missing fields with \"\""
                problems.append(("DS009", f"a ragged row: {len(record)} fields under a header of {width}; pandas {what}"))
                record = (record + [""] * width)[:width]
            row = dict(zip(header, record, strict=True))
            yield start, "\x1f".join(record).encode(), row, problems
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRejected("DS013", start, f"broken CSV quoting ({exc})") from exc


def iter_records(path: Path, file_kind: str) -> Iterator[tuple[int, bytes, Any, list[RowProblem]]]:
    return _array(path) if file_kind == ARRAY else _csv(path)
