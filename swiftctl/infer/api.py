"""The functions the CLI calls (one per command), re-exported from the modules that implement them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from swiftctl.errors import SwiftctlError, UsageError
from swiftctl.infer.batch import BatchResult, run_batch
from swiftctl.infer.evaluate import EvalReport, evaluate
from swiftctl.infer.plan import Settings, infer_plan
from swiftctl.infer.serve import ServeInfo, serve_forever
from swiftctl.infer.target import Target, resolve_target

__all__ = ["BatchResult", "EvalReport", "ServeInfo", "Settings", "Target", "batch", "chat", "evaluate",
           "raise_if_failed", "serve", "target"]


def target(run: Path | None, *, model: str | None, adapters: Path | None, system: str | None,
           which: str = "auto", merge: bool = False, notes: list[str] | None = None) -> Target:
    """Resolve what to run; with ``merge`` the LoRA is merged first (a note saying so is appended to ``notes``)."""
    if which not in ("auto", "best", "last"):
        from swiftctl.errors import UsageError

        raise UsageError(f"unknown --checkpoint {which!r}", hint="use auto, best or last")
    picked = run is None and model is None and adapters is None
    if picked:
        from swiftctl.runs.discover import pick_run

        info, found = pick_run()
        run = Path(info.run_dir)
        if notes is not None:
            notes.extend(found)
    t = resolve_target(run, model=model, adapters=adapters, system=system, which=which)
    if notes is not None:
        notes.extend(target_notes(t, which, picked))
    if merge:
        from swiftctl.infer.merge import merge_adapter

        t, note = merge_adapter(t)
        if notes is not None:
            notes.append(note)
    return t


def target_notes(t: Target, which: str, picked: bool) -> list[str]:
    """Which checkpoint was chosen (when the run was found, not given) and a --system that replaces the trained one."""
    out = []
    ckpt = t.adapters or (Path(t.model) if t.run_dir and Path(t.model).parent == t.run_dir else None)
    if picked and ckpt is not None:
        how = "the best, else the last" if which == "auto" else f"the {which}"
        out.append(f"checkpoint {ckpt.name} ({how}); --checkpoint best|last, or a checkpoint-N dir as RUN, "
                   "picks another")
    trained = t.args.get("system")
    if t.system_source == "--system" and trained and trained != t.system:
        out.append(f"--system {t.system!r} replaces the training system prompt {trained!r}")
    return out


def batch(t: Target, s: Settings, val: Path, *, out: Path | None,
          on_line: Callable[[str], None] | None = None) -> BatchResult:
    return run_batch(t, s, val, out=out, on_line=on_line)


def chat(t: Target, s: Settings) -> int:
    """Interactive chat in the terminal (ms-swift's own prompt loop); returns its exit code.

    With stdin piped (not a terminal) the lines are read first and fed to the loop, ending with `exit`, since
    ms-swift's loop dies with EOFError at the end of its input."""
    import sys

    from swiftctl.fsutil import read_stdin
    from swiftctl.launch.serve import run_interactive

    plan = infer_plan(t, s, val=None, result_path=None)
    feed = None
    if not sys.stdin.isatty():
        text = read_stdin(sys.stdin, what="the chat lines", hint="pipe UTF-8 text, one message a line, or run in a terminal")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines or lines[-1].strip().lower() not in ("exit", "quit"):
            lines.append("exit")
        feed = "\n".join(lines) + "\n"
    return run_interactive(plan.argv, env=plan.env, feed=feed)


def read_key(path: Path) -> str:
    """The API key from a file (first line, stripped); an empty file is an error, not an open server."""
    try:
        key = path.read_text(encoding="utf-8").strip().splitlines()[0:1]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the API key file: {exc}", location=str(path),
                         hint="give a readable UTF-8 file holding the key on its first line") from None
    if not key or not key[0].strip():
        raise UsageError("the API key file is empty", location=str(path), hint="put the key on its first line")
    return key[0].strip()


def serve(t: Target, s: Settings, *, on_ready: Callable[[ServeInfo], None], **kwargs) -> int:
    return serve_forever(t, s, on_ready=on_ready, **kwargs)


def raise_if_failed(report: EvalReport) -> None:
    if not report.passed:
        raise SwiftctlError("eval gate failed: " + "; ".join(report.failures),
                            hint="look at the flagged rows" + (f" in {report.out / 'eval.md'}" if report.out else "")
                            + "; thresholds: --max-qwen-claims, --max-placeholder-leaks, --min-rouge-l, --min-bleu")
