"""Render rows with the job's chat template and count tokens exactly as ms-swift 4.6 encodes them for training.

ms-swift (``Template._swift_encode``/``_simplify_context_list``) joins the consecutive pieces that share a loss
weight and tokenizes each joined string with ``add_special_tokens=False``: the system block and every user prompt
(with ``<|im_start|>assistant\\n``) are masked (-100); every assistant reply with its ``<|im_end|>\\n`` is trained.
A row whose encoded length is greater than ``max_length`` is dropped (``truncation_strategy`` delete).
Only the ``tokenizers`` library is used (no transformers import); the tests compare with ms-swift's own encode.
"""

from __future__ import annotations

import json
from pathlib import Path

from swiftctl.data.report import FileSummary, RowResult, TokenStats
from swiftctl.data.swift_encode import COUNTER, swift_row
from swiftctl.errors import UsageError

# ChatML templates this renderer reproduces, with ms-swift's default system (swift/template/templates/qwen.py).
TEMPLATES: dict[str, str | None] = {
    "qwen": "You are a helpful assistant.",
    "qwen2_5": "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
}
BATCH = 512
_STOP_WORDS = ("<|endoftext|>", "<|im_end|>")  # qwen.py:37 stop_words + the suffix and eos (template_meta.py:127-130)


class ToolTurnError(ValueError):
    """The row has tool turns, which ms-swift renders with an agent template this counter does not reproduce."""


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
    """ms-swift messages -> ``[(text, trained)]`` pieces, joined the way ms-swift joins them before tokenizing.

    As ``Template._swift_prepare_inputs``/``_get_std_messages``/``_swift_encode`` (swift/template/base.py:1258-1262,
    1373-1400, 1403-1500): consecutive user turns are concatenated, consecutive assistant turns too (each keeps its
    own ``loss``); a leading assistant gets an empty user turn; a trailing user turn is encoded as an untrained prompt;
    ``"loss": false`` masks an assistant reply with its ``<|im_end|>``. A ``system`` message after the first one makes
    ms-swift delete the row (``assert query_role in {'user', 'tool'}``, base.py:1448): ``template_problem``.
    """

    def __init__(self, template: str, system: str | None) -> None:
        self.template = template
        self.system = system if system is not None else TEMPLATES[template]

    def pieces(self, messages: list[dict], row_system: str | None = None) -> list[tuple[str, bool]]:
        system = self.system if row_system is None else row_system
        if messages and messages[0]["role"] == "system":
            system, messages = messages[0]["content"], messages[1:]
        masked = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
        merged: list[list] = []  # [role, [(content, loss)]]
        for m in messages:
            role = m["role"]
            if role not in ("user", "assistant"):
                raise ToolTurnError(role)
            loss = m.get("loss")
            if merged and merged[-1][0] == role:
                merged[-1][1].append((m["content"], loss))
            else:
                merged.append([role, [(m["content"], loss)]])
        if merged and merged[0][0] == "assistant":
            merged.insert(0, ["user", [("", None)]])
        out: list[tuple[str, bool]] = []
        for n, (role, parts) in enumerate(merged):
            if role == "user":
                masked += "<|im_start|>user\n" + "".join(c for c, _ in parts) + "<|im_end|>\n<|im_start|>assistant\n"
                continue
            out.append((masked, False))
            masked = ""
            # the last reply gets no <|im_end|> when it already ends with a stop word (base.py:1473-1486)
            last = n == len(merged) - 1
            sep = "" if last and parts[-1][0].endswith(_STOP_WORDS) else "<|im_end|>\n"
            for content, loss in parts:
                out.append((content, loss is None or bool(loss)))
            # the last round's suffix trains (ContextType.SUFFIX); a chat_sep is masked until dynamic_eos (below)
            out.append((sep, last))
        if masked:
            out.append((masked, False))
        joined: list[tuple[str, bool]] = []  # ms-swift tokenizes each run of equal loss as one string
        for text, trained in out:
            if joined and joined[-1][1] == trained:
                joined[-1] = (joined[-1][0] + text, trained)
            elif text:
                joined.append((text, trained))
        return joined


def template_problem(messages: list[dict]) -> tuple[str, str] | None:
    """Why ms-swift's template encode deletes the row (before any length check), or None."""
    if all(m["role"] == "system" for m in messages):
        return "DS027", "only a system message: ms-swift deletes the row (no turn left to encode)"
    for i, m in enumerate(messages):
        if m["role"] == "system" and i:
            return "DS025", f"messages[{i}] is a system message after the first turn: ms-swift deletes the row"
    return None


SUFFIX = "<|im_end|>\n"  # the ChatML templates' suffix (swift/template/templates/utils.py:17)


def dynamic_eos(input_ids: list[int], labels: list[int], suffix_ids: list[int]) -> None:
    """ms-swift's ``Template._add_dynamic_eos`` (base.py:1242-1255, run on every encode, base.py:1644): a masked
    run right after a trained token that starts with the suffix tokens gets them trained (the <|im_end|> that
    closes a trained reply of an earlier round)."""
    n, start = len(suffix_ids), 0
    for i in range(1, len(labels) + 1):
        if labels[i - 1] >= 0 and i < len(labels) and labels[i] == -100:
            start = i
        elif start > 0 and labels[i - 1] == -100 and (i == len(labels) or labels[i] >= 0) and (
                i - start >= n and input_ids[start:start + n] == suffix_ids):
            labels[start:start + n] = suffix_ids


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
        self.max_length = max_length
        self.report = None  # set by the checker: report(summary, line, code, detail)
        self.rows: list[RowResult] | None = None  # set by the checker for per-row results
        self.lengths: list[int] = []
        self.trained = self.masked = self.over = self.not_counted = 0
        self._batch: list[tuple[FileSummary, int, list[tuple[str, bool]]]] = []

    def add(self, summary: FileSummary, line: int, turns: list[dict] | None, row_system: str | None = None) -> None:
        """Count one kept row (ms-swift's ``messages``); ``turns`` None: a lost row, not counted."""
        if turns is None:
            self.not_counted += 1
            if self.rows is not None:
                self.flush()  # --rows stay in input order where rows share a line (a one-line .json array)
                self.rows.append(RowResult(summary.path, line, True))
            return
        try:
            self._batch.append((summary, line, swift_row(turns, row_system) if self.encoder else
                                self.renderer.pieces(turns, row_system)))
        except ToolTurnError:
            self.not_counted += 1
            if self.rows is not None:
                self.rows.append(RowResult(summary.path, line, False))
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
        suffix = self.tokenizer.encode(SUFFIX, add_special_tokens=False).ids
        for summary, line, pieces in self._batch:
            ids: list[int] = []
            labels: list[int] = []
            for _, is_trained in pieces:
                piece = next(encoded).ids
                ids += piece
                labels += piece if is_trained else [-100] * len(piece)
            dynamic_eos(ids, labels, suffix)
            yield summary, line, len(ids), sum(label != -100 for label in labels), ""

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
                          self.over, self.not_counted, COUNTER if self.encoder else "swiftctl-renderer")
