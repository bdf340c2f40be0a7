"""`swiftctl eval`: the val set through the model (vLLM by default), overlap metrics, identity checks, a gate.

The default gate fails only on identity leaks (a response claiming to be Qwen/通义千问/Alibaba, or a literal
{{NAME}}-style placeholder): those are bugs whatever the model's size. Overlap and name-rate thresholds are
opt-in (--min-rouge-l, --min-bleu, --min-name-rate), since a small or briefly trained model scores low anyway.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftctl.fsutil import atomic_open, atomic_write_text
from swiftctl.infer import metrics as m
from swiftctl.infer.batch import BatchResult, run_batch
from swiftctl.infer.identity import IdentityReport, PromptSet, gate_failures, identity_dict, run_identity
from swiftctl.infer.plan import Settings
from swiftctl.infer.target import Target


@dataclass
class Gate:
    max_qwen_claims: int = 0
    max_placeholder_leaks: int = 0
    min_rouge_l: float | None = None  # 0-1
    min_bleu: float | None = None  # 0-100
    min_name_rate: float | None = None  # 0-1, over identity questions


@dataclass
class Answer:
    response: str
    rouge_l: float
    bleu: float
    claims_qwen: bool
    placeholder: str | None
    says_name: bool


@dataclass
class EvalRow:
    index: int
    system: str | None
    prompt: str
    reference: str
    identity_question: bool
    model: Answer
    baseline: Answer | None = None


@dataclass
class Summary:
    rows: int
    rouge_l: float  # mean sentence ROUGE-L F, 0-1
    bleu: float  # corpus BLEU, 0-100
    qwen_claims: int
    placeholder_leaks: int
    identity_questions: int
    name_hits: int

    @property
    def name_rate(self) -> float | None:
        return self.name_hits / self.identity_questions if self.identity_questions else None


@dataclass
class EvalReport:
    model: str
    adapters: str | None
    system: str | None
    names: list[str]
    backend: str
    summary: Summary | None  # None without --val (identity probes only)
    baseline: Summary | None
    rows: list[EvalRow]
    gate: Gate
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    out: Path | None = None
    identity: IdentityReport | None = None  # --identity

    @property
    def passed(self) -> bool:
        return not self.failures


def score_rows(rows: list[dict[str, Any]], names: list[str], default_system: str | None) -> list[EvalRow]:
    """ms-swift result rows (messages, labels, response) → scored rows."""
    out = []
    for i, row in enumerate(rows):
        msgs = row.get("messages") or []
        system = next((x["content"] for x in msgs if x.get("role") == "system"), default_system)
        prompt = next((x["content"] for x in reversed(msgs[:-1]) if x.get("role") == "user"), "")
        reference = row.get("labels") or ""
        out.append(EvalRow(i, system, prompt, reference, m.is_identity_question(prompt),
                           answer(reference, row.get("response") or "", names)))
    return out


def answer(reference: str, response: str, names: list[str]) -> Answer:
    return Answer(response, m.rouge_l(reference, response), m.sentence_bleu(reference, response),
                  m.claims_qwen(response), m.placeholder_leak(response), m.says_name(response, names))


def summarize(rows: list[EvalRow], *, baseline: bool = False) -> Summary:
    answers = [(r, r.baseline if baseline else r.model) for r in rows]
    ids = [a for r, a in answers if r.identity_question]
    return Summary(rows=len(rows),
                   rouge_l=sum(a.rouge_l for _, a in answers) / len(answers) if answers else 0.0,
                   bleu=m.corpus_bleu([r.reference for r, _ in answers], [a.response for _, a in answers]),
                   qwen_claims=sum(a.claims_qwen for _, a in answers),
                   placeholder_leaks=sum(a.placeholder is not None for _, a in answers),
                   identity_questions=len(ids), name_hits=sum(a.says_name for a in ids))


def check_gate(s: Summary, gate: Gate) -> list[str]:
    fails = []
    if s.qwen_claims > gate.max_qwen_claims:
        fails.append(f"{s.qwen_claims} response(s) claim to be Qwen/通义千问/Alibaba (allowed: {gate.max_qwen_claims})")
    if s.placeholder_leaks > gate.max_placeholder_leaks:
        fails.append(f"{s.placeholder_leaks} response(s) contain a literal {{{{NAME}}}}-style placeholder "
                     f"(allowed: {gate.max_placeholder_leaks})")
    if gate.min_rouge_l is not None and s.rouge_l < gate.min_rouge_l:
        fails.append(f"ROUGE-L {s.rouge_l:.3f} < {gate.min_rouge_l:g}")
    if gate.min_bleu is not None and s.bleu < gate.min_bleu:
        fails.append(f"BLEU {s.bleu:.2f} < {gate.min_bleu:g}")
    if gate.min_name_rate is not None and (s.name_rate or 0.0) < gate.min_name_rate:
        fails.append(f"answers to its name in {s.name_hits}/{s.identity_questions} identity questions "
                     f"(< {gate.min_name_rate:g})")
    return fails


def build_report(target: Target, result: BatchResult, gate: Gate, *, names: list[str] | None = None,
                 baseline: BatchResult | None = None) -> EvalReport:
    model_name = target.args.get("model_name")
    names = names or [n for n in (model_name if isinstance(model_name, list) else [model_name]) if n]
    names = names or m.names_from_system(target.system)
    rows = score_rows(result.rows, names, target.system)
    if baseline is not None:
        for row, base in zip(rows, score_rows(baseline.rows, names, target.system), strict=False):
            row.baseline = base.model
    summary = summarize(rows)
    notes = list(result.notes)
    if leak := m.placeholder_leak(target.system or ""):
        notes.append(f"the system prompt itself contains {leak}: fill it before training")
    if not names:
        notes.append("no persona name found (args.json model_name or the system prompt): pass --name to check it")
    return EvalReport(model=target.model, adapters=str(target.adapters) if target.adapters else None,
                      system=target.system, names=names, backend=result.backend, summary=summary,
                      baseline=summarize(rows, baseline=True) if baseline is not None else None,
                      rows=rows, gate=gate, failures=check_gate(summary, gate), notes=notes)


def evaluate(target: Target, settings: Settings, val: Path | None, *, gate: Gate, out: Path | None = None,
             names: list[str] | None = None, with_baseline: bool = False, on_line=None,
             identity: PromptSet | None = None) -> EvalReport:
    """Run the val set and/or the identity probes (and the base model with --baseline), score them, gate, and write
    OUT/eval.json, eval.md, rows.jsonl."""
    if val is not None:
        result = run_batch(target, settings, val, on_line=on_line)
        base = run_batch(target.base(), settings, val, on_line=on_line) if with_baseline else None
        report = build_report(target, result, gate, names=names, baseline=base)
    else:
        report = EvalReport(model=target.model, adapters=str(target.adapters) if target.adapters else None,
                            system=target.system, names=list(names or []), backend=settings.backend, summary=None,
                            baseline=None, rows=[], gate=gate)
    if identity is not None:
        report.identity = run_identity(target, settings, identity, names=names, with_baseline=with_baseline,
                                       on_line=on_line)
        report.names = report.names or report.identity.names
        report.notes.append(f"identity probes: {identity.name} v{identity.version} ({len(identity.prompts)} prompts, "
                            f"{identity.source}); names looked for: {', '.join(report.identity.names) or '-'} "
                            f"(from {report.identity.names_from})")
        report.failures += gate_failures(report.identity, gate)
    if out is not None:
        write_report(report, out)
    return report


def report_dict(report: EvalReport) -> dict[str, Any]:
    """Plain JSON data (paths as strings), with the derived values a reader wants (passed, name rates)."""
    data = json.loads(json.dumps(dataclasses.asdict(report), default=str, ensure_ascii=False))
    if report.summary is not None:
        data["summary"]["name_rate"] = report.summary.name_rate
    if report.identity is not None:
        data["identity"] = identity_dict(report.identity)
    if report.baseline is not None:
        data["baseline"]["name_rate"] = report.baseline.name_rate
    return data | {"passed": report.passed}


def write_report(report: EvalReport, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    report.out = out
    data = report_dict(report)
    atomic_write_text(out / "eval.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    with atomic_open(out / "rows.jsonl") as fh:
        for row in data["rows"]:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    atomic_write_text(out / "eval.md", markdown(report))


def _cell(text: str | None, width: int = 40) -> str:
    text = (text or "").replace("\n", "⏎").replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown(r: EvalReport) -> str:
    s = r.summary
    if s is None:
        return identity_markdown(r)
    lines = [f"# eval: {r.adapters or r.model}", "", f"- backend: {r.backend}", f"- system: {r.system!r}",
             f"- names checked: {', '.join(r.names) or '-'}", f"- rows: {s.rows}",
             f"- ROUGE-L (mean F, per-char CJK): {s.rouge_l:.3f}", f"- BLEU (sacrebleu, zh): {s.bleu:.2f}",
             f"- claims Qwen/Alibaba: {s.qwen_claims}", f"- {{{{NAME}}}} leaks: {s.placeholder_leaks}",
             f"- answers to its name: {s.name_hits}/{s.identity_questions} identity questions",
             f"- gate: {'PASS' if r.passed else 'FAIL: ' + '; '.join(r.failures)}", ""]
    head = "| # | prompt | reference | response | ROUGE-L | BLEU | flags |"
    lines += [head + (" baseline | |" if r.baseline else ""), "|---" * (7 + (2 if r.baseline else 0)) + "|"]
    for row in r.rows:
        flags = ",".join(f for f, on in (("qwen", row.model.claims_qwen), ("placeholder", row.model.placeholder),
                                         ("name", row.model.says_name)) if on)
        cells = [str(row.index), _cell(row.prompt), _cell(row.reference), _cell(row.model.response),
                 f"{row.model.rouge_l:.3f}", f"{row.model.bleu:.1f}", flags]
        if row.baseline:
            cells += [_cell(row.baseline.response), f"{row.baseline.rouge_l:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + (identity_markdown(r) if r.identity else "")


def identity_markdown(r: EvalReport) -> str:
    idr = r.identity
    lines = [f"# identity probes: {r.adapters or r.model}", ""]
    if idr is None:
        return "\n".join(lines) + "\n"
    lines += [f"- set: {idr.prompt_set} v{idr.version} ({idr.source}); names: {', '.join(idr.names) or '-'} "
              f"(from {idr.names_from})", f"- gate: {'PASS' if r.passed else 'FAIL: ' + '; '.join(r.failures)}", "",
              "| model | condition | names itself | claims Qwen | {{NAME}} leaks |", "|---|---|---|---|---|"]
    for who, conds in (("model", idr.model), ("baseline", idr.baseline or [])):
        lines += [f"| {who} | {c.condition} | {c.name_hits}/{c.prompts} | {c.qwen_claims} | {c.placeholder_leaks} |"
                  for c in conds]
    lines += ["", "| id | condition | prompt | response | flags |", "|---|---|---|---|---|"]
    for c in idr.model:
        for a in c.answers:
            flags = ",".join(f for f, on in (("name", a.says_name), ("qwen", a.claims_qwen), ("placeholder",
                                                                                             a.placeholder)) if on)
            lines.append(f"| {a.id} | {c.condition} | {_cell(a.prompt)} | {_cell(a.response)} | {flags} |")
    return "\n".join(lines) + "\n"
