"""Preference and RL data checks (``data check --stage dpo|kto|grpo|...``): rule codes DS100-DS110 in rules.json.

Run after the SFT checks of :mod:`swiftctl.data.check` on the same files and merged into its report. What ms-swift
4.6 does with each shape (swift/dataset/preprocessor/core.py, rlhf_trainers/): a null ``rejected_response`` or one
equal to the last assistant turn raises in ``_check_rejected_response`` and the row is dropped; a GRPO prompt's
final assistant turn is removed before generation (``remove_response``); reward functions read extra columns
(``solution`` for accuracy/math/cosine) as keyword arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from swiftctl.data import spec
from swiftctl.data.formats import to_turns
from swiftctl.data.reader import iter_rows
from swiftctl.data.report import MAX_LISTED_PER_CODE, CheckReport, FileSummary, make_problem

PAIR_STAGES = ("dpo", "orpo", "simpo", "cpo")
STAGES = ("sft", *PAIR_STAGES, "kto", "grpo")
# Columns ms-swift's built-in rewards read (swift/rewards/orm.py): accuracy/math/cosine compare with `solution`.
REWARD_COLUMNS = {"accuracy": "solution", "math": "solution", "cosine": "solution"}
# SFT findings that are the expected shape of a GRPO prompt (no assistant turn / ends with the user).
# SFT findings a GRPO prompt file triggers by design (no assistant answer), or that DS110 (no user turn) already says
_GRPO_EXPECTED = {"DS023", "DS026", "DS027"}
SCORE_RANGE = (0.0, 10.0)


def _shape(row: dict) -> str:
    if "rejected_response" in row or "rejected_messages" in row:
        return "preference pairs (rejected_response/rejected_messages)"
    if "label" in row:
        return "KTO rows (label)"
    return "SFT conversations"


_NEEDS = {"sft": "SFT conversations", "kto": "KTO rows (label)", "grpo": "prompts (no final assistant answer)",
          **{s: "preference pairs (rejected_response/rejected_messages)" for s in PAIR_STAGES}}


def _text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[-1], dict):  # rejected_messages: its last answer
        content = value[-1].get("content", value[-1].get("value"))
        return content if isinstance(content, str) else None
    return None


def _row_problems(row: dict, turns, stage: str, reward_columns: Sequence[str],
                  score_range: tuple[float, float]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    chosen = next((t[1] for t in reversed(turns) if t[0] == "assistant"), None)
    if stage in PAIR_STAGES:
        key = "rejected_response" if "rejected_response" in row else "rejected_messages"
        rejected = row.get(key)
        if rejected is None:
            out.append(("DS100", f"no {key}" if key not in row else f"{key} is null"))
        elif (text := _text(rejected)) is None or not text.strip():
            out.append(("DS101", f"{key} is empty"))
        elif chosen is not None and text == chosen:
            out.append(("DS102", f"{key} equals the chosen answer {text[:40]!r}"))
    elif stage == "kto":
        if "label" not in row:
            out.append(("DS104", "no label"))
        elif not isinstance(row["label"], bool):
            out.append(("DS103", f"label is {row['label']!r}, not true/false"))
    elif stage == "grpo":
        if not any(t[0] == "user" for t in turns):
            out.append(("DS110", "no user turn"))
        elif turns and turns[-1][0] == "assistant":
            out.append(("DS105", "ends with an assistant turn"))
        missing = [c for c in reward_columns if c not in row]
        if missing:
            out.append(("DS106", f"no {', '.join(repr(c) for c in missing)} column"))
    if "score" in row:
        score = row["score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            out.append(("DS107", f"score is {score!r}"))
        elif not score_range[0] <= score <= score_range[1]:
            out.append(("DS108", f"score {score} outside {score_range[0]:g}..{score_range[1]:g}"))
    return out


def reward_columns(reward_funcs: Sequence[str], reference_column: str | None = None) -> list[str]:
    """Dataset columns the configured reward functions read."""
    cols = [REWARD_COLUMNS[f] for f in reward_funcs if f in REWARD_COLUMNS]
    if reference_column and "swiftctl_persona" in reward_funcs:
        cols.append(reference_column)
    return list(dict.fromkeys(cols))


def check_stage(report: CheckReport, paths: Sequence[Path], stage: str, *, reward_funcs: Sequence[str] = (),
                reference_column: str | None = None, score_range: tuple[float, float] = SCORE_RANGE) -> CheckReport:
    """Add the stage's findings for the training ``paths`` to ``report`` (in place) and return it."""
    if stage == "grpo":
        _drop_expected(report)
    columns = reward_columns(reward_funcs, reference_column)
    for path in paths:
        summary = next((f for f in report.summary.files if f.path == str(path)), None)
        if summary is None:
            continue
        found: list[tuple[int, str, str]] = []
        shapes: dict[str, int] = {}
        for line, _raw, value, _problems in iter_rows(Path(path)):
            if not isinstance(value, dict):
                continue  # unparsable or not an object: reported by the SFT checks
            shapes.setdefault(_shape(value), line)
            _fmt, turns, _more = to_turns(value, None)
            found += [(line, code, detail) for code, detail in _row_problems(value, turns, stage, columns, score_range)]
        mismatch = _mismatch(stage, shapes)
        if mismatch is not None:
            found = [f for f in found if f[1] not in ("DS100", "DS104")] + [mismatch]
        for line, code, detail in sorted(found):
            _report(report, summary, line, code, detail)
    report.problems.sort(key=lambda p: ([f.path for f in report.summary.files].index(p.path), p.line))
    return report


def _mismatch(stage: str, shapes: dict[str, int]) -> tuple[int, str, str] | None:
    need = _NEEDS[stage]
    if not shapes or need in shapes or stage == "grpo":
        return None
    shape, line = next(iter(shapes.items()))
    how = {"sft": "set the job's stage to match the data (stage = \"dpo\")",
           "kto": "add \"label\": true/false to each row"}.get(
        stage, "swiftctl data convert IN OUT --to dpo --rejected REJECTED.jsonl (or --from-eval EVAL.json --baseline)")
    return line, "DS109", f"found {shape}; stage {stage!r} needs {need}: {how}"


def _report(report: CheckReport, summary: FileSummary, line: int, code: str, detail: str) -> None:
    counts = summary.problem_counts
    counts[code] = counts.get(code, 0) + 1
    if counts[code] <= MAX_LISTED_PER_CODE:
        report.problems.append(make_problem(summary.path, line, code, detail, strict=report.strict))
    if spec.rules()[code].ms_swift in ("drop", "crash") and code != "DS109":
        summary.rows_lost += 1
        report.summary.rows_lost += 1


def _drop_expected(report: CheckReport) -> None:
    """A GRPO prompt has no assistant answer by design: drop the SFT findings that say so."""
    report.problems[:] = [p for p in report.problems if p.code not in _GRPO_EXPECTED]
    for f in report.summary.files:
        lost = sum(f.problem_counts.pop(code, 0) for code in _GRPO_EXPECTED)
        f.rows_lost = max(0, f.rows_lost - lost)
    report.summary.rows_lost = sum(f.rows_lost for f in report.summary.files)
