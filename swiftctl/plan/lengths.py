"""Token lengths of a job's training rows, counted by swiftctl's data-check token counter (real tokenizer + template)."""

from __future__ import annotations

from pathlib import Path

from swiftctl.data.preprocess import plan, to_messages
from swiftctl.data.reader import iter_rows
from swiftctl.data.report import FileSummary


def token_lengths(paths: list[Path], tokenizer_dir: Path, *, template: str | None, system: str | None) -> list[int]:
    from swiftctl.data.tokens import TokenCounter

    counter = TokenCounter(tokenizer_dir, template=template, system=system, max_length=None)
    counter.report = lambda *args: None
    for path in paths:
        summary = FileSummary(path=str(path), split="train", format=None, bytes=0, rows=0, turns=0, rows_lost=0)
        columns = None  # the preprocessor is chosen per file from its columns, as ms-swift does (data.preprocess)
        for line, _raw, value, problems in iter_rows(path):
            if value is None or problems:
                continue
            columns = columns or plan(value if isinstance(value, dict) else ())
            messages, row_system, drop = to_messages(value, columns)
            counter.add(summary, line, messages if drop is None else None, row_system)
    counter.flush()
    return counter.lengths


def percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]
