"""`swiftctl data check`: stream dataset files and report every problem ms-swift would hit, with file:line.

Structural checks never import transformers (only orjson); token checks load the model's tokenizer.json with the
``tokenizers`` library and render rows with the job's chat template (see ``swiftctl.data.tokens``).
Memory: constant per row; duplicate detection keeps one 64-bit hash and one int per distinct row.
Speed: lines are read in 1 MiB chunks; a clean messages/ShareGPT row takes the fast path (``fastpath``: one
``orjson.loads``, one pass over its turns, a few byte searches, one xxh3 hash), 32 lines at a time through C-level
maps (``_group``); any other row (or any row when counting tokens) goes through the full rules in ``_Checker._row``,
which report exactly what they always did. ``jobs`` > 1 splits big JSON Lines files over processes (``parallel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson
from xxhash import xxh3_64_intdigest as digest

from swiftctl.data import filetypes, spec
from swiftctl.data.fastpath import FAST
from swiftctl.data.formats import to_turns
from swiftctl.data.preprocess import plan, to_messages
from swiftctl.data.reader import Many, Progress, iter_lines, parse_row
from swiftctl.data.report import MAX_LISTED_PER_CODE, CheckReport, FileSummary, Problem, RowResult, Summary, make_problem
from swiftctl.data.rules import check_text, check_turns, suspect
from swiftctl.data.tokens import template_problem
from swiftctl.errors import ErrorGroup, UsageError

_LINE_BITS = 40
_LINE_MASK = (1 << _LINE_BITS) - 1
_GROUP = 32  # clean lines checked at once (``_group``)
_MEDIA = frozenset({"images", "image", "videos", "video", "audios", "audio"})  # ms-swift's media columns (preprocess.py)


def _escape_free(data: bytes) -> bool:
    """No backslash and no DEL byte (two memchr): no text of the row(s) can hold a control character, so with no
    ``{`` in any text (``fastpath``) the text rules (``rules.check_text``) cannot find anything."""
    return data.find(b"\\") < 0 and data.find(b"\x7f") < 0


def _validate_paths(paths: Sequence[Path]) -> None:
    errors = []
    for path in paths:
        if not path.exists():
            errors.append(UsageError("no such file", location=str(path), hint="check the path"))
        elif path.is_dir():
            errors.append(UsageError("is a directory, not a jsonl file", location=str(path),
                                     hint=f"pass the files inside it, e.g. {path}/*.jsonl"))
        elif not path.is_file():  # a FIFO would block, /dev/zero never ends
            errors.append(UsageError("is not a regular file (a FIFO, device or socket), not a jsonl file",
                                     location=str(path), hint="save the data to a file and pass that"))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorGroup(f"{len(errors)} dataset paths cannot be read", errors, exit_code=2)


class _Checker:
    def __init__(self, fmt: str | None, strict: bool, counter, progress: Progress | None, per_row: bool = False,
                 jobs: int = 1) -> None:
        self.fmt, self.strict, self.counter, self.progress, self.jobs = fmt, strict, counter, progress, jobs
        self.many = False  # checking the objects of one line that holds several
        self.rows: list[RowResult] | None = [] if per_row else None
        self.problems: list[Problem] = []
        self.seen: dict[int, int] = {}  # xxh3 64-bit hash of the stripped raw row -> file index << 40 | line
        self.index = self.train_files = self.slow_lines = 0  # file being checked; training files; its slow lines
        self.plan = None  # how ms-swift reads the file being checked (preprocess.plan)
        self.keys: set[str] = set()  # the columns of the file being checked
        self.files: list[FileSummary] = []

    def _report(self, summary: FileSummary, line: int, code: str, detail: str) -> None:
        counts = summary.problem_counts
        counts[code] = counts.get(code, 0) + 1
        if counts[code] <= MAX_LISTED_PER_CODE:
            self.problems.append(make_problem(summary.path, line, code, detail, strict=self.strict))

    def _row(self, summary: FileSummary, line: int, raw: bytes, value, problems: list, overlap: bool) -> None:
        """The full rules on one row (``raw`` stripped, ``value`` None when it did not parse)."""
        report, counter = self._report, self.counter
        if not raw and problems and problems[-1][0] == "DS005":
            for code, detail in problems:
                report(summary, line, code, detail)
            return
        if isinstance(value, Many):  # several objects on one line: pyarrow reads each as a row
            self.many = True
            try:
                for one in value:
                    self._row(summary, line, raw, one, list(problems), overlap)
            finally:
                self.many = False
            return
        summary.rows += 1
        turns = []
        messages, row_system, drop = [], None, None
        if value is not None:
            if isinstance(value, dict):
                self.keys.update(value)
            if self.plan is None:
                self.plan = plan(value if isinstance(value, dict) else ())
            messages, row_system, drop = to_messages(value, self.plan)
            tools = value.get("tools") if isinstance(value, dict) else None
            drop = drop or template_problem(messages, tools)
            fmt, turns, more = to_turns(value, self.fmt)
            if fmt is not None and summary.format is None and not more:
                summary.format = fmt
            elif fmt is not None and fmt != summary.format and self.fmt is None and summary.format:
                more.append(("DS011", f"a {fmt} row in a {summary.format} file"))
            problems += more
            if turns or not more:
                problems += check_turns(turns)
            if suspect(raw):
                problems += check_text(turns)
            summary.turns += sum(1 for t in turns if t[0] == "assistant")
            same = self._duplicate(digest(raw), line, overlap, bool(problems) or drop is not None)
            if same is not None:
                problems.append(same)
            if drop is not None and drop[0] not in {code for code, _ in problems}:
                problems.append(drop)
        else:
            drop = problems[0] if problems else ("DS004", "unparsed")
        for code, detail in problems:
            report(summary, line, code, detail)
        lost = drop is not None
        if counter is not None:
            counter.add(summary, line, messages if not lost else None, row_system,
                        tools=value.get("tools") if isinstance(value, dict) else None)
        elif self.rows is not None:
            self.rows.append(RowResult(summary.path, line, lost))
        summary.rows_lost += lost

    def _duplicate(self, key: int, line: int, overlap: bool, crowded: bool) -> tuple | None:
        """DS040/DS041 when the row (hash ``key``) was seen before, in this file or an earlier one."""
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = self.index << _LINE_BITS | line
            return None
        return self.same_row(first, overlap)

    def same_row(self, first: int, overlap: bool) -> tuple[str, str]:
        where = f"{self.files[first >> _LINE_BITS].path}:{first & _LINE_MASK}"
        train = overlap and (first >> _LINE_BITS) < self.train_files
        return ("DS041", f"same row as {where}") if train else ("DS040", f"same row as {where}")

    def _slow(self, summary: FileSummary, packed: int, raw: bytes, overlap: bool) -> None:
        self.slow_lines += 1
        line = packed & _LINE_MASK
        self._row(summary, line, *parse_row(line, raw), overlap)

    def check_file(self, path: Path, split: str, index: int, train_files: int) -> None:
        """One file, with the preprocessor ms-swift picks from its columns; re-checked if a later row changes it."""
        self.keys = set()
        self._check_file(path, split, index, train_files, None)
        final = plan(self.keys) if self.keys else self.plan
        if final != self.plan:  # a later row brought a column that changes ms-swift's preprocessor
            self._forget(path, index)
            self._check_file(path, split, index, train_files, final)
        media = sorted(self.keys & _MEDIA)
        if media:  # read by ms-swift's template while encoding: not predicted (docs/fidelity.md)
            self._report(self.files[-1], 0, "DS033", f"{', '.join(media)} column: media are loaded by ms-swift while "
                         "encoding (URLs are downloaded); their rows are not predicted")
        self._file_fate(self.files[-1])

    def _forget(self, path: Path, index: int) -> None:
        self.files.pop()
        self.problems = [p for p in self.problems if p.path != str(path)]
        if self.rows is not None:
            self.rows[:] = [r for r in self.rows if r.path != str(path)]
        self.seen = {k: v for k, v in self.seen.items() if v >> _LINE_BITS != index}

    def _file_fate(self, summary: FileSummary) -> None:
        """A problem that makes pyarrow/HF reject the file loses every row of it (the whole job stops)."""
        rules = spec.rules()
        summary.problem_counts = dict(sorted(summary.problem_counts.items()))  # the same whatever --jobs
        if any(n and rules[code].ms_swift == "crash" for code, n in summary.problem_counts.items()):
            summary.rows_lost = summary.rows
            if self.rows is not None:
                for r in self.rows:
                    if r.path == summary.path:
                        r.lost = True

    def _check_file(self, path: Path, split: str, index: int, train_files: int, forced) -> None:
        summary = FileSummary(str(path), split, None, path.stat().st_size, 0, 0, 0)
        self.files.append(summary)
        self.index, self.train_files, self.slow_lines, overlap = index, train_files, 0, split == "val"
        self.plan = forced
        try:
            file_kind = filetypes.kind(path)
            with open(path, "rb") as handle:
                if handle.read(2) == filetypes.GZIP:
                    self._report(summary, 0, "DS007", f"gzip-compressed data in {path.name}")
            if file_kind != filetypes.JSONL:
                records = list(filetypes.iter_records(path, file_kind))
                if self.plan is None:
                    self.plan = plan({k for _, _, v, _ in records if isinstance(v, dict) for k in v})
                for line, raw, value, problems in records:
                    self._row(summary, line, raw, value, problems, overlap)
                self._end_file(summary)
                return
        except filetypes.FileRejected as exc:
            self._report(summary, exc.line, exc.code, exc.detail)
            return
        if self.jobs > 1 and self.counter is None and not summary.problem_counts:
            from swiftctl.data.parallel import check_in_ranges

            if check_in_ranges(self, summary, path, overlap):
                return self._end_file(summary)
        self._stream(summary, iter_lines(path, self.progress), overlap)
        self._end_file(summary)

    def _stream(self, summary: FileSummary, batches, overlap: bool) -> int:
        """The rows of ``batches`` (``iter_lines``): the fast path once the file's format is known, else the rules.
        Returns the number of lines."""
        slow = self._slow
        fast = self._fast(summary)  # the fast path of the file's format, once a row has set it (never with tokens)
        packed = self.index << _LINE_BITS  # file index << 40 | line: the value duplicate detection keeps
        turns = 0
        for chunk, lines in batches:
            rows = enumerate(lines, packed + 1)
            fresh, packed = fast is not None, packed + len(lines)
            if fast is None:
                for line, raw in rows:
                    if self.plan is None:
                        self._first_plan(raw)
                    slow(summary, line, raw, overlap)
                    fast = self._fast(summary)
                    if fast is not None:
                        break
                else:
                    continue
            clean = (_escape_free(chunk) and _escape_free(lines[0])) or not (suspect(chunk) or suspect(lines[0]))
            if clean and fresh:
                start = packed + 1 - len(lines)
                for i in range(0, len(lines), _GROUP):
                    turns += self._group(summary, lines[i:i + _GROUP], start + i, fast, overlap)
            else:
                turns += self._rows(summary, rows, fast, clean, overlap)
        summary.rows += (packed & _LINE_MASK) - self.slow_lines  # fast rows are never blank
        summary.turns += turns
        return packed & _LINE_MASK

    def _rows(self, summary: FileSummary, rows, fast, clean: bool, overlap: bool) -> int:
        """``(line, raw)`` one by one: the fast path, else the full rules. Returns the fast rows' assistant turns."""
        seen_first, loads, slow, keys = self.seen.setdefault, orjson.loads, self._slow, self.keys
        turns = 0
        for line, raw in rows:
            raw = raw.strip()
            try:
                value = loads(raw)
                quick = fast(value)
            except orjson.JSONDecodeError:
                quick = -1
            if quick >= 0 and (clean or _escape_free(raw) or not suspect(raw)) and (
                    seen_first(digest(raw), line) is line):  # a new row: stored, not a duplicate
                turns += quick
                if not value.keys() <= keys:  # ms-swift's columns: every row's keys
                    keys.update(value)
                continue
            slow(summary, line, raw, overlap)
        return turns

    def _group(self, summary: FileSummary, lines: list[bytes], start: int, fast, overlap: bool) -> int:
        """A few clean lines at once (C-level maps; ``_rows`` decides the same, row by row, at more cost)."""
        try:
            values = list(map(orjson.loads, lines))  # orjson skips the whitespace that strip() removes
        except orjson.JSONDecodeError:
            return self._rows(summary, enumerate(lines, start), fast, True, overlap)
        quicks, lines_at = list(map(fast, values)), range(start, start + len(lines))
        if min(quicks) >= 0:  # all on the fast path: stored (one dict access per row); the repeated ones go slow
            mine = list(lines_at)
            firsts = list(map(self.seen.setdefault, map(digest, map(bytes.strip, lines)), mine))
            self.keys.update(*values)
            if firsts == mine:
                return sum(quicks)
            turns = 0
            for line, raw, quick, first in zip(mine, lines, quicks, firsts, strict=True):
                if first == line:
                    turns += quick
                else:
                    self._slow(summary, line, raw, overlap)
            return turns
        seen_first, turns = self.seen.setdefault, 0
        for line, raw, value, quick in zip(lines_at, lines, values, quicks, strict=True):
            if quick >= 0 and seen_first(digest(raw.strip()), line) is line:
                turns += quick
                self.keys.update(value)
                continue
            self._slow(summary, line, raw, overlap)
        return turns

    def _fast(self, summary: FileSummary):
        if summary.format is None or self.counter is not None or self.rows is not None or not self._fast_ok(
                summary.format):
            return None
        return FAST.get(summary.format)

    def _fast_ok(self, fmt: str) -> bool:
        """The fast path reads the column ms-swift reads: ``messages``, or ``conversation`` renamed to it."""
        if self.plan.kind != "messages":
            return False
        return fmt == "messages" or ("conversation", "messages") in self.plan.renames

    def _first_plan(self, raw: bytes) -> None:
        """A provisional plan from the first row that parses (check_file re-checks if the file's columns differ)."""
        _raw, value, _problems = parse_row(2, raw)
        if isinstance(value, Many):
            value = value[0]
        if isinstance(value, dict):
            self.plan = plan(value)

    def _end_file(self, summary: FileSummary) -> None:
        if self.counter is not None:
            self.counter.flush()
        if self.plan is None:
            self.plan = plan(())
        if summary.rows == 0:
            self._report(summary, 0, "DS001", "no rows")


def check_files(paths: Sequence[Path], *, fmt: str | None = None, val_paths: Sequence[Path] = (),
                model_dir: Path | None = None, template: str | None = None, max_length: int | None = None,
                system: str | None = None, strict: bool = False, progress: Progress | None = None,
                per_row: bool = False, jobs: int = 1) -> CheckReport:
    """Check training files (and validation files for overlap); with ``model_dir`` also count tokens.

    A path that does not exist or is a directory raises UsageError (exit 2) before anything is read; an empty
    file is finding DS001. ``progress(path, bytes_done, bytes_total)`` is called while streaming. ``jobs`` > 1
    checks big JSON Lines files in byte ranges in that many processes (``parallel``; the report is the same).
    """
    paths, val_paths = [Path(p) for p in paths], [Path(p) for p in val_paths]
    if fmt is not None:
        spec.schema(fmt)  # UsageError for an unknown name
    _validate_paths([*paths, *val_paths])
    counter = None
    if model_dir is not None:
        from swiftctl.data.tokens import TokenCounter

        counter = TokenCounter(Path(model_dir), template=template, system=system, max_length=max_length)
    checker = _Checker(fmt, strict, counter, progress, per_row, jobs)
    if counter is not None:
        counter.report, counter.rows = checker._report, checker.rows
    try:
        for index, path in enumerate([*paths, *val_paths]):
            checker.check_file(path, "train" if index < len(paths) else "val", index, len(paths))
    finally:  # stops ms-swift's encode workers, if any
        if counter is not None:
            counter.close()
    files = checker.files
    train = files[:len(paths)]
    rules = spec.rules()
    if train and all(f.rows and f.rows_lost == f.rows for f in train) and not any(
            n and rules[c].ms_swift == "crash" for f in train for c, n in f.problem_counts.items()):
        checker._report(train[0], 0, "DS051", f"all {sum(f.rows for f in train)} training rows are lost")
    summary = Summary(rows=sum(f.rows for f in files), turns=sum(f.turns for f in files),
                      rows_lost=sum(f.rows_lost for f in files), files=files,
                      tokens=counter.stats() if counter is not None else None)
    order = {f.path: i for i, f in enumerate(files)}
    problems = sorted(checker.problems, key=lambda p: (order[p.path], p.line))
    rows = None if checker.rows is None else sorted(checker.rows, key=lambda r: (order[r.path], r.line))
    return CheckReport(problems, summary, strict, rows)
