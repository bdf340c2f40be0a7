"""`data check --jobs N`: one big JSON Lines file checked in byte ranges by worker processes, with the report of --jobs 1.

The file is cut into ranges at line starts (``ranges``); each worker (``check_range``) runs the checker's own row rules
(``_Checker._stream``) on its range, with line numbers relative to the range start. The parent merges the parts in
file order, adding each range's first line number. What needs the whole file stays with the parent:

- **The file's format and ms-swift's preprocessor.** The parent reads rows from the start until one sets the file's
  format (as --jobs 1 does, usually row 1; ``_prescan``); the later ranges start with that format and preprocessor.
  When range 0 does not settle them, the file is checked in-process. Workers return the columns they saw; when the
  union changes the preprocessor, the file is checked again with the final one (as --jobs 1 re-checks it).
- **Duplicates (DS040/DS041).** A worker keeps its range's first occurrences (hash -> line, in line order) and
  marks, in its list of findings, the place where the finding of a repeated row goes (a duplicate in the range, or a
  first occurrence that carries other findings or shares its line). The parent registers each part's first
  occurrences in the global table, then puts "same row as file:line" at the marks and for first occurrences that an
  earlier range or file already holds, ranked in line order so the 200 listed per code are the same.
- **Listing caps, BOM at byte 0, a file ms-swift rejects whole, no rows (DS001).** Workers count every finding and
  list their first 200 per code; the parent lists the first 200 of the file. Only range 0 reads line 1 as the first
  line. The whole-file verdicts (``_file_fate``, ``_end_file``) run in the parent after the merge.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from swiftctl.data.check import _LINE_BITS, _LINE_MASK, _Checker
from swiftctl.data.preprocess import Plan
from swiftctl.data.reader import iter_lines, parse_row
from swiftctl.data.report import MAX_LISTED_PER_CODE, FileSummary, RowResult, make_problem

RANGE_MIN = 8 << 20  # bytes: smaller files stay in-process; tests lower it to split small files
RANGES_PER_JOB = 4  # more ranges than workers: the last ones finish together


def ranges(path: Path, size: int, jobs: int) -> list[tuple[int, int]]:
    """``[start, end)`` byte ranges, each starting at a line start (one range: not worth splitting)."""
    count = min(jobs * RANGES_PER_JOB, size // max(RANGE_MIN, 1))
    bounds = [0]
    with open(path, "rb") as handle:
        for k in range(1, count):
            at = max(size * k // count, bounds[-1])
            handle.seek(at)
            while True:  # the next line start at or after ``at``
                block = handle.read(1 << 16)
                cut = block.find(b"\n")
                if cut >= 0 or not block:
                    at = at + cut + 1 if cut >= 0 else size
                    break
                at += len(block)
            if bounds[-1] < at < size:
                bounds.append(at)
    bounds.append(size)
    return list(pairwise(bounds))


@dataclass
class Part:
    """What a worker found in its range: lines relative to the range start."""

    lines: int
    rows: int
    turns: int
    rows_lost: int
    counts: dict[str, int]  # every finding, per code
    problems: list[tuple[int, str | None, Any]]  # (line, code, detail); code None: a duplicate's mark (hash, first)
    firsts: tuple[array, array]  # (row hash, line of its first occurrence in the range), in line order
    keys: set[str]
    results: list[tuple[int, bool]] | None  # --rows: (line, lost)


class _RangeChecker(_Checker):
    def __init__(self, fmt: str | None, per_row: bool, head: bool) -> None:
        super().__init__(fmt, False, None, None, per_row)
        self.head = head  # range 0: its line 1 is the file's line 1 (BOM)

    def _report(self, summary: FileSummary, line: int, code: str | None, detail: Any) -> None:
        if code is not None:
            counts = summary.problem_counts
            counts[code] = counts.get(code, 0) + 1
            if counts[code] > MAX_LISTED_PER_CODE:
                return
        self.problems.append((line, code, detail))

    def _duplicate(self, key: int, line: int, overlap: bool, crowded: bool) -> tuple | None:
        if key in self.seen:
            return None, (key, False)
        self.seen[key] = line
        return (None, (key, True)) if crowded or self.many else None

    def _slow(self, summary: FileSummary, packed: int, raw: bytes, overlap: bool) -> None:
        self.slow_lines += 1
        line = packed & _LINE_MASK
        self._row(summary, line, *parse_row(line if self.head else 0, raw), overlap)


def check_range(task: tuple) -> Part:
    """Worker: the rows of ``[start, end)`` of a JSON Lines file."""
    path, start, end, fmt, per_row, forced, file_format = task
    checker = _RangeChecker(fmt, per_row, start == 0)
    summary = FileSummary(str(path), "train", None if start == 0 else file_format, 0, 0, 0, 0)
    checker.files, checker.plan = [summary], forced
    lines = checker._stream(summary, iter_lines(Path(path), None, start, end), False)
    results = None if checker.rows is None else [(r.line, r.lost) for r in checker.rows]
    firsts = array("Q", checker.seen.keys()), array("Q", checker.seen.values())
    return Part(lines, summary.rows, summary.turns, summary.rows_lost, summary.problem_counts,
                checker.problems, firsts, checker.keys, results)


def _prescan(checker: _Checker, path: Path, limit: int) -> tuple[Plan, str] | None:
    """ms-swift's preprocessor and the file's format, as the first rows set them; None past ``limit`` bytes."""
    probe = _Checker(checker.fmt, False, None, None)
    summary = FileSummary(str(path), "train", None, 0, 0, 0, 0)
    probe.files, probe.plan, done = [summary], checker.plan, 0
    for _chunk, lines in iter_lines(path):
        for raw in lines:
            done += len(raw) + 1
            if done > limit:
                return None
            if probe.plan is None:
                probe._first_plan(raw)
            probe._slow(summary, probe.slow_lines + 1, raw, False)
            if summary.format is not None:
                return probe.plan, summary.format
    return None


def check_in_ranges(checker: _Checker, summary: FileSummary, path: Path, overlap: bool) -> bool:
    """Check ``path`` in byte ranges in ``checker.jobs`` processes; False (nothing done) when not worth splitting."""
    parts = ranges(path, summary.bytes, checker.jobs)
    first = _prescan(checker, path, parts[0][1]) if len(parts) > 1 else None
    if first is None:
        return False
    from swiftctl.launch.pool import process_map

    forced, file_format = first
    tasks = [(str(path), start, end, checker.fmt, checker.rows is not None, forced, file_format)
             for start, end in parts]
    listed: dict[str, int] = {}
    base = 0
    with process_map(check_range, tasks, min(checker.jobs, len(tasks)), preload=[__name__]) as results:
        for (_start, end), part in zip(parts, results, strict=True):
            _merge(checker, summary, part, base, listed, overlap)
            base += part.lines
            if checker.progress is not None:
                checker.progress(path, end, summary.bytes)
    summary.format, checker.plan = file_format, forced
    return True


def _merge(checker: _Checker, summary: FileSummary, part: Part, base: int, listed: dict[str, int],
           overlap: bool) -> None:
    seen, path, strict = checker.seen, summary.path, checker.strict
    off = checker.index << _LINE_BITS | base
    keys, lines = part.firsts
    mine = list(map(off.__add__, lines))
    got = list(map(seen.setdefault, keys, mine))  # first occurrences here that an earlier range or file holds:
    cross = [] if got == mine else [(m - off, k) for k, m, g in zip(keys, mine, got, strict=True) if g != m]
    events = []  # (line, index in part.problems or -1, first occurrence): duplicates, in line order
    marked = set()
    for i, (line, code, detail) in enumerate(part.problems):
        if code is None:
            key, is_first = detail
            if is_first:
                marked.add(key)
            if not is_first or seen[key] != off + line:
                events.append((line, i, seen[key]))
    events += [(line, -1, seen[key]) for line, key in cross if key not in marked]
    events.sort(key=lambda e: (e[0], e[1]))
    found: dict[int, tuple[str, str]] = {}  # mark index -> the listed duplicate finding
    counts, problems = summary.problem_counts, checker.problems
    for line, i, first_at in events:
        code, detail = checker.same_row(first_at, overlap)
        counts[code] = counts.get(code, 0) + 1
        listed[code] = listed.get(code, 0) + 1
        if listed[code] > MAX_LISTED_PER_CODE:
            continue
        if i >= 0:
            found[i] = code, detail
        else:  # alone on its line: its place among the findings does not matter (they are sorted by line)
            problems.append(make_problem(path, base + line, code, detail, strict=strict))
    for i, (line, code, detail) in enumerate(part.problems):
        if code is None:
            code, detail = found.get(i, (None, None))
            if code is not None:
                problems.append(make_problem(path, base + line, code, detail, strict=strict))
            continue
        listed[code] = listed.get(code, 0) + 1
        if listed[code] <= MAX_LISTED_PER_CODE:
            problems.append(make_problem(path, base + line, code, detail, strict=strict))
    for code, n in part.counts.items():
        counts[code] = counts.get(code, 0) + n
    summary.rows += part.rows
    summary.turns += part.turns
    summary.rows_lost += part.rows_lost
    checker.keys |= part.keys
    if part.results is not None and checker.rows is not None:
        checker.rows += [RowResult(path, base + line, lost) for line, lost in part.results]
