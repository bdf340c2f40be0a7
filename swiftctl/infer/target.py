"""What to run: base model, adapter checkpoint, system prompt and template, restored from the training run.

The persona problem ("I am Qwen") comes from losing the training ``--system``: a merged model or a bare base model
served without it gets Qwen2.5's default system prompt. So the system prompt is always passed explicitly, taken
from the run's args.json unless the user overrides it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftctl.errors import SwiftctlError, UsageError

QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


@dataclass(frozen=True)
class Target:
    model: str  # base model dir (or hub id) ms-swift loads
    adapters: Path | None = None  # LoRA checkpoint, None for a full/base model
    system: str | None = None  # explicit system prompt passed to ms-swift (None: the template's default)
    system_source: str = "none"  # "--system", "args.json", or "none"
    template: str | None = None
    model_type: str | None = None
    lora_rank: int | None = None  # the largest rank in adapter_config.json
    run_dir: Path | None = None
    args: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def base(self) -> Target:
        """The same model without the adapter (for --baseline), with the same system prompt and template."""
        return Target(model=self.model, system=self.system, system_source=self.system_source,
                      template=self.template, model_type=self.model_type, run_dir=self.run_dir, args=self.args)


def _read_args(ckpt: Path) -> dict[str, Any]:
    for path in (ckpt / "args.json", ckpt.parent / "args.json"):
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise SwiftctlError(f"{path.name} is not valid JSON: {exc}", location=str(path)) from exc
    return {}


def _lora_rank(ckpt: Path) -> int | None:
    cfg = ckpt / "adapter_config.json"
    if not cfg.is_file():
        return None
    try:
        data = json.loads(cfg.read_text(encoding="utf-8"))
        ranks = [int(data.get("r") or 0), *(int(v) for v in (data.get("rank_pattern") or {}).values())]
    except (OSError, ValueError, TypeError, AttributeError) as exc:  # not JSON, not an object, a rank not an int
        raise SwiftctlError(f"adapter_config.json is not a valid PEFT adapter config ({type(exc).__name__}: {exc})",
                            location=str(cfg), hint="use a checkpoint saved by ms-swift/PEFT (\"r\" is an integer rank)"
                            ) from None
    return max(ranks) or None


def _same_model(a: str, b: str) -> bool:
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.exists() and pb.exists():
        return pa.resolve() == pb.resolve()
    return a.rstrip("/") == b.rstrip("/")


def _check_model_dir(model: str, where: str) -> None:
    path = Path(model).expanduser()
    looks_local = model.startswith((".", "/", "~")) or path.exists()
    if looks_local and not (path / "config.json").is_file():
        raise SwiftctlError(f"{model} is not a model directory (no config.json)",
                            hint="pass the base model dir the run was trained on (args.json: model)", location=where)


def _job_output_dir(job_file: Path) -> Path:
    """A job file stands for its output.dir (relative paths resolve against the job file's directory)."""
    from swiftctl.jobs.load import load_job

    out = Path(load_job(job_file).job.output.dir).expanduser()
    return out if out.is_absolute() else job_file.resolve().parent / out


def resolve_target(run: Path | None = None, *, model: str | None = None, adapters: Path | None = None,
                   system: str | None = None, which: str = "auto") -> Target:
    """From a run dir (best, else last checkpoint), an explicit --adapters checkpoint, or a bare --model."""
    from swiftctl.runs.rundir import resolve_run

    if run is None and model is None and adapters is None:
        raise UsageError("nothing to run: give a RUN_DIR, --adapters CKPT or --model DIR",
                         hint="swiftctl infer demo-runs/demo --val jobs/data/muice-sample-val.jsonl")
    if run is not None and adapters is not None:
        raise UsageError("give either RUN_DIR or --adapters, not both",
                         hint="a checkpoint dir can be passed as RUN_DIR: swiftctl infer RUN/v0-.../checkpoint-4")
    ckpt: Path | None = None
    run_dir: Path | None = None
    if run is not None and Path(run).suffix == ".toml" and Path(run).is_file():
        run = _job_output_dir(Path(run))
    if run is not None:
        rd = resolve_run(run)
        chosen = rd.checkpoint(which)  # type: ignore[arg-type]
        run_dir = rd.path
        ckpt = chosen.path
        if chosen.kind == "full":  # a full fine-tune: the checkpoint is the model itself
            model, ckpt = (model or str(chosen.path)), None
    elif adapters is not None:
        ckpt = Path(adapters).expanduser().resolve()
        if not (ckpt / "adapter_config.json").is_file():
            raise SwiftctlError(f"{ckpt} is not a LoRA checkpoint (no adapter_config.json)",
                                hint="pass a checkpoint-N dir of a LoRA run, or the run dir itself",
                                location=str(ckpt))
    args = _read_args(ckpt) if ckpt is not None else (_read_args(run_dir) if run_dir else {})
    trained_on = args.get("model")
    if trained_on is not None and not isinstance(trained_on, str):
        raise SwiftctlError(f"args.json's `model` is {trained_on!r}, not a model path or id",
                            location=str((run_dir or ckpt) / "args.json") if (run_dir or ckpt) else None,
                            hint="pass --model DIR (the base model the run was trained on)")
    if ckpt is not None and model is not None and trained_on and not _same_model(model, trained_on):
        raise SwiftctlError(f"checkpoint {ckpt.name} was trained on base model {trained_on}, not {model}",
                            hint=f"drop --model, or pass --model {trained_on}", location=str(ckpt))
    if model is None and trained_on and str(trained_on).startswith(("/", "~")) \
            and not Path(trained_on).expanduser().exists():
        raise SwiftctlError(f"the base model {trained_on} that this run was trained on is gone",
                            hint="restore that directory, or pass --model DIR with the same base model",
                            location=str((ckpt or run_dir or Path(".")) / "args.json"))
    model = model or trained_on
    if not model:
        raise SwiftctlError("cannot tell the base model: args.json has no `model`",
                            hint="pass --model DIR (the base model the run was trained on)",
                            location=str(ckpt or run_dir))
    _check_model_dir(model, str(ckpt or run_dir or model))
    if system is not None:
        sys_value, source = system, "--system"
    elif args.get("system"):
        sys_value, source = str(args["system"]), "args.json"
    else:
        sys_value, source = None, "none"
    return Target(model=str(model), adapters=ckpt, system=sys_value, system_source=source,
                  template=args.get("template"), model_type=args.get("model_type"),
                  lora_rank=_lora_rank(ckpt) if ckpt else None, run_dir=run_dir, args=args)
