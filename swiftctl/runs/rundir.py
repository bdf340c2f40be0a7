"""Reading an ms-swift run directory: which run, which checkpoints, which arguments.

ms-swift writes ``OUTPUT_DIR/vN-YYYYmmdd-HHMMSS/`` per run, holding ``args.json`` (every resolved argument),
``logging.jsonl`` (one line per logging step; the last line is a summary with ``best_model_checkpoint``) and
``checkpoint-STEP/`` dirs (weights + ``trainer_state.json``; a checkpoint written while the job was killed may lack
either, so it is listed but not ``complete``). ``resolve_run`` accepts any of the three levels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from swiftctl.errors import SwiftctlError

MANIFEST_NAME = "swiftctl-manifest.json"
_VERSIONED = re.compile(r"^v(\d+)-(\d{8}-\d{6})$")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
_HINT = "pass the output_dir of `swiftctl train`, a vN-... run dir in it, or a checkpoint-N dir"
_FULL_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    kind: Literal["lora", "full", "unknown"]  # lora: adapter weights; full: model weights
    complete: bool  # weights and trainer_state.json both present

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class RunDir:
    path: Path  # the versioned run dir (vN-YYYYmmdd-HHMMSS/) or a plain dir holding args.json
    args: dict[str, Any]
    checkpoints: list[Checkpoint] = field(default_factory=list)  # every checkpoint-N dir, sorted by step
    requested: Checkpoint | None = None  # set when resolve_run was given a checkpoint dir
    best_name: str | None = None  # basename of best_model_checkpoint, from logging.jsonl / trainer_state.json

    @property
    def logging_path(self) -> Path:
        return self.path / "logging.jsonl"

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    @property
    def complete_checkpoints(self) -> list[Checkpoint]:
        return [c for c in self.checkpoints if c.complete]

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        done = self.complete_checkpoints
        return done[-1] if done else None

    @property
    def best_checkpoint(self) -> Checkpoint | None:
        """The best checkpoint ms-swift recorded (by eval metric); None when it recorded none or it is incomplete."""
        for ckpt in self.complete_checkpoints:
            if ckpt.name == self.best_name:
                return ckpt
        return None

    @property
    def base_model(self) -> str | None:
        return self.args.get("model")

    def checkpoint(self, which: Literal["auto", "best", "last"] = "auto") -> Checkpoint:
        """The checkpoint to use: the one asked for by path, else best (auto falls back to last); raises if none."""
        if self.requested is not None:
            if not self.requested.complete:
                raise SwiftctlError(f"checkpoint {self.requested.path} is incomplete (weights or trainer_state.json "
                                    "missing; the job was probably stopped while saving)",
                                    hint=f"use an earlier checkpoint: ls {self.path}",
                                    location=str(self.requested.path))
            return self.requested
        best, last = self.best_checkpoint, self.last_checkpoint
        chosen = best if which == "best" else last if which == "last" else (best or last)
        if chosen is not None:
            return chosen
        if which == "best" and last is not None:
            raise SwiftctlError("the run recorded no best checkpoint (it ran without evaluation)",
                                hint=f"use the last one: {last.path}", location=str(self.path))
        found = ", ".join(c.name for c in self.checkpoints) or "none"
        raise SwiftctlError(f"no complete checkpoint in {self.path} (checkpoint dirs: {found})",
                            hint="train until the first --save_steps is reached, or pass --model DIR for a base model")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SwiftctlError(f"cannot read {path.name}: {exc}", hint="check the file; ms-swift writes it as JSON",
                            location=str(path)) from exc
    if not isinstance(data, dict):
        raise SwiftctlError(f"{path.name} is not a JSON object", location=str(path))
    return data


def _scan_checkpoint(path: Path, step: int) -> Checkpoint:
    names = {p.name for p in path.iterdir()}
    if any(n in names for n in _ADAPTER_WEIGHTS):
        kind: Literal["lora", "full", "unknown"] = "lora"
    elif any(n in names for n in _FULL_WEIGHTS) or any(re.match(r"model-\d+-of-\d+\.safetensors$", n) for n in names):
        kind = "full"
    else:
        kind = "unknown"
    return Checkpoint(path=path, step=step, kind=kind, complete=kind != "unknown" and "trainer_state.json" in names)


def _best_name(run: Path, checkpoints: list[Checkpoint]) -> str | None:
    """best_model_checkpoint from logging.jsonl's summary line, else from the last checkpoint's trainer_state.json."""
    logging = run / "logging.jsonl"
    if logging.is_file():
        lines = [ln for ln in logging.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        for line in reversed(lines[-3:]):
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and row.get("best_model_checkpoint"):
                return Path(row["best_model_checkpoint"]).name
    for ckpt in reversed(checkpoints):
        state = ckpt.path / "trainer_state.json"
        if state.is_file():
            try:
                best = json.loads(state.read_text(encoding="utf-8")).get("best_model_checkpoint")
            except (OSError, ValueError, AttributeError):
                continue
            if best:
                return Path(best).name
    return None


def _versioned_runs(path: Path) -> list[Path]:
    runs = [p for p in path.iterdir() if p.is_dir() and _VERSIONED.match(p.name)]
    return sorted(runs, key=lambda p: (int(_VERSIONED.match(p.name)[1]), _VERSIONED.match(p.name)[2]))


def load_run(run: Path, requested: Path | None = None) -> RunDir:
    args_path = run / "args.json"
    if not args_path.is_file():
        raise SwiftctlError(f"{run} is not an ms-swift run dir (no args.json)", hint=_HINT)
    checkpoints = sorted((_scan_checkpoint(p, int(m[1])) for p in run.iterdir()
                          if p.is_dir() and (m := _CHECKPOINT.match(p.name))), key=lambda c: c.step)
    req = next((c for c in checkpoints if requested is not None and c.path == requested), None)
    return RunDir(path=run, args=_read_json(args_path), checkpoints=checkpoints, requested=req,
                  best_name=_best_name(run, checkpoints))


def resolve_run(path: Path) -> RunDir:
    """An output_dir (newest vN-* run in it), a versioned run dir, or a checkpoint-N dir → RunDir."""
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise SwiftctlError(f"{path} does not exist", hint="check the path (the train job's output_dir)")
    if not path.is_dir():
        raise SwiftctlError(f"{path} is not a directory", hint="pass a run dir, not a file")
    if _CHECKPOINT.match(path.name) and (path.parent / "args.json").is_file():
        return load_run(path.parent, requested=path)
    if (path / "args.json").is_file():
        return load_run(path)
    runs = _versioned_runs(path)
    if runs:
        return load_run(runs[-1])
    raise SwiftctlError(f"{path} is not an ms-swift run dir (no args.json and no vN-YYYYmmdd-HHMMSS/ run in it)",
                        hint=_HINT)
