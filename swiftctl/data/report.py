"""What `swiftctl data check` returns: findings with file:line, rule code and fix, and the summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from swiftctl.data import spec

MAX_LISTED_PER_CODE = 200  # per file; the rest are counted in FileSummary.problem_counts


@dataclass
class Problem:
    path: str
    line: int  # 0: the file as a whole
    code: str
    severity: str  # "error" | "warning"
    message: str
    fix: str

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class TokenStats:
    template: str
    system: str | None  # the system prompt rows without their own get
    max_length: int | None
    rows: int  # rows counted
    min: int
    median: int
    p95: int
    max: int
    histogram: list[tuple[int, int, int]]  # (from, to, rows) with from <= length < to
    trained_tokens: int
    masked_tokens: int
    trained_share: float
    over_max_length: int
    not_counted: int  # rows the template cannot encode (ms-swift deletes them) or structural errors
    counter: str = "swiftctl-renderer"  # what counted: swiftctl's renderer, or "ms-swift-worker" (ms-swift's own encode)


@dataclass
class FileSummary:
    path: str
    split: str  # "train" | "val"
    format: str | None
    bytes: int
    rows: int  # non-blank lines
    turns: int  # assistant turns
    rows_lost: int  # rows ms-swift would drop (or fail to load)
    problem_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    rows: int
    turns: int
    rows_lost: int
    files: list[FileSummary]
    tokens: TokenStats | None = None


@dataclass
class RowResult:
    """What ms-swift does with one row (``data check --rows``): lost or kept, and its tokens when counted."""

    path: str
    line: int
    lost: bool
    tokens: int | None = None  # input_ids length as ms-swift encodes it (None: not counted)
    trained: int | None = None  # labels that are not -100


@dataclass
class CheckReport:
    problems: list[Problem]
    summary: Summary
    strict: bool = False
    rows: list[RowResult] | None = None  # per row, only when asked for (per_row=True / --rows)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not any(n and (self.strict or spec.rules()[code].severity == "error")
                       for f in self.summary.files for code, n in f.problem_counts.items())

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def make_problem(path: str, line: int, code: str, detail: str, *, strict: bool) -> Problem:
    rule = spec.rules()[code]
    severity = "error" if strict else rule.severity
    return Problem(path, line, code, severity, f"{rule.name}: {detail}", rule.fix)
