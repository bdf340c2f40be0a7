"""Count rows with ms-swift's OWN template encode, in worker processes, for templates swiftctl's renderer does not know.

Each worker (``swiftctl.launch.pool``, spawned) imports swift once and builds the template as ``swift sft`` does
(``BaseArguments.get_template``: ``get_template(processor, default_system, max_length, template_type=...,
truncation_strategy='raise')`` -- ``delete`` is ``raise`` at encode time, swift/arguments/base_args/template_args.py:
180-183) in train mode, then encodes batches of rows (``Template.encode``). A row whose encode raises is deleted by
ms-swift (swift/dataset/preprocessor/core.py:232-259): ``MaxLengthError`` is an over-length drop, anything else an
encode error. This process never imports swift or torch: memory stays flat however big the file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.errors import SwiftctlError, UsageError

COUNTER = "ms-swift-worker"
_TEMPLATE = None  # in a worker: the ms-swift template
_ERROR: str | None = None  # in a worker: why the template could not be built


@dataclass
class Encoded:
    tokens: int | None  # ms-swift's length (len(input_ids)); None when the encode raised
    trained: int | None  # labels that are not -100
    over: bool = False  # MaxLengthError: ms-swift drops the row (truncation_strategy delete)
    error: str = ""  # any other encode exception: ms-swift deletes the row
    input_ids: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def available() -> bool:
    """ms-swift is importable (checked without importing it)."""
    return importlib.util.find_spec("swift") is not None


def _model_type(model_dir: str) -> str | None:
    config = Path(model_dir) / "config.json"
    return json.loads(config.read_text(encoding="utf-8")).get("model_type") if config.is_file() else None


def _init(model_dir: str, template: str, system: str | None, max_length: int | None) -> None:
    global _TEMPLATE, _ERROR
    try:
        import logging

        from swift import get_processor, get_template

        logging.getLogger("swift").setLevel(logging.ERROR)
        try:
            processor = get_processor(model_dir)
        except Exception:  # a model ms-swift cannot match by its files: name the type as config.json does
            processor = get_processor(model_dir, model_type=_model_type(model_dir))
        _TEMPLATE = get_template(processor, system, max_length, template_type=template, truncation_strategy="raise")
        _TEMPLATE.set_mode("train")
    except Exception as exc:  # reported by the first call, where the parent can raise it
        _ERROR = f"{type(exc).__name__}: {str(exc)[:500]}"


def _info() -> tuple[str | None, str | None]:
    """(error building the template, the template's default system)."""
    if _ERROR is not None:
        return _ERROR, None
    return None, _TEMPLATE.template_meta.default_system


def _encode(rows: list[dict], ids: bool) -> list[Encoded]:
    from swift.template import MaxLengthError

    out = []
    for row in rows:
        over = False
        try:
            try:
                enc = _TEMPLATE.encode(row, return_length=True)
            except MaxLengthError:  # dropped; encoded again without the limit for its length and labels
                over, limit, _TEMPLATE.max_length = True, _TEMPLATE.max_length, None
                try:
                    enc = _TEMPLATE.encode(row, return_length=True)
                finally:
                    _TEMPLATE.max_length = limit
        except Exception as exc:
            out.append(Encoded(None, None, error=f"{type(exc).__name__}: {str(exc)[:200]}"))
            continue
        input_ids, labels = list(enc["input_ids"]), list(enc["labels"])
        trained = sum(label != -100 for label in labels)
        out.append(Encoded(enc["length"], trained, over, input_ids=input_ids if ids else [],
                           labels=labels if ids else []))
    return out


def swift_row(messages: list[dict], row_system, tools=None) -> dict:
    """The row as ms-swift's preprocessor hands it to the template: a row-level system (query/response, alpaca)
    is the first message (``history_to_messages``, swift/template/utils.py:201-202); the template ignores a
    ``system`` key. ``tools`` (the row's column, a JSON string or a list) goes to the template as it is."""
    row: dict = {"messages": messages if row_system is None else
                 [{"role": "system", "content": row_system}, *messages]}
    if tools is not None:
        row["tools"] = tools
    return row


class SwiftEncoder:
    """ms-swift's template in ``processes`` workers; ``encode(rows)`` -> one ``Encoded`` per row. Use as a context."""

    def __init__(self, model_dir: Path, template: str, system: str | None, max_length: int | None,
                 processes: int = 1) -> None:
        if not available():
            raise UsageError(f"chat template {template!r} is not rendered by swiftctl, and ms-swift is not installed "
                             "to encode with it", location="--template",
                             hint="install ms-swift in this environment (pip install 'ms-swift>=4.6,<4.7') or pass "
                                  "--template qwen2_5 / qwen")
        from swiftctl.launch.pool import worker_pool

        self.template, self.processes = template, processes
        self._stack = contextlib.ExitStack()
        self._pool = self._stack.enter_context(
            worker_pool(_init, (str(model_dir), template, system, max_length), processes))
        try:
            error, default = self._pool.call(_info)
        except BaseException:
            self.close()
            raise
        if error is not None:
            self.close()
            raise SwiftctlError(f"ms-swift cannot build chat template {template!r} for this model: {error}",
                                location=str(model_dir), hint="pass a --template that fits the model's tokenizer")
        self.system = system if system is not None else default

    def encode(self, rows: list[dict], ids: bool = False) -> list[Encoded]:
        if not rows:
            return []
        size = -(-len(rows) // self.processes)
        chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
        return [e for part in self._pool.map(_encode_star, [(c, ids) for c in chunks]) for e in part]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> SwiftEncoder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _encode_star(args: tuple[list[dict], bool]) -> list[Encoded]:
    return _encode(*args)
