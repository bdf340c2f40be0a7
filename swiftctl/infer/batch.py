"""Batch inference over a validation file, results written atomically (ms-swift's result_path appends)."""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftctl.errors import SwiftctlError
from swiftctl.infer.plan import Settings, infer_plan
from swiftctl.infer.target import Target
from swiftctl.secrets import redact_argv


@dataclass
class BatchResult:
    out: Path | None
    rows: list[dict[str, Any]]  # ms-swift's rows: response, labels, messages (system + user + assistant)
    command: str  # shlex-joined, secrets redacted
    notes: list[str] = field(default_factory=list)
    backend: str = "vllm"
    seconds: float = 0.0


def count_rows(val: Path) -> int:
    """Non-blank JSON lines in the val file; an unreadable/empty file is a clear error before any engine starts."""
    from swiftctl.data.formats import iter_conversations

    if not val.is_file():
        raise SwiftctlError(f"{val} does not exist", hint="pass a JSONL validation file with --val", location=str(val))
    n = sum(1 for _ in iter_conversations(val))
    if n == 0:
        raise SwiftctlError(f"{val} has no rows", hint="pass a validation file with at least one conversation",
                            location=str(val))
    return n


def run_batch(target: Target, settings: Settings, val: Path, *, out: Path | None = None,
              on_line: Callable[[str], None] | None = None, echo: bool = False, log_path: Path | None = None,
              base_env: Mapping[str, str] | None = None) -> BatchResult:
    """Run `swift infer` over `val` into a fresh temp result file, then move it onto `out` (atomic, never appended)."""
    import time

    from swiftctl.launch.process import run

    val = Path(val).resolve()
    expected = count_rows(val)
    parent = (out.parent if out is not None else Path(tempfile.gettempdir()))
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".swiftctl-infer-", dir=parent) as tmp:
        result_path = Path(tmp) / "result.jsonl"  # fresh: ms-swift appends to an existing file
        plan = infer_plan(target, settings, val=val, result_path=result_path, base_env=base_env)
        command = shlex.join(redact_argv(plan.argv))
        tail: list[str] = []

        def keep(line: str) -> None:
            tail.append(line)
            del tail[:-40]
            if on_line is not None:
                on_line(line)

        started = time.monotonic()
        code = run(plan.argv, env=plan.env, echo=echo, on_line=keep, log_path=log_path)
        seconds = time.monotonic() - started
        if code != 0:
            raise SwiftctlError(f"swift infer failed (exit {code})\n" + _explain(tail),
                                hint=f"run it by hand to see everything: {command}")
        if not result_path.is_file():
            raise SwiftctlError("swift infer wrote no results", hint=f"run it by hand: {command}")
        text = result_path.read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        if len(rows) != expected:
            plan.notes.append(f"{expected} rows in {val.name}, {len(rows)} answered (ms-swift drops malformed or "
                              "over-length rows)")
        if out is not None:
            result_path.replace(out)  # same directory: an atomic rename over any old file
    return BatchResult(out=out, rows=rows, command=command, notes=plan.notes, backend=settings.backend,
                       seconds=seconds)


_EXC_LINE = re.compile(r"^\s*([\w.]+(Error|Exception|Exit)): (.+)$")
_KNOWN = (("max_lora_rank", "the LoRA rank is above vLLM's max_lora_rank: pass --merge, or train with lora.rank <= 16"),
          ("does not recognize this architecture", "this model architecture is not supported by the installed stack"),
          ("not supported", "vLLM cannot run this model: try --backend transformers"),
          ("out of memory", "not enough memory for the model + KV cache: lower --max-model-len"))


def _explain(tail: list[str]) -> str:
    """One line saying why: the child's last exception line, with the plain cause for the errors people hit most."""
    exc = next((m.group(1) + ": " + m.group(3) for ln in reversed(tail) if (m := _EXC_LINE.match(ln))), None)
    text = "\n".join(tail).lower()
    known = next((why for needle, why in _KNOWN if needle in text), None)
    lines = [f"  cause: {known}"] if known else []
    last = exc or next((ln.strip() for ln in reversed(tail) if ln.strip()), "no output")
    return "\n".join([*lines, f"  last error: {last[:300]}"])
