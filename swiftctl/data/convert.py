"""`swiftctl data convert`: rewrite any supported format as ms-swift messages, losslessly and atomically.

Every other column (tools, images, ...) and every extra key of a message (``loss``, ``loss_scale``) is kept. Self-
cognition placeholders are filled when ``fill_name``/``fill_author`` are given. Nothing is written unless every row
converts: the output is written to a temp file and renamed at the end; IN is never overwritten.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from swiftctl.data import spec
from swiftctl.data.formats import _LIST_KEYS, _ROLE_LIST_KEYS, Conversation, iter_conversations
from swiftctl.data.rules import _PLACEHOLDER
from swiftctl.errors import SwiftctlError, UsageError
from swiftctl.fsutil import atomic_open

TARGETS = ("messages",)


@dataclass
class ConvertResult:
    src: Path
    dst: Path
    rows: int
    formats: dict[str, int] = field(default_factory=dict)  # input rows per detected format
    filled: dict[str, int] = field(default_factory=dict)  # placeholder -> occurrences replaced
    placeholders_left: int = 0  # rows still holding {{NAME}}/{{AUTHOR}} (no --fill-* given)


def _fill(text, fills: dict[str, str], result: ConvertResult):
    if not isinstance(text, str) or "{{" not in text:
        return text
    for placeholder, value in fills.items():
        count = text.count(placeholder)
        if count:
            result.filled[placeholder] = result.filled.get(placeholder, 0) + count
            text = text.replace(placeholder, value)
    return text


def _check_paths(src: Path, dst: Path, force: bool, to: str) -> None:
    if to not in TARGETS:
        raise UsageError(f"cannot convert to {to!r}", hint=f"use --to {' or '.join(TARGETS)}")
    if not src.is_file():
        raise UsageError("no such file" if not src.exists() else "is not a file", location=str(src),
                         hint="pass an existing jsonl file as IN")
    if dst.exists() and (dst.resolve() == src.resolve() or os.path.samefile(src, dst)):
        raise UsageError("OUT is the same file as IN; IN is never overwritten", location=str(dst),
                         hint="write to a new file, e.g. " + str(src.with_suffix(".messages.jsonl")))
    if dst.exists() and not force:
        raise UsageError("OUT already exists", location=str(dst), hint="choose another OUT or pass --force")
    if dst.is_dir():
        raise UsageError("OUT is a directory", location=str(dst), hint="pass a file path as OUT")


def convert_file(src: Path, dst: Path, *, to: str = "messages", fill_name: str | None = None,
                 fill_author: str | None = None, fmt: str | None = None, force: bool = False) -> ConvertResult:
    """Convert ``src`` to ``dst`` (format ``to``); raises SwiftctlError at the first row that cannot be read."""
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst, force, to)
    if fmt is not None:
        spec.schema(fmt)
    fills = {k: v for k, v in (("{{NAME}}", fill_name), ("{{AUTHOR}}", fill_author)) if v is not None}
    result = ConvertResult(src, dst, 0)
    with output_file(dst, force) as out:
        for conv in iter_conversations(src, fmt):
            result.rows += 1
            result.formats[conv.format] = result.formats.get(conv.format, 0) + 1
            messages = _with_message_extras(conv)
            for message in messages:
                message["content"] = _fill(message["content"], fills, result)
            result.placeholders_left += any(_PLACEHOLDER.search(m["content"]) for m in messages)
            out.write(orjson.dumps({"messages": messages, **conv.extra}) + b"\n")
    return result


@contextlib.contextmanager
def output_file(dst: Path, force: bool) -> Iterator[IO[bytes]]:
    """OUT written atomically: a failure while converting leaves no file (and says so); OUT appearing meanwhile is refused."""
    try:
        with atomic_open(dst, "wb", encoding=None, overwrite=force) as out:
            yield out
    except FileExistsError as exc:
        raise UsageError("OUT already exists", location=str(dst), hint="choose another OUT or pass --force") from exc
    except SwiftctlError as exc:
        exc.message = f"{exc.message}; nothing was written to {dst}"
        raise


def _with_message_extras(conv: Conversation) -> list[dict]:
    """The normalised messages plus each source message's other keys (loss, loss_scale, name, ...)."""
    messages = conv.messages
    key = _LIST_KEYS.get(conv.format)
    items = conv.raw.get(key) if key else None
    if items and isinstance(items[0], dict) and any(k in items[0] for k in _ROLE_LIST_KEYS):
        offset = len(messages) - len(items)  # 1 when the row's system field was put first
        for message, item in zip(messages[offset:], items, strict=False):
            message.update({k: v for k, v in item.items() if k not in _ROLE_LIST_KEYS})
    return messages
