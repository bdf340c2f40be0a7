"""Reading ms-swift's ``logging.jsonl`` incrementally, while the run is still writing it.

One JSON object per line: train steps (``loss``), evaluations (``eval_loss``), the trainer's end-of-training line
(``train_runtime``) and, last, a summary line (``last_model_checkpoint``, ``best_model_checkpoint``, ``log_history``).
Values are sometimes strings (``"global_step/max_steps": "2/4"``, ``"elapsed_time": "1m 3s"``). A last line
without its newline is a write in progress: it is left for the next read, never reported.
A non-JSON line in the middle is skipped and recorded (``file:line``) so the report can warn about it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


@dataclass
class TrainPoint:
    step: int
    epoch: float | None
    loss: float | None
    grad_norm: float | None = None
    learning_rate: float | None = None
    token_acc: float | None = None
    speed_s_it: float | None = None
    memory_gib: float | None = None
    elapsed_s: float | None = None


@dataclass
class EvalPoint:
    step: int
    epoch: float | None
    loss: float | None
    token_acc: float | None = None


@dataclass
class SkippedLine:
    line: int
    reason: str


@dataclass
class RunLog:
    """Everything read so far from one logging.jsonl."""

    path: Path
    train: list[TrainPoint] = field(default_factory=list)
    evals: list[EvalPoint] = field(default_factory=list)
    max_steps: int | None = None
    remaining_s: float | None = None
    end: dict[str, Any] = field(default_factory=dict)      # the train_runtime line: the trainer finished
    summary: dict[str, Any] = field(default_factory=dict)  # the last line, without log_history
    skipped: list[SkippedLine] = field(default_factory=list)
    lines: int = 0
    partial_tail: bool = False  # a last line is being written
    last_step: int = 0  # highest step seen (kept as lines arrive: recomputing it per line is quadratic)

    @property
    def finished(self) -> bool:
        return bool(self.end or self.summary)


def number(value: Any) -> float | None:
    """A float from a number or a numeric string ("0.43", "nan", "12.3GiB"); None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().removesuffix("GiB").removesuffix("s").strip()
        try:
            return float(text)
        except ValueError:
            return None
    return None


def seconds(value: Any) -> float | None:
    """ "1h 2m 3s" / "45s" / 12.5 → seconds."""
    if isinstance(value, str):
        parts = _DURATION.findall(value)
        if parts:
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    return number(value)


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


class LogReader:
    """Reads the new complete lines of a logging.jsonl on each ``poll()``; keeps its state between polls."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.log = RunLog(self.path)
        self._offset = 0

    def poll(self) -> int:
        """Parse lines appended since the last poll; returns how many complete lines were read."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        if size < self._offset:  # rewritten from scratch (a restarted run): start over
            self.log, self._offset = RunLog(self.path), 0
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError as exc:  # a directory, unreadable...
            from swiftctl.errors import SwiftctlError

            raise SwiftctlError(f"cannot read {self.path.name}: {exc.strerror}", location=str(self.path),
                                hint="it should be the file ms-swift writes (one JSON object per line)") from None
        end = data.rfind(b"\n") + 1
        complete, tail = data[:end], data[end:]
        self._offset += end
        self.log.partial_tail = bool(tail.strip())
        count = 0
        for raw in complete.split(b"\n")[:-1]:
            self.log.lines += 1
            count += 1
            if raw.strip():
                self._add(raw, self.log.lines)
        return count

    def _add(self, raw: bytes, line: int) -> None:
        try:
            obj = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self.log.skipped.append(SkippedLine(line, f"not JSON ({exc.__class__.__name__}: {str(exc)[:60]})"))
            return
        if not isinstance(obj, dict):
            self.log.skipped.append(SkippedLine(line, f"not a JSON object ({type(obj).__name__})"))
            return
        log = self.log
        step, max_steps = _steps(obj, log.last_step)
        if max_steps:
            log.max_steps = max_steps
        if "remaining_time" in obj:
            log.remaining_s = seconds(obj["remaining_time"])
        epoch = number(obj.get("epoch"))
        if "loss" in obj or "eval_loss" in obj:
            log.last_step = max(log.last_step, step)
        if "last_model_checkpoint" in obj or "log_history" in obj:
            log.summary = {k: v for k, v in obj.items() if k != "log_history"}
        elif "train_runtime" in obj:
            log.end = obj
        elif "eval_loss" in obj:
            log.evals.append(EvalPoint(step, epoch, number(obj["eval_loss"]), number(obj.get("eval_token_acc"))))
        elif "loss" in obj:
            log.train.append(TrainPoint(
                step, epoch, number(obj["loss"]), number(obj.get("grad_norm")), number(obj.get("learning_rate")),
                number(obj.get("token_acc")), number(obj.get("train_speed(s/it)")), number(obj.get("memory(GiB)")),
                seconds(obj.get("elapsed_time"))))


def _steps(obj: dict[str, Any], previous: int) -> tuple[int, int | None]:
    pair = obj.get("global_step/max_steps")
    if isinstance(pair, str) and "/" in pair:
        head, _, tail = pair.partition("/")
        if head.strip().isdigit():
            return int(head), int(tail) if tail.strip().isdigit() else None
    for key in ("step", "global_step"):
        value = number(obj.get(key))
        if value is not None:
            return int(value), None
    return previous + 1, None


def read_log(path: Path) -> RunLog:
    """Read a whole logging.jsonl once (a partial last line is left out)."""
    reader = LogReader(path)
    reader.poll()
    return reader.log
