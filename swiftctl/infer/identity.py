"""`swiftctl eval --identity`: does the model still say who it is, with and without its system prompt?

The probes are data (swiftctl/resources/identity_prompts.json, versioned): questions such as 你是谁 / are you Qwen /
who made you, in Chinese and English. Each runs twice: with the system prompt (the training one, or --system) and
with no system message at all (``--system ""``: ms-swift then renders no system block, so Qwen2.5's default
"You are Qwen..." does not mask what the weights learned). Per condition: how often the answer names the persona,
claims to be Qwen/通义千问/Alibaba, or leaks a literal {{NAME}}; and the difference between the two conditions.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from swiftctl.errors import SwiftctlError
from swiftctl.infer import metrics as m
from swiftctl.infer.batch import run_batch
from swiftctl.infer.plan import Settings
from swiftctl.infer.target import Target

BUILTIN = "builtin"


@dataclass
class Probe:
    id: str
    prompt: str
    lang: str = ""


@dataclass
class PromptSet:
    name: str
    version: int | str
    source: str  # "builtin" or the file
    prompts: list[Probe]


@dataclass
class ProbeAnswer:
    id: str
    prompt: str
    response: str
    says_name: bool
    claims_qwen: bool
    placeholder: str | None


@dataclass
class Condition:
    condition: str  # "system" or "no system"
    system: str | None
    prompts: int
    name_hits: int
    qwen_claims: int
    placeholder_leaks: int
    answers: list[ProbeAnswer] = field(default_factory=list)
    command: str = ""  # the swift infer command line (shlex), as run

    @property
    def name_rate(self) -> float:
        return self.name_hits / self.prompts if self.prompts else 0.0


@dataclass
class IdentityReport:
    """The identity part of `swiftctl eval --json` (``identity``)."""

    prompt_set: str
    version: int | str
    source: str
    names: list[str]
    names_from: str  # how the names were chosen
    model: list[Condition]  # [with system, no system]
    baseline: list[Condition] | None = None

    def difference(self, conds: list[Condition]) -> dict[str, float]:
        """with system minus no system."""
        a, b = conds
        return {"name_rate": a.name_rate - b.name_rate, "qwen_claims": a.qwen_claims - b.qwen_claims}


def _parse(data: Any, where: str) -> tuple[dict[str, Any], list[Probe]]:
    if isinstance(data, dict) and isinstance(data.get("prompts"), list):
        meta, rows = data, data["prompts"]
    else:
        raise SwiftctlError(f"{where}: expected a JSON object with a \"prompts\" list",
                            hint='{"version": 1, "prompts": [{"id": "who", "prompt": "你是谁？"}]} '
                                 '(add "extends": "builtin" to keep the built-in prompts)', location=where)
    probes = []
    for i, row in enumerate(rows):
        row = {"prompt": row} if isinstance(row, str) else row
        if not isinstance(row, dict) or not str(row.get("prompt") or "").strip():
            raise SwiftctlError(f"prompt {i} has no \"prompt\" text", location=f"{where} (prompts[{i}])")
        probes.append(Probe(id=str(row.get("id") or f"p{i}"), prompt=str(row["prompt"]), lang=str(row.get("lang", ""))))
    return meta, probes


def load_prompts(path: Path | None = None) -> PromptSet:
    """The built-in set, a user's file replacing it, or a user's file with ``"extends": "builtin"`` adding to it."""
    builtin_text = (files("swiftctl.resources") / "identity_prompts.json").read_text(encoding="utf-8")
    meta, probes = _parse(json.loads(builtin_text), "identity_prompts.json")
    builtin = PromptSet(meta.get("name", "identity"), meta.get("version", 1), BUILTIN, probes)
    if path is None:
        return builtin
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SwiftctlError(f"cannot read {path}: {exc.strerror}", location="--identity-prompts") from exc
    except ValueError as exc:
        raise SwiftctlError(f"{path} is not valid JSON: {exc}", location=str(path)) from exc
    meta, probes = _parse(data, str(path))
    if not probes:
        raise SwiftctlError(f"{path} has no prompts", location=str(path))
    if meta.get("extends") == BUILTIN:
        probes = builtin.prompts + probes
    return PromptSet(str(meta.get("name", Path(path).stem)), meta.get("version", "?"), str(path), probes)


def choose_names(target: Target, names: list[str] | None) -> tuple[list[str], str]:
    """The persona name(s) to look for, and how they were chosen (said in the report)."""
    if names:
        return names, "--name"
    model_name = target.args.get("model_name")
    found = [n for n in (model_name if isinstance(model_name, list) else [model_name]) if n]
    if found:
        return found, "args.json model_name"
    trained = target.args.get("system")
    for system, where in ((trained, "the training system prompt"), (target.system, "--system")):
        if found := m.names_from_system(system):
            return found, f"{where} {system!r}"
    return [], "none found (pass --name)"


def _condition(target: Target, settings: Settings, val: Path, label: str, names: list[str],
               probes: list[Probe], on_line) -> Condition:
    result = run_batch(target, settings, val, on_line=on_line)
    answers = []
    for probe, row in zip(probes, result.rows, strict=False):
        text = row.get("response") or ""
        answers.append(ProbeAnswer(probe.id, probe.prompt, text, m.says_name(text, names), m.claims_qwen(text),
                                   m.placeholder_leak(text)))
    return Condition(label, target.system or None, len(answers), sum(a.says_name for a in answers),
                     sum(a.claims_qwen for a in answers), sum(a.placeholder is not None for a in answers), answers,
                     result.command)


def _both(target: Target, settings: Settings, val: Path, names: list[str], probes: list[Probe],
          on_line) -> list[Condition]:
    bare = dataclasses.replace(target, system="", system_source="no system")  # `--system ""`: no system block
    return [_condition(target, settings, val, "system", names, probes, on_line),
            _condition(bare, settings, val, "no system", names, probes, on_line)]


def run_identity(target: Target, settings: Settings, prompts: PromptSet, *, names: list[str] | None = None,
                 with_baseline: bool = False, on_line=None) -> IdentityReport:
    chosen, how = choose_names(target, names)
    with tempfile.TemporaryDirectory(prefix="swiftctl-identity-") as tmp:
        val = Path(tmp) / "identity.jsonl"
        # the assistant turn is a stand-in reference: ms-swift's infer takes the last assistant turn as the label
        rows = ({"messages": [{"role": "user", "content": p.prompt}, {"role": "assistant", "content": "-"}]}
                for p in prompts.prompts)
        val.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        model = _both(target, settings, val, chosen, prompts.prompts, on_line)
        base = _both(target.base(), settings, val, chosen, prompts.prompts, on_line) if with_baseline else None
    return IdentityReport(prompts.name, prompts.version, prompts.source, chosen, how, model, base)


def gate_failures(report: IdentityReport, gate) -> list[str]:
    """The eval gate's identity thresholds, applied to each condition of the model (not the baseline)."""
    fails = []
    for c in report.model:
        where = f"identity probes ({c.condition})"
        if c.qwen_claims > gate.max_qwen_claims:
            fails.append(f"{where}: {c.qwen_claims}/{c.prompts} answers claim to be Qwen/通义千问/Alibaba "
                         f"(allowed: {gate.max_qwen_claims})")
        if c.placeholder_leaks > gate.max_placeholder_leaks:
            fails.append(f"{where}: {c.placeholder_leaks} answers contain a literal {{{{NAME}}}}-style placeholder "
                         f"(allowed: {gate.max_placeholder_leaks})")
        if gate.min_name_rate is not None and c.name_rate < gate.min_name_rate:
            fails.append(f"{where}: names itself in {c.name_hits}/{c.prompts} (< {gate.min_name_rate:g})")
    return fails


def identity_dict(report: IdentityReport) -> dict[str, Any]:
    data = json.loads(json.dumps(dataclasses.asdict(report), ensure_ascii=False, default=str))
    for key in ("model", "baseline"):
        conds = getattr(report, key)
        if conds is None:
            continue
        for c, d in zip(conds, data[key], strict=True):
            d["name_rate"] = c.name_rate
        data[f"{key}_difference"] = report.difference(conds)
    return data
