"""`swiftctl data preview`: one row through the model's chat template, each token marked trained or masked (-100)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swiftctl.data import spec
from swiftctl.data.reader import iter_rows
from swiftctl.data.swift_encode import swift_row
from swiftctl.data.tokens import IGNORE_INDEX, TEMPLATES, ChatRenderer, encode_pieces, load_tokenizer, resolve_template, suffix_ids
from swiftctl.errors import SwiftctlError, UsageError


@dataclass
class PreviewToken:
    id: int
    text: str
    trained: bool


@dataclass
class Preview:
    path: Path
    line: int
    template: str
    system: str | None  # the system prompt used (the row's own, --system, or the template default)
    pieces: list[tuple[str, bool]]  # rendered text, trained?
    input_ids: list[int]
    labels: list[int]  # -100 where masked, exactly ms-swift's labels
    tokens: list[PreviewToken]
    counter: str = "swiftctl-renderer"  # what encoded the row: swiftctl's renderer, or ms-swift's encode in a worker

    @property
    def trained_tokens(self) -> int:
        return sum(t.trained for t in self.tokens)


def _find_row(path: Path, row: int, fmt: str | None):
    """ms-swift's messages, row system and tools for line ``row`` (the file's preprocessor chosen from its columns)."""
    from swiftctl.data import filetypes
    from swiftctl.data.preprocess import plan, to_messages
    from swiftctl.data.tokens import template_problem

    try:
        kind = filetypes.kind(path)
        records = list(iter_rows(path) if kind == filetypes.JSONL else filetypes.iter_records(path, kind))
    except filetypes.FileRejected as exc:
        raise SwiftctlError(f"{exc.code} {exc.detail}", location=f"{path}:{exc.line}",
                            hint=f"swiftctl data check {path}") from exc
    keys = {k for _, _, v, _ in records if isinstance(v, dict) for k in v}
    file_plan = plan(keys)
    for line, _raw, value, problems in records:
        if line < row or (value is None and problems and problems[0][0] == "DS005"):
            continue
        if isinstance(value, list) and not isinstance(value, dict) and type(value).__name__ == "Many":
            value = value[0]
        fatal = [p for p in problems if spec.rules()[p[0]].ms_swift in ("drop", "crash")]
        if value is None or fatal:
            code, detail = (fatal or problems)[0]
            raise SwiftctlError(f"{code} {detail}", location=f"{path}:{line}",
                                hint=f"swiftctl data check {path} (ms-swift cannot load this file)")
        messages, system, drop = to_messages(value, file_plan)
        tools = value.get("tools") if isinstance(value, dict) else None
        drop = drop or template_problem(messages, tools)
        if drop is not None:
            raise SwiftctlError(f"{drop[0]} {drop[1]}", location=f"{path}:{line}",
                                hint=f"swiftctl data check {path} (ms-swift deletes this row)")
        return messages, system, tools
    raise UsageError(f"there is no row {row}", location=str(path), hint="pass --row with a line number of the file")


def preview_row(path: Path, *, row: int = 1, model_dir: Path, template: str | None = None,
                system: str | None = None, fmt: str | None = None) -> Preview:
    """Encode line ``row`` of ``path`` as ms-swift would for training (input ids and labels)."""
    path, model_dir = Path(path), Path(model_dir)
    if not path.is_file():
        raise UsageError("no such file" if not path.exists() else "is not a file", location=str(path),
                         hint="pass an existing jsonl file")
    if row < 1:
        raise UsageError(f"--row must be 1 or more, not {row}", hint="--row 1 is the first line")
    tokenizer = load_tokenizer(model_dir)
    template = resolve_template(model_dir, template)
    turns, row_system, tools = _find_row(path, row, fmt)
    if template not in TEMPLATES:
        return _swift_preview(path, row, model_dir, template, system, tokenizer, swift_row(turns, row_system, tools))
    renderer = ChatRenderer(template, system)
    pieces = renderer.pieces(turns, row_system, tools)
    piece_ids = [tokenizer.encode(text, add_special_tokens=False).ids for text, _ in pieces]
    input_ids, labels = encode_pieces(pieces, piece_ids, suffix_ids(tokenizer))
    tokens = [PreviewToken(i, tokenizer.decode([i], skip_special_tokens=False), lab != IGNORE_INDEX)
              for i, lab in zip(input_ids, labels, strict=True)]
    used_system = turns[0]["content"] if turns and turns[0]["role"] == "system" else (
        row_system if row_system is not None else renderer.system)
    return Preview(path, row, renderer.template, used_system, pieces, input_ids, labels, tokens)


def _swift_preview(path: Path, row: int, model_dir: Path, template: str, system: str | None, tokenizer,
                   swift_input: dict) -> Preview:
    """ms-swift's own training encode of the row, in a worker process (``swift_encode``)."""
    from swiftctl.data.swift_encode import COUNTER, SwiftEncoder

    with SwiftEncoder(model_dir, template, system, None) as encoder:
        enc = encoder.encode([swift_input], ids=True)[0]
    if enc.error:
        raise SwiftctlError(f"DS052 ms-swift's template encode raised: {enc.error}", location=f"{path}:{row}",
                            hint=f"swiftctl data check {path} --template {template} (ms-swift deletes this row)")
    pieces: list[tuple[str, bool]] = []
    tokens = []
    for i, lab in zip(enc.input_ids, enc.labels, strict=True):
        text = tokenizer.decode([i], skip_special_tokens=False)
        tokens.append(PreviewToken(i, text, lab != IGNORE_INDEX))
        if pieces and pieces[-1][1] == (lab != IGNORE_INDEX):
            pieces[-1] = (pieces[-1][0] + text, pieces[-1][1])
        else:
            pieces.append((text, lab != IGNORE_INDEX))
    messages = swift_input["messages"]
    used_system = messages[0]["content"] if messages and messages[0]["role"] == "system" else encoder.system
    return Preview(path, row, template, used_system, pieces, enc.input_ids, enc.labels, tokens, COUNTER)
