"""`swiftctl data check`: stream dataset files and report every problem ms-swift would hit, with file:line.

Structural checks never import transformers (only orjson); token checks load the model's tokenizer.json with the
``tokenizers`` library and render rows with the job's chat template (see ``swiftctl.data.tokens``).
Memory: constant per row; duplicate detection keeps one 64-bit hash and one int per distinct row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from swiftctl.data import spec
from swiftctl.data.fastpath import quick_turns
from swiftctl.data.formats import to_turns
from swiftctl.data.reader import Progress, iter_rows
from swiftctl.data.report import MAX_LISTED_PER_CODE, CheckReport, FileSummary, Problem, Summary, make_problem
from swiftctl.data.rules import SUSPECT, check_text, check_turns
from swiftctl.errors import ErrorGroup, UsageError

_LINE_BITS = 40


def _validate_paths(paths: Sequence[Path]) -> None:
    errors = []
    for path in paths:
        if not path.exists():
            errors.append(UsageError("no such file", location=str(path), hint="check the path"))
        elif not path.is_file():
            errors.append(UsageError("is a directory, not a jsonl file", location=str(path),
                                     hint=f"pass the files inside it, e.g. {path}/*.jsonl"))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(f"{len(errors)} dataset paths cannot be read", errors, exit_code=2)


class _Checker:
    def __init__(self, fmt: str | None, strict: bool, counter, progress: Progress | None) -> None:
        self.fmt, self.strict, self.counter, self.progress = fmt, strict, counter, progress
        self.problems: list[Problem] = []
        self.seen: dict[int, int] = {}  # hash(raw row) -> file index << 40 | line
        self.train_hashes = 0  # number of files whose rows count as training rows
        self.files: list[FileSummary] = []

    def _report(self, summary: FileSummary, line: int, code: str, detail: str) -> None:
        counts = summary.problem_counts
        counts[code] = counts.get(code, 0) + 1
        if counts[code] <= MAX_LISTED_PER_CODE:
            self.problems.append(make_problem(summary.path, line, code, detail, strict=self.strict))

    def _quick(self, value: dict, summary: FileSummary) -> int:
        fmt = self.fmt or ("messages" if "messages" in value else "sharegpt" if "conversation" in value else None)
        if fmt is None or (summary.format is not None and fmt != summary.format):
            return -1
        quick = quick_turns(value, fmt)
        if quick >= 0 and summary.format is None:
            summary.format = fmt
        return quick

    def check_file(self, path: Path, split: str, index: int, train_files: int) -> None:
        summary = FileSummary(str(path), split, None, path.stat().st_size, 0, 0, 0)
        self.files.append(summary)
        rules, report, seen, counter = spec.rules(), self._report, self.seen, self.counter
        for line, raw, value, problems in iter_rows(path, self.progress):
            if not raw and problems and problems[-1][0] == "DS005":
                for code, detail in problems:
                    report(summary, line, code, detail)
                continue
            summary.rows += 1
            turns = []
            if value is not None:
                if counter is None and not problems and value.__class__ is dict:
                    quick = self._quick(value, summary)
                    if quick >= 0 and not (b"{{" in raw or b"\\u00" in raw or b"\x7f" in raw):
                        summary.turns += quick
                        key = hash(raw)
                        if key not in seen:
                            seen[key] = index << _LINE_BITS | line
                            continue
                fmt, turns, more = to_turns(value, self.fmt)
                if fmt is not None and summary.format is None and not more:
                    summary.format = fmt
                elif fmt is not None and fmt != summary.format and self.fmt is None and summary.format:
                    more.append(("DS011", f"a {fmt} row in a {summary.format} file"))
                problems += more
                if turns or not more:
                    problems += check_turns(turns)
                if SUSPECT.search(raw):
                    problems += check_text(turns)
                summary.turns += sum(1 for t in turns if t[0] == "assistant")
                key = hash(raw)
                first = seen.get(key)
                if first is None:
                    seen[key] = index << _LINE_BITS | line
                else:
                    where = f"{self.files[first >> _LINE_BITS].path}:{first & ((1 << _LINE_BITS) - 1)}"
                    overlap = split == "val" and (first >> _LINE_BITS) < train_files
                    problems.append(("DS041", f"same row as {where}") if overlap else
                                    ("DS040", f"same row as {where}"))
            lost = False
            for code, detail in problems:
                report(summary, line, code, detail)
                lost = lost or rules[code].ms_swift in ("drop", "crash")
            if counter is not None:
                counter.add(summary, line, turns if not lost and value is not None else None)
            summary.rows_lost += lost
        if counter is not None:
            counter.flush()
        if summary.rows == 0:
            report(summary, 0, "DS001", "no rows")


def check_files(paths: Sequence[Path], *, fmt: str | None = None, val_paths: Sequence[Path] = (),
                model_dir: Path | None = None, template: str | None = None, max_length: int | None = None,
                system: str | None = None, strict: bool = False, progress: Progress | None = None) -> CheckReport:
    """Check training files (and validation files for overlap); with ``model_dir`` also count tokens.

    A path that does not exist or is a directory raises UsageError (exit 2) before anything is read; an empty
    file is finding DS001. ``progress(path, bytes_done, bytes_total)`` is called while streaming.
    """
    paths, val_paths = [Path(p) for p in paths], [Path(p) for p in val_paths]
    if fmt is not None:
        spec.schema(fmt)  # UsageError for an unknown name
    _validate_paths([*paths, *val_paths])
    counter = None
    if model_dir is not None:
        from swiftctl.data.tokens import TokenCounter

        counter = TokenCounter(Path(model_dir), template=template, system=system, max_length=max_length)
    checker = _Checker(fmt, strict, counter, progress)
    if counter is not None:
        counter.report = checker._report
    for index, path in enumerate([*paths, *val_paths]):
        checker.check_file(path, "train" if index < len(paths) else "val", index, len(paths))
    files = checker.files
    summary = Summary(rows=sum(f.rows for f in files), turns=sum(f.turns for f in files),
                      rows_lost=sum(f.rows_lost for f in files), files=files,
                      tokens=counter.stats() if counter is not None else None)
    order = {f.path: i for i, f in enumerate(files)}
    problems = sorted(checker.problems, key=lambda p: (order[p.path], p.line))
    return CheckReport(problems, summary, strict)
