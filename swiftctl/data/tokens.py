"""Render rows with the job's chat template and count tokens exactly as ms-swift 4.6 encodes them for training.

``swiftctl.data.chatml`` renders a row as ms-swift's Qwen templates do (tools and tool turns, ``loss``, qwen3's think
blocks) into pieces joined per loss weight; each piece is tokenized with ``add_special_tokens=False``, the masked
span after a reply that starts with ``<|im_end|>\\n`` trains it (``_add_dynamic_eos``) and the first label is -100.
A row whose encoded length is greater than ``max_length`` is dropped (``truncation_strategy`` delete).
Only the ``tokenizers`` library is used (no transformers import); the tests compare with ms-swift's own encode.
"""

from __future__ import annotations

import json
from pathlib import Path

from swiftctl.data.chatml import IM_END, METAS, TemplateDrop, dynamic_eos, render
from swiftctl.data.report import FileSummary, RowResult, TokenStats
from swiftctl.data.swift_encode import COUNTER as SWIFT_COUNTER
from swiftctl.data.swift_encode import swift_row
from swiftctl.errors import UsageError

# ChatML templates this renderer reproduces, with ms-swift's default system (swift/template/templates/qwen.py).
TEMPLATES: dict[str, str | None] = {name: meta.default_system for name, meta in METAS.items()}
BATCH = 512
COUNTER = "swiftctl-renderer"  # TokenStats.counter: how the tokens were counted
IGNORE_INDEX = -100


def resolve_template(model_dir: Path, template: str | None) -> str:
    """``--template``, else args.json's template (a trained checkpoint), else qwen2_5 for Qwen2 models."""
    if template is None:
        args = model_dir / "args.json"
        if args.is_file():
            template = json.loads(args.read_text(encoding="utf-8")).get("template")
    if template is None:
        config = model_dir / "config.json"
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type") if config.is_file() else None
        if model_type in ("qwen2", "qwen2_5"):
            template = "qwen2_5"
        elif model_type == "qwen3":
            template = "qwen3"
    if template is None:  # any other named template is counted by ms-swift's own encode (swift_encode)
        raise UsageError("no chat template known for this model", location=str(model_dir),
                         hint=f"pass --template (swiftctl renders {', '.join(TEMPLATES)}; others need ms-swift)")
    return template


def load_tokenizer(model_dir: Path):
    if not model_dir.is_dir():
        raise UsageError("model directory not found", location=str(model_dir),
                         hint="pass --model with a local model dir (e.g. .fixtures/tiny-qwen2)")
    file = model_dir / "tokenizer.json"
    if not file.is_file():
        raise UsageError("no tokenizer.json in the model directory", location=str(model_dir),
                         hint="pass --model with a Hugging Face model dir that has tokenizer.json")
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(file))


class ChatRenderer:
    """ms-swift messages -> ``[(text, trained)]`` pieces as ms-swift's template encode joins them (``chatml.render``).

    Tools go into the system prompt, tool calls and responses are rendered by the hermes agent template, consecutive
    turns are merged, ``loss``/``loss_scale`` mask replies, qwen3 adds empty think blocks; a row ms-swift's encode
    raises on raises ``TemplateDrop``.
    """

    def __init__(self, template: str, system: str | None) -> None:
        self.template = template
        self.meta = METAS[template]
        self.system = system if system is not None else TEMPLATES[template]

    def pieces(self, messages: list[dict], row_system: str | None = None, tools=None) -> list[tuple[str, bool]]:
        return [(text, weight > 0) for text, weight in render(messages, self.meta, self.system, row_system, tools)]


def encode_pieces(pieces: list[tuple[str, bool]], piece_ids: list[list[int]], suffix_ids: list[int]):
    """input_ids and labels exactly as ms-swift: masked pieces -100, ``_add_dynamic_eos``, the first label -100."""
    input_ids: list[int] = []
    labels: list[int] = []
    for (_, trained), ids in zip(pieces, piece_ids, strict=True):
        input_ids += ids
        labels += ids if trained else [IGNORE_INDEX] * len(ids)
    dynamic_eos(input_ids, labels, suffix_ids)
    if labels:
        labels[0] = IGNORE_INDEX
    return input_ids, labels


def suffix_ids(tokenizer) -> list[int]:
    return tokenizer.encode(IM_END, add_special_tokens=False).ids


def template_problem(messages: list[dict], tools=None) -> tuple[str, str] | None:
    """Why ms-swift's template encode deletes the row (before any length check), or None."""
    if all(m["role"] == "system" for m in messages):
        return "DS027", "only a system message: ms-swift deletes the row (no turn left to encode)"
    for i, m in enumerate(messages):
        if m["role"] == "system" and i:
            return "DS025", f"messages[{i}] is a system message after the first turn: ms-swift deletes the row"
    if tools is not None or any(m["role"] not in ("user", "assistant", "system") for m in messages):
        try:
            render(messages, METAS["qwen2_5"], None, None, tools)
        except TemplateDrop as exc:
            return "DS028", f"{exc}: ms-swift deletes the row"
    return None


class TokenCounter:
    """Counts tokens of rows in batches, reports DS050 for rows over ``max_length``, and summarises."""

    def __init__(self, model_dir: Path, *, template: str | None, system: str | None, max_length: int | None):
        self.tokenizer = load_tokenizer(model_dir)
        template = resolve_template(model_dir, template)
        self.encoder = None  # ms-swift's own encode in workers, for a template the renderer does not know
        if template not in TEMPLATES:
            from swiftctl.data.swift_encode import SwiftEncoder

            self.encoder = SwiftEncoder(model_dir, template, system, max_length)
        self.renderer = self.encoder or ChatRenderer(template, system)
        self.suffix = suffix_ids(self.tokenizer)
        self.max_length = max_length
        self.report = None  # set by the checker: report(summary, line, code, detail)
        self.rows: list[RowResult] | None = None  # set by the checker for per-row results
        self.lengths: list[int] = []
        self.trained = self.masked = self.over = self.not_counted = 0
        self._batch: list[tuple[FileSummary, int, list[tuple[str, bool]]]] = []

    def add(self, summary: FileSummary, line: int, turns: list[dict] | None, row_system: str | None = None,
            tools=None) -> None:
        """Count one kept row (ms-swift's ``messages``); ``turns`` None: a lost row, not counted."""
        if turns is None:
            self.not_counted += 1
            if self.rows is not None:
                self.flush()  # --rows stay in input order where rows share a line (a one-line .json array)
                self.rows.append(RowResult(summary.path, line, True))
            return
        try:
            self._batch.append((summary, line, swift_row(turns, row_system, tools) if self.encoder else
                                self.renderer.pieces(turns, row_system, tools)))
        except TemplateDrop as exc:  # the checker's template_problem reports these first; kept as a safety net
            self.not_counted += 1
            summary.rows_lost += 1
            self.report(summary, line, "DS028", f"{exc}: ms-swift deletes the row")
            if self.rows is not None:
                self.rows.append(RowResult(summary.path, line, True))
        if len(self._batch) >= BATCH:
            self.flush()

    def close(self) -> None:
        if self.encoder is not None:
            self.encoder.close()

    def _counted(self):
        """(summary, line, total, trained, encode error) per row of the batch."""
        if self.encoder is not None:
            for (summary, line, _), enc in zip(self._batch, self.encoder.encode([r for *_, r in self._batch]),
                                               strict=True):
                yield summary, line, enc.tokens, enc.trained, enc.error
            return
        texts = [text for _, _, pieces in self._batch for text, _ in pieces]
        encoded = iter(self.tokenizer.encode_batch(texts, add_special_tokens=False))
        for summary, line, pieces in self._batch:
            ids, labels = encode_pieces(pieces, [next(encoded).ids for _ in pieces], self.suffix)
            yield summary, line, len(ids), sum(lab != IGNORE_INDEX for lab in labels), ""

    def flush(self) -> None:
        for summary, line, total, trained, error in self._counted():
            if error:  # ms-swift's encode raised: it deletes the row
                self.not_counted += 1
                summary.rows_lost += 1
                if self.rows is not None:
                    self.rows.append(RowResult(summary.path, line, True))
                self.report(summary, line, "DS052", error)
                continue
            self.lengths.append(total)
            over = self.max_length is not None and total > self.max_length
            if self.rows is not None:
                self.rows.append(RowResult(summary.path, line, over, total, trained))
            self.trained += trained
            self.masked += total - trained
            if over:
                self.over += 1
                summary.rows_lost += 1
                self.report(summary, line, "DS050", f"{total} tokens > --max-length {self.max_length}")
        self._batch.clear()

    def stats(self) -> TokenStats | None:
        data = sorted(self.lengths)
        if not data:
            return None
        top = data[-1]
        width = max(1, -(-(top + 1) // 10))
        hist = [(lo, lo + width, 0) for lo in range(0, top + 1, width)]
        for n in data:
            lo, hi, c = hist[n // width]
            hist[n // width] = (lo, hi, c + 1)
        total = self.trained + self.masked
        return TokenStats(self.renderer.template, self.renderer.system, self.max_length, len(data), data[0],
                          data[len(data) // 2], data[min(len(data) - 1, int(len(data) * 0.95))], top, hist,
                          self.trained, self.masked, round(self.trained / total, 4) if total else 0.0,
                          self.over, self.not_counted, SWIFT_COUNTER if self.encoder else COUNTER)
