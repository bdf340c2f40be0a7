"""Rendering for `swiftctl infer`, `serve` and `eval`: messages to stderr, data (tables, JSON) to stdout."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text

from swiftctl.ui.console import err, out, print_json


def show_target(t, notes: list[str] | None = None) -> None:
    _notes(notes or [])
    what = f"{t.adapters} on {t.model}" if t.adapters else t.model
    err().print(Text(f"model: {what}"))
    system = repr(t.system) if t.system is not None else "(template default)"
    err().print(Text(f"system prompt ({t.system_source}): {system}"))


def progress_line() -> Callable[[str], None]:
    """Say when ms-swift starts and where it saved; its whole log (and any traceback) stays out of the way."""
    err().print(Text("running swift infer (a vLLM engine takes ~1 min to start on CPU)...", style="dim"))

    def show(line: str) -> None:
        if "result_path" in line and "saved" in line:
            err().print(Text(line[:300], style="dim"))
    return show


def _notes(notes: list[str]) -> None:
    for note in notes:
        err().print(Text(f"note: {note}", style="yellow"))


def show_batch(r) -> None:
    _notes(r.notes)
    err().print(Text(f"{len(r.rows)} rows answered ({r.backend}, {r.seconds:.0f} s)"
                     + (f" → {r.out}" if r.out else "")))


def starting_server(host: str, port: int) -> None:
    err().print(Text(f"starting the server on {host}:{port} (vLLM start takes ~1 min on CPU)..."))


def server_ready(info) -> None:
    _notes(info.notes)
    err().print(Text(f"command: {info.command}", style="dim"))
    err().print(Text(f"ready: {info.url}  (model {info.model_name!r}, health {info.health_url}"
                     + (", bearer key required" if info.auth else "") + ")  log: " + str(info.log_path)))
    err().print(Text("Ctrl-C stops it."))


_CELL_CHARS = 90  # a table row stays a few lines; eval.json / eval.md keep the full text


def _clip(text: str) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"


def show_eval(report, *, as_json: bool = False) -> None:
    if as_json:
        from swiftctl.infer.evaluate import report_dict

        print_json(report_dict(report))
        return
    _notes(report.notes)
    if report.summary is not None:
        _val_table(report)
    if report.identity is not None:
        _identity_table(report.identity)
    if report.out:
        err().print(Text(f"report: {report.out / 'eval.json'}, {report.out / 'eval.md'}"))
    if report.passed:
        err().print(Text("gate: pass", style="green"))


def _identity_table(idr) -> None:
    table = Table(title=f"identity probes ({idr.prompt_set} v{idr.version}, {len(idr.model[0].answers)} prompts; "
                        f"names: {', '.join(idr.names) or '-'})")
    for col in ("model", "condition", "names itself", "claims Qwen", "{{NAME}} leaks"):
        table.add_column(col)
    for who, conds in (("model", idr.model), ("baseline", idr.baseline or [])):
        for c in conds:
            table.add_row(who, c.condition, f"{c.name_hits}/{c.prompts} ({c.name_rate:.0%})", str(c.qwen_claims),
                          str(c.placeholder_leaks))
    out().print(table)
    for who, conds in (("model", idr.model), ("baseline", idr.baseline)):
        if conds:
            d = idr.difference(conds)
            out().print(Text(f"{who}: system prompt vs none: name rate {d['name_rate']:+.0%}, "
                             f"Qwen claims {d['qwen_claims']:+d}"))


def _val_table(report) -> None:
    table = Table(title="eval", show_lines=False)
    for col in ("#", "prompt", "reference", "response", "ROUGE-L", "BLEU", "flags"):
        table.add_column(col, overflow="fold", max_width=30 if col in ("prompt", "reference", "response") else None)
    if report.baseline:
        table.add_column("baseline", overflow="fold", max_width=30)
    for row in report.rows:
        a = row.model
        flags = ",".join(f for f, on in (("qwen", a.claims_qwen), ("placeholder", a.placeholder),
                                         ("name", a.says_name)) if on)
        cells = [str(row.index), _clip(row.prompt), _clip(row.reference), _clip(a.response), f"{a.rouge_l:.3f}",
                 f"{a.bleu:.1f}", flags]
        if report.baseline:
            cells.append(_clip(row.baseline.response) if row.baseline else "")
        table.add_row(*(Text(c) for c in cells))
    out().print(table)
    s = report.summary
    line = (f"ROUGE-L {s.rouge_l:.3f}  BLEU {s.bleu:.2f}  Qwen claims {s.qwen_claims}  "
            f"{{{{NAME}}}} leaks {s.placeholder_leaks}  name {s.name_hits}/{s.identity_questions}")
    out().print(Text(line))
    if report.baseline:
        b = report.baseline
        out().print(Text(f"baseline: ROUGE-L {b.rouge_l:.3f}  BLEU {b.bleu:.2f}  Qwen claims {b.qwen_claims}  "
                         f"name {b.name_hits}/{b.identity_questions}"))


def exporting(quant: str | None) -> None:
    err().print(Text("merging with swift export" + (f" (--quant {quant})" if quant else "") + "...", style="dim"))


def show_export(result, *, as_json: bool = False) -> None:
    if as_json:
        print_json(result)
        return
    _notes(result.notes)
    table = Table(title=f"exported {result.out}")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for f in result.files:
        table.add_row(Text(f.name), f"{f.bytes:,}")
    out().print(table)
    how = "LoRA merged" if result.merged else "full fine-tune copied"
    err().print(Text(f"{how}; {len(result.files)} files, {result.total_bytes / 2**20:.1f} MiB; default system prompt: "
                     f"{result.system!r} (chat template from {result.template_source})"))
