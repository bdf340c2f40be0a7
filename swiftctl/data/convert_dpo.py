"""`swiftctl data convert --to dpo`: preference rows ({"messages": [..., chosen], "rejected_response": ...}).

Two sources:
- an SFT file + a file of rejected answers, line by line (line N of REJECTED is the worse answer to line N of IN:
  a JSON string, or an object with ``rejected_response`` / ``response``);
- an ``eval.json`` written by ``swiftctl eval --baseline``: the reference answer is chosen and the base model's answer
  (``--baseline``) is rejected, for identity prompts (all prompts with ``all_prompts``).
Atomic and never overwriting (as ``data convert``); the first unreadable row raises with its ``file:line`` and
nothing is written. Pairs whose rejected answer equals the chosen one are skipped and counted (ms-swift drops them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import orjson

from swiftctl.data.convert import ConvertResult, _check_paths, _with_message_extras, output_file
from swiftctl.data.formats import iter_conversations
from swiftctl.data.reader import iter_rows
from swiftctl.errors import SwiftctlError, UsageError


def _rejected_rows(path: Path) -> Iterator[tuple[int, str]]:
    for line, _raw, value, problems in iter_rows(path):
        if value is None and problems and problems[0][0] == "DS005":
            continue
        if isinstance(value, dict):
            value = value.get("rejected_response", value.get("response"))
        if not isinstance(value, str) or not value.strip():
            raise SwiftctlError("not a rejected answer (a JSON string, or an object with a non-empty "
                                "rejected_response/response)", location=f"{path}:{line}",
                                hint="one rejected answer per line, in the order of IN's rows")
        yield line, value


def _pairs_from_sft(src: Path, rejected: Path) -> Iterator[tuple[dict, str | None]]:
    answers = _rejected_rows(rejected)
    for conv in iter_conversations(src):
        messages = _with_message_extras(conv)
        if not messages or messages[-1]["role"] != "assistant":
            raise SwiftctlError("the row does not end with an assistant answer (the chosen side)",
                                location=f"{src}:{conv.line}", hint="every SFT row needs a final assistant turn")
        pair = next(answers, None)
        if pair is None:
            raise SwiftctlError(f"{rejected} has fewer answers than IN has rows", location=f"{src}:{conv.line}",
                                hint="give one rejected answer per row of IN")
        yield {"messages": messages, **conv.extra}, pair[1]
    extra = next(answers, None)
    if extra is not None:
        raise SwiftctlError(f"{rejected} has more answers than {src} has rows", location=f"{rejected}:{extra[0]}",
                            hint="give one rejected answer per row of IN")


def _pairs_from_eval(src: Path, all_prompts: bool) -> Iterator[tuple[dict, str | None]]:
    try:
        data = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SwiftctlError(f"cannot read eval results: {exc}", location=str(src),
                            hint="pass the eval.json written by `swiftctl eval RUN --baseline --out DIR`") from None
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SwiftctlError("no \"rows\" list: not an eval.json", location=str(src),
                            hint="pass the eval.json written by `swiftctl eval RUN --baseline --out DIR`")
    for i, row in enumerate(rows):
        where = f"{src} (rows.{i})"
        base = row.get("baseline") if isinstance(row, dict) else None
        if not isinstance(base, dict) or not isinstance(base.get("response"), str):
            raise SwiftctlError("no baseline answer in this eval row", location=where,
                                hint="run `swiftctl eval RUN --baseline --out DIR` so the base model answers too")
        if not (all_prompts or row.get("identity_question")):
            continue
        system = [{"role": "system", "content": row["system"]}] if row.get("system") else []
        messages = [*system, {"role": "user", "content": row["prompt"]},
                    {"role": "assistant", "content": row["reference"]}]
        yield {"messages": messages}, base["response"]


def convert_to_dpo(src: Path, dst: Path, *, rejected: Path | None = None, baseline: bool = False,
                   all_prompts: bool = False, force: bool = False) -> ConvertResult:
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst, force, "messages")
    if (rejected is None) == (not baseline):
        raise UsageError("--to dpo needs the rejected side: --rejected FILE (IN is SFT data) or --baseline "
                         "(IN is an eval.json)", hint="e.g. swiftctl data convert eval/eval.json dpo.jsonl --to dpo "
                         "--baseline")
    if rejected is not None and not Path(rejected).is_file():
        raise UsageError("no such file", location=str(rejected), hint="pass the file of rejected answers")
    pairs = _pairs_from_sft(src, Path(rejected)) if rejected is not None else _pairs_from_eval(src, all_prompts)
    source = "sft + rejected" if rejected is not None else "eval baseline"
    result = ConvertResult(src, dst, 0)
    with output_file(dst, force) as out:
        for row, answer in pairs:
            if answer == row["messages"][-1]["content"]:
                result.formats["skipped: rejected = chosen"] = result.formats.get("skipped: rejected = chosen", 0) + 1
                continue
            result.rows += 1
            result.formats[source] = result.formats.get(source, 0) + 1
            out.write(orjson.dumps({**row, "rejected_response": answer}) + b"\n")
    return result
