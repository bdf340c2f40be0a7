"""convert_file: lossless, atomic, never overwrites IN, fills self-cognition placeholders."""

from __future__ import annotations

import json

import pytest

from swiftctl.data.check import check_files
from swiftctl.data.convert import convert_file
from swiftctl.data.formats import iter_conversations
from swiftctl.errors import SwiftctlError, UsageError
from tests.conftest import SAMPLE


def test_muice_sample_converts_losslessly(tmp_path):
    out = tmp_path / "out.jsonl"
    result = convert_file(SAMPLE, out)
    assert (result.rows, result.formats) == (28, {"sharegpt": 28})
    before = [c.messages for c in iter_conversations(SAMPLE)]
    after = [c.messages for c in iter_conversations(out)]
    assert before == after
    assert check_files([out]).problems == []
    assert {c.format for c in iter_conversations(out)} == {"messages"}


def test_extra_columns_and_message_keys_are_kept(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"conversations": [{"from": "human", "value": "q"},
                                                  {"from": "gpt", "value": "r", "loss": False}],
                               "images": ["a.png"], "system": "s"}) + "\n", encoding="utf-8")
    convert_file(src, tmp_path / "out.jsonl")
    assert json.loads((tmp_path / "out.jsonl").read_text()) == {
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                     {"role": "assistant", "content": "r", "loss": False}], "images": ["a.png"]}


def test_placeholders_are_filled(tmp_path):
    src = tmp_path / "self_cognition.jsonl"
    src.write_text('{"query": "你是谁？", "response": "我是{{NAME}}，由{{AUTHOR}}开发。"}\n', encoding="utf-8")
    result = convert_file(src, tmp_path / "out.jsonl", fill_name="沐雪", fill_author="Moemu")
    assert result.filled == {"{{NAME}}": 1, "{{AUTHOR}}": 1} and result.placeholders_left == 0
    assert "我是沐雪，由Moemu开发。" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    left = convert_file(src, tmp_path / "out2.jsonl")
    assert left.placeholders_left == 1


def test_never_overwrites_in_and_refuses_existing_out(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(SAMPLE.read_bytes())
    with pytest.raises(UsageError, match="same file as IN"):
        convert_file(src, src, force=True)
    out = tmp_path / "out.jsonl"
    out.write_text("keep me")
    with pytest.raises(UsageError, match="OUT already exists"):
        convert_file(src, out)
    assert out.read_text() == "keep me"
    convert_file(src, out, force=True)
    assert out.read_text() != "keep me"
    assert src.read_bytes() == SAMPLE.read_bytes()


def test_a_bad_row_leaves_no_output(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(SAMPLE.read_bytes() + b'{"conversation": "oops"}\n')
    out = tmp_path / "out.jsonl"
    with pytest.raises(SwiftctlError) as err:
        convert_file(src, out)
    assert err.value.location == f"{src}:29"
    assert err.value.message == f"DS020 conversation is a string, not an array; nothing was written to {out}"
    assert list(tmp_path.iterdir()) == [src]
