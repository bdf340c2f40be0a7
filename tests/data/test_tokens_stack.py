"""Token counts and labels equal ms-swift 4.6's own training encode (real tokenizer, real template)."""

from __future__ import annotations

import json

import pytest

from swiftctl.data.check import check_files
from swiftctl.data.formats import iter_conversations
from swiftctl.data.preview import preview_row
from tests.conftest import SAMPLE

pytestmark = pytest.mark.stack

EDGE_ROWS = [
    [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "嗨～"}],
    [{"role": "user", "content": "\n\n前导换行 and trailing space "}, {"role": "assistant", "content": " 空格开头\n"}],
    [{"role": "user", "content": "emoji 🤖 <b>tags</b> {{x}}"}, {"role": "assistant", "content": "ok 😊"},
     {"role": "user", "content": "again"}, {"role": "assistant", "content": "<|im_end|> inside"}],
    [{"role": "system", "content": "row system"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}],
]


@pytest.fixture(scope="module")
def swift_template(tiny_model):
    from swift import get_processor, get_template

    processor = get_processor(str(tiny_model), model_type="qwen2")

    def make(template: str, system: str | None):
        tpl = get_template(processor, default_system=system, template_type=template)
        tpl.set_mode("train")
        return tpl

    return make


@pytest.mark.parametrize(("template", "system"), [("qwen2_5", None), ("qwen2_5", "你是沐雪"), ("qwen", None)])
def test_preview_equals_ms_swift_encode(tmp_path, tiny_model, swift_template, template, system):
    path = tmp_path / "rows.jsonl"
    rows = [c.messages for c in iter_conversations(SAMPLE)] + EDGE_ROWS
    path.write_text("".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for m in rows), encoding="utf-8")
    tpl = swift_template(template, system)
    for line, messages in enumerate(rows, 1):
        expected = tpl.encode({"messages": messages})
        got = preview_row(path, row=line, model_dir=tiny_model, template=template, system=system)
        assert got.input_ids == expected["input_ids"], line
        assert got.labels == expected["labels"], line


def test_rows_over_max_length_are_the_ones_ms_swift_drops(tiny_model, swift_template):
    from swift.template import MaxLengthError

    tpl = swift_template("qwen2_5", None)
    tpl.max_length = 60
    dropped = []
    for conv in iter_conversations(SAMPLE):
        try:
            tpl.encode({"messages": conv.messages})
        except MaxLengthError:
            dropped.append(conv.line)
    report = check_files([SAMPLE], model_dir=tiny_model, max_length=60)
    assert [p.line for p in report.problems if p.code == "DS050"] == dropped == [23, 24, 25, 26, 27, 28]
    assert report.summary.rows_lost == 6 and report.exit_code == 1
    stats = report.summary.tokens
    assert (stats.rows, stats.min, stats.max, stats.over_max_length) == (28, 35, 91, 6)
    assert stats.trained_tokens + stats.masked_tokens == sum(
        len(tpl_ids) for tpl_ids in (swift_template("qwen2_5", None).encode({"messages": c.messages})["input_ids"]
                                     for c in iter_conversations(SAMPLE)))
