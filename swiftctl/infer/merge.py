"""Merge a LoRA checkpoint into its base model (`swift export --merge_lora true`), for vLLM without LoRA support
or a rank above what it supports. The merged model keeps the training system prompt and template: they are passed
explicitly at inference, since a merged model on its own falls back to Qwen2.5's default system prompt.
"""

from __future__ import annotations

import dataclasses
import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path

from swiftctl.errors import SwiftctlError
from swiftctl.infer.plan import runtime_env, swift_bin
from swiftctl.infer.target import Target


def merged_dir(adapters: Path) -> Path:
    return adapters.parent / f"{adapters.name}-merged"  # where `swift export` itself puts it


def export_argv(target: Target, output_dir: Path) -> list[str]:
    assert target.adapters is not None
    argv = [swift_bin(), "export", "--adapters", str(target.adapters), "--model", target.model,
            "--merge_lora", "true", "--output_dir", str(output_dir)]
    if target.model_type:
        argv += ["--model_type", target.model_type]
    return argv


def merge_adapter(target: Target, *, on_line: Callable[[str], None] | None = None) -> tuple[Target, str]:
    """The merged model as a Target (same system prompt and template) and a note saying what was done."""
    if target.adapters is None:
        return target, "nothing to merge: the model has no LoRA adapter"
    dest = merged_dir(target.adapters)
    merged = dataclasses.replace(target, model=str(dest), adapters=None, lora_rank=None)
    if (dest / "config.json").is_file():
        return merged, f"using the merged model already at {dest}"
    if dest.exists():
        raise SwiftctlError(f"{dest} exists but holds no model (config.json missing)",
                            hint=f"remove it and run again: rm -r {shlex.quote(str(dest))}")
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}.", dir=dest.parent) as tmp:
        out = Path(tmp) / "model"
        run_export(export_argv(target, out), out, "merging the LoRA adapter", on_line)
        out.rename(dest)  # complete or absent: never a half-written merged model
    return merged, f"merged {target.adapters.name} into {dest} (swift export --merge_lora true)"


def run_export(argv: list[str], out: Path, what: str, on_line: Callable[[str], None] | None = None) -> None:
    """Run `swift export` (through launch/, with the patch environment); on failure, one error with its last lines."""
    from swiftctl.launch.process import run

    tail: list[str] = []

    def keep(line: str) -> None:
        tail.append(line)
        del tail[:-12]
        if on_line:
            on_line(line)

    code = run(argv, env=runtime_env(), echo=False, on_line=keep)
    if code != 0 or not (out / "config.json").is_file():
        raise SwiftctlError(f"{what} failed (exit {code})\n" + "\n".join("  | " + ln for ln in tail[-8:]),
                            hint=f"run it by hand: {shlex.join(argv)}")
