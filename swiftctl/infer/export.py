"""`swiftctl export`: a self-contained model directory that keeps its persona wherever it is loaded.

A LoRA run is merged by ms-swift itself (`swift export --merge_lora true`, optionally quantized with
`--quant_method`); a full fine-tune is copied (its training state left behind). Then the persona files are written
(swiftctl.infer.persona_files) and the whole directory is renamed into place: DIR is complete or absent.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from swiftctl.errors import SwiftctlError, UsageError
from swiftctl.infer import persona_files as pf
from swiftctl.infer.target import Target

QUANT_METHODS = ("awq", "gptq", "bnb", "fp8")
_QUANT_PACKAGES = {"awq": "awq", "gptq": "gptqmodel", "bnb": "bitsandbytes", "fp8": None}
_TRAINING_STATE = ("optimizer.pt", "scheduler.pt", "trainer_state.json", "training_args.bin", "scaler.pt")


@dataclass
class ExportedFile:
    name: str
    bytes: int


@dataclass
class ExportResult:
    """Payload of `swiftctl export --json`."""

    out: str
    checkpoint: str
    base_model: str
    merged: bool  # a LoRA merged into the base weights (False: a full fine-tune, copied)
    quant: str | None
    system: str
    template_source: str
    files: list[ExportedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def check_quant(quant: str | None) -> None:
    """Refuse a quantization this machine cannot do, saying why."""
    if quant is None:
        return
    if quant not in QUANT_METHODS:
        raise UsageError(f"unknown --quant {quant!r}", hint="use one of " + ", ".join(QUANT_METHODS))
    if shutil.which("nvidia-smi") is None:
        raise SwiftctlError(f"--quant {quant} needs a CUDA GPU and this machine has none (no nvidia-smi): "
                            "ms-swift's quantizers (AutoAWQ, GPTQModel, bitsandbytes, fp8) run on CUDA",
                            hint="export without --quant here, and quantize on a GPU machine", location="--quant")
    package = _QUANT_PACKAGES[quant]
    if package and importlib.util.find_spec(package) is None:
        raise SwiftctlError(f"--quant {quant} needs the Python package {package!r}, which is not installed",
                            hint=f"pip install {package} (in the profile's versions: swiftctl env show swift4-gpu)",
                            location="--quant")


def quant_args(quant: str | None, target: Target) -> list[str]:
    if quant is None:
        return []
    argv = ["--quant_method", quant] + ([] if quant == "fp8" else ["--quant_bits", "4"])
    if quant in ("awq", "gptq"):  # calibration data: the training data
        data = target.args.get("dataset") or []
        argv += ["--dataset", *([data] if isinstance(data, str) else data)]
    return argv


def check_base(target: Target, checkpoint: Path) -> None:
    """A checkpoint whose adapter was made for another base model than the one it would be merged into."""
    if target.adapters is None:
        return
    config = pf.read_json(checkpoint / "adapter_config.json")
    base = config.get("base_model_name_or_path")
    if base and Path(base).is_absolute() and Path(target.model).exists() and Path(base).exists() \
            and Path(base).resolve() != Path(target.model).resolve():
        raise SwiftctlError(f"checkpoint {checkpoint.name} is a LoRA for base model {base}, not {target.model}",
                            hint=f"export with --model {base}", location=str(checkpoint / "adapter_config.json"))


def _merge(target: Target, dest: Path, quant: str | None, on_line: Callable[[str], None] | None) -> None:
    from swiftctl.infer.merge import export_argv, run_export

    run_export(export_argv(target, dest) + quant_args(quant, target), dest, "swift export", on_line)


def _copy_full(checkpoint: Path, dest: Path) -> None:
    ignore = shutil.ignore_patterns(*_TRAINING_STATE, "rng_state*", "global_step*", "latest")
    shutil.copytree(checkpoint, dest, ignore=ignore)


def _readable(model_dir: Path) -> None:
    """Files as the umask allows (the merge writes some 0600, from a temp file): a model dir is meant to be shared."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    for p in model_dir.rglob("*"):
        if p.is_file():
            p.chmod(0o666 & ~mask)


def write_persona_files(model_dir: Path, target: Target, checkpoint: Path, *, merged: bool,
                        chat_template: Path | None) -> tuple[str, list[str]]:
    """chat_template.jinja + tokenizer_config.json, generation_config.json, Modelfile, README.md in ``model_dir``."""
    from swiftctl import __version__
    from swiftctl.envcheck.installed import installed_version
    from swiftctl.infer.model_card import model_card, read_manifest

    system = target.system or ""
    notes: list[str] = []
    text, source = pf.read_template(model_dir, chat_template, target.template)
    template = pf.with_persona(text, system)
    pf.check_jinja(template, "the rewritten chat template")
    rendered = pf.render(template, [{"role": "user", "content": "hi"}])
    if system not in rendered:
        raise SwiftctlError(f"the chat template from {source} does not render a system message",
                            hint="pass --chat-template FILE with a template that renders messages[0] "
                                 "when its role is system")
    (model_dir / "chat_template.jinja").write_text(template, encoding="utf-8")
    tok = pf.read_json(model_dir / "tokenizer_config.json")
    pf.write_json(model_dir / "tokenizer_config.json", tok | {"chat_template": template})
    chatml = pf.is_chatml(target.template)
    gen = pf.generation_config(model_dir, chatml)
    pf.write_json(model_dir / "generation_config.json", gen)
    (model_dir / "Modelfile").write_text(pf.modelfile(system, gen, chatml), encoding="utf-8")
    if not chatml:
        notes.append(f"ms-swift template {target.template!r} is not ChatML: the Modelfile has SYSTEM but no TEMPLATE")
    manifest = read_manifest(target.run_dir)
    if manifest is None:
        notes.append("no swiftctl manifest in the run dir: the model card has no data hashes or training versions")
    card = model_card(target, checkpoint, merged=merged, manifest=manifest,
                      swift_version=str(installed_version("ms-swift") or "unknown"), swiftctl_version=__version__)
    (model_dir / "README.md").write_text(card, encoding="utf-8")
    return source, notes


def export_model(target: Target, out: Path, *, quant: str | None = None, chat_template: Path | None = None,
                 on_line: Callable[[str], None] | None = None) -> ExportResult:
    """Build the export in a temp dir beside ``out`` and rename it into place; ``out`` must not exist."""
    out = Path(out).expanduser().absolute()
    if out.exists() or out.is_symlink():
        raise SwiftctlError(f"{out} already exists", hint="pick a new --out DIR (export never overwrites)",
                            location="--out")
    if not target.system:
        raise SwiftctlError("no system prompt to export: the run's args.json has none and no --system was given",
                            hint='pass --system "..." (the persona to make the default)')
    check_quant(quant)
    checkpoint = target.adapters or Path(target.model)
    check_base(target, checkpoint)
    if chat_template is not None:  # fail before the merge, not after
        pf.read_template(Path(chat_template).parent, chat_template, target.template)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        model_dir = tmp / "model"
        merged = target.adapters is not None
        if merged:
            _merge(target, model_dir, quant, on_line)
        else:
            if quant:
                raise UsageError("--quant is for LoRA runs here (swift export merges and quantizes in one step)",
                                 hint="quantize the exported full model with swift export --model DIR --quant_method")
            _copy_full(checkpoint, model_dir)
        source, notes = write_persona_files(model_dir, target, checkpoint, merged=merged, chat_template=chat_template)
        _readable(model_dir)
        if out.exists():
            raise SwiftctlError(f"{out} appeared while exporting", hint="pick a new --out DIR", location="--out")
        model_dir.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    files = sorted((ExportedFile(str(p.relative_to(out)), p.stat().st_size) for p in out.rglob("*") if p.is_file()),
                   key=lambda f: f.name)
    return ExportResult(out=str(out), checkpoint=str(checkpoint), base_model=str(target.args.get("model") or target.model),
                        merged=merged, quant=quant, system=target.system, template_source=source, files=files,
                        notes=notes)
