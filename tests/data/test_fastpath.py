"""The checker's fast path (clean messages/ShareGPT rows, chunked reading) reports exactly what the full rules do."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftctl.data import check, reader
from swiftctl.data.check import check_files

TEXTS = st.sampled_from(["q", "答", " ", "", "\u3000", "x\n", "{{NAME}}", "我是{{AUTHOR}}", "{", "a\x07b", "a\x7f",
                         "a\bb", "a\fb", "\t", 5, None, ["x"], {"a": 1}])
ROLES = st.sampled_from(["user", "assistant", "system", "human", "gpt", "tool", "bot", 1, None])
MESSAGE = st.one_of(st.fixed_dictionaries({"role": ROLES, "content": TEXTS}),
                    st.fixed_dictionaries({"role": ROLES, "content": TEXTS, "loss": st.booleans()}),
                    st.sampled_from([{"role": "user"}, {"from": "human", "value": "q"}, "user", ["user", "q"]]))
PAIR = st.one_of(st.fixed_dictionaries({"human": TEXTS, "assistant": TEXTS}),
                 st.sampled_from([{"human": "q"}, {"user": "q", "gpt": "r"}, ["q", "r"], {"from": "human", "value": "q"},
                                  {"human": "q", "assistant": "r", "x": 1}]))
CLEAN = st.sampled_from([
    {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]},
    {"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "q"},
                  {"role": "assistant", "content": "r"}]},
    {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"},
                  {"role": "user", "content": "q2"}, {"role": "assistant", "content": "r2"}]},
    {"conversation": [{"human": "q", "assistant": "r"}]},
    {"system": "s", "conversation": [{"human": "q", "assistant": "r"}, {"human": "q2", "assistant": "r2"}]},
])
SYSTEM = st.sampled_from([{}, {"system": "s"}, {"system": None}, {"system": 5}, {"system_prompt": 5},
                          {"system": "{{NAME}}"}, {"system": "a\x07"}, {"system_prompt": "{{NAME}}"}, {"id": "{{NAME}}"}])
ROW = st.one_of(
    CLEAN,
    st.builds(lambda m, s: {"messages": m, **s}, st.lists(MESSAGE, max_size=6), SYSTEM),
    st.builds(lambda c, s: {"conversation": c, **s}, st.lists(PAIR, max_size=4), SYSTEM),
    st.sampled_from([{"messages": "x"}, {"messages": {}}, {"conversation": None}, [], "row", 3, {"query": "q"},
                     {"messages": [], "conversation": [{"human": "q", "assistant": "r"}]}]),
)
LINE = st.one_of(st.builds(lambda row, ascii_, pad: pad + json.dumps(row, ensure_ascii=ascii_) + pad,
                           ROW, st.booleans(), st.sampled_from(["", "", " ", "\t"])),
                 st.sampled_from(["", " ", "{", "not json", "\r"]))


def _report(path, monkeypatch, fast: bool, chunk: int):
    with monkeypatch.context() as m:
        m.setattr(reader, "CHUNK", chunk)
        if not fast:
            m.setattr(check, "FAST", {})
        result = check_files([path])
    return result.problems, result.summary


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=CLEAN, lines=st.lists(LINE, max_size=12), crlf=st.booleans(), chunk=st.sampled_from([7, 64, 1 << 20]))
def test_fast_path_reports_what_the_full_rules_report(tmp_path, monkeypatch, first, lines, crlf, chunk):
    path = tmp_path / "rows.jsonl"
    end = "\r\n" if crlf else "\n"
    text = end.join([json.dumps(first), *lines, *lines[:2]])  # the last two repeated: duplicates
    path.write_bytes(text.encode("utf-8"))
    assert _report(path, monkeypatch, True, chunk) == _report(path, monkeypatch, False, 1 << 20)


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
@pytest.mark.parametrize("data", [b"", b"\n", b"a", b"a\n", b"a\nb", b"\n\nb\n", b"ab\r\ncd\r\n"])
def test_chunked_lines_are_the_lines_of_the_file(tmp_path, monkeypatch, data, chunk):
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(reader, "CHUNK", chunk)
    with open(path, "rb") as handle:
        expected = [line.rstrip(b"\n") for line in handle]
    assert [line for _, lines in reader.iter_lines(path) for line in lines] == expected
