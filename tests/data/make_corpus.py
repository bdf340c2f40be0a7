"""Regenerate tests/data/corpus/: one malformed file per case, named CODE-L<line>-<what>.jsonl.

The bad row sits at <line>; every other line is a distinct valid row. Run: python tests/data/make_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent / "corpus"


def ok(i: int) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": f"问题 {i}"},
                                    {"role": "assistant", "content": f"回答 {i}"}]}, ensure_ascii=False).encode()


FILLERS = {
    "sharegpt": lambda i: f'{{"system": "你是沐雪", "conversation": [{{"human": "问题 {i}", "assistant": "回答 {i}"}}]}}'.encode(),
    "classic": lambda i: f'{{"conversations": [{{"from": "human", "value": "q{i}"}}, {{"from": "gpt", "value": "r{i}"}}]}}'.encode(),
    "query": lambda i: f'{{"query": "q{i}", "response": "r{i}"}}'.encode(),
    "history": lambda i: f'{{"query": "q{i}", "response": "r{i}"}}'.encode(),
    "alpaca": lambda i: f'{{"instruction": "i{i}", "input": "", "output": "o{i}"}}'.encode(),
    "prompt-respond": lambda i: f'{{"prompt": "p{i}", "completion": "c{i}"}}'.encode(),
}


def filler(name: str):
    for word, make in FILLERS.items():
        if word in name and not name.startswith("DS011"):
            return make
    return ok


def msgs(*pairs) -> bytes:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in pairs]}, ensure_ascii=False).encode()


U, A, S = "user", "assistant", "system"
CASES: dict[str, tuple[int, bytes]] = {
    "DS002-L1-bom": (1, b"\xef\xbb\xbf" + ok(100)),
    "DS003-L2-invalid-byte": (2, b'{"messages": [{"role": "user", "content": "\xff\xfe"}, {"role": "assistant", "content": "x"}]}'),
    "DS003-L3-gbk-text": (3, '{"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "嗨"}]}'.encode("gbk")),
    "DS004-L2-trailing-comma": (2, b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},]}'),
    "DS004-L2-single-quotes": (2, b"{'messages': [{'role': 'user', 'content': 'a'}]}"),
    "DS004-L3-truncated": (3, ok(7)[:-9]),
    "DS004-L2-multiline-object": (2, b'{"messages": ['),
    "DS005-L2-blank-line": (2, b""),
    "DS006-L2-array-row": (2, b'[{"role": "user", "content": "a"}]'),
    "DS006-L2-string-row": (2, b'"just text"'),
    "DS006-L3-number-row": (3, b"42"),
    "DS010-L2-unknown-columns": (2, b'{"text2": "a", "label": 1}'),
    "DS010-L2-typo-conversation": (2, b'{"conversaton": [{"human": "a", "assistant": "b"}]}'),
    "DS011-L3-sharegpt-in-messages-file": (3, '{"conversation": [{"human": "你好", "assistant": "嗨"}]}'.encode()),
    "DS012-L2-prompt-respond": (2, '{"prompt": "你好", "respond": "嗨"}'.encode()),
    "DS020-L2-messages-not-array": (2, b'{"messages": "user: hi"}'),
    "DS020-L2-content-number": (2, b'{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "b"}]}'),
    "DS020-L2-content-number-with-tool": (2, b'{"messages": [{"role": "user", "content": 5, "loss": false}, '
                                          b'{"role": "tool", "content": "q"}]}'),
    "DS020-L2-assistant-content-float": (2, b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": 1.5}]}'),
    "DS020-L2-system-content-number": (2, b'{"messages": [{"role": "system", "content": 3}, {"role": "user", "content": "a"}, '
                                       b'{"role": "assistant", "content": "b"}]}'),
    "DS020-L2-content-object": (2, b'{"messages": [{"role": "user", "content": {"a": 1}}, {"role": "assistant", "content": "b"}]}'),
    "DS020-L2-content-array-of-strings": (2, b'{"messages": [{"role": "user", "content": ["a", "b"]}, '
                                          b'{"role": "assistant", "content": "b"}]}'),
    "DS020-L2-content-null": (2, b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": null}]}'),
    "DS020-L2-message-is-string": (2, b'{"messages": ["hi", {"role": "assistant", "content": "b"}]}'),
    "DS020-L2-sharegpt-missing-assistant": (2, b'{"conversation": [{"human": "a"}]}'),
    "DS020-L2-history-not-array": (2, b'{"query": "a", "response": "b", "history": "q r"}'),
    "DS020-L2-history-not-pair": (2, b'{"query": "a", "response": "b", "history": [["q"]]}'),
    "DS026-L2-query-null": (2, b'{"query": null, "response": "b"}'),
    "DS020-L2-classic-value-null": (2, b'{"conversations": [{"from": "human", "value": null}, {"from": "gpt", "value": "b"}]}'),
    "DS021-L2-unknown-role": (2, msgs((U, "a"), ("narrator", "b"), (A, "c"))),
    "DS021-L2-classic-unknown-from": (2, b'{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt2", "value": "b"}]}'),
    "DS022-L2-empty-assistant": (2, msgs((U, "a"), (A, ""))),
    "DS022-L2-whitespace-user": (2, msgs((U, "  \n\t "), (A, "b"))),
    "DS022-L2-sharegpt-empty-human": (2, '{"conversation": [{"human": "", "assistant": "嗨"}]}'.encode()),
    "DS022-L2-alpaca-empty-output": (2, b'{"instruction": "translate", "input": "cat", "output": " "}'),
    "DS023-L2-only-user": (2, msgs((U, "a"))),
    "DS023-L2-empty-messages": (2, b'{"messages": []}'),
    "DS023-L2-system-and-user": (2, msgs((S, "s"), (U, "a"))),
    "DS024-L2-two-users": (2, msgs((U, "a"), (U, "b"), (A, "c"))),
    "DS024-L2-two-assistants": (2, msgs((U, "a"), (A, "b"), (A, "c"))),
    "DS025-L2-system-in-middle": (2, msgs((U, "a"), (A, "b"), (S, "s"), (U, "c"), (A, "d"))),
    "DS026-L2-starts-with-assistant": (2, msgs((A, "a"), (U, "b"), (A, "c"))),
    "DS026-L2-ends-with-user": (2, msgs((U, "a"), (A, "b"), (U, "c"))),
    "DS028-L2-tool-call-without-arguments": (2, msgs((U, "a"), ("tool_call", '{"name": "f"}'), ("tool_response", "1"),
                                                    (A, "b"))),
    "DS030-L2-name-placeholder": (2, msgs((U, "你是谁"), (A, "我是{{NAME}}"))),
    "DS030-L3-author-in-query": (3, '{"query": "谁开发了你", "response": "{{AUTHOR}}开发了我"}'.encode()),
    "DS031-L2-escaped-nul": (2, b'{"messages": [{"role": "user", "content": "a\\u0000b"}, {"role": "assistant", "content": "c"}]}'),
    "DS031-L2-escape-sequence": (2, b'{"messages": [{"role": "user", "content": "a"}, '
                                    b'{"role": "assistant", "content": "\\u001b[31mred"}]}'),
    "DS040-L3-duplicate": (3, ok(1)),
}

# written by hand and kept as they are (a gzip stream, a media column, three-row files); the .json, .csv and
# .parquet cases are hand-made too (this script only touches .jsonl files)
HAND_MADE = {"DS007-L0-gzip-named-jsonl.jsonl", "DS027-L2-only-system.jsonl", "DS032-L2-raw-control-byte.jsonl",
             "DS033-L0-image-url-column.jsonl"}


def build() -> None:
    HERE.mkdir(exist_ok=True)
    for old in HERE.glob("*.jsonl"):
        if old.name not in HAND_MADE:
            old.unlink()
    (HERE / "DS001-L0-empty-file.jsonl").write_bytes(b"")
    for name in CASES:
        (HERE / f"{name}.jsonl").write_bytes(content(name))


def content(name: str) -> bytes:
    """The bytes of one generated case: four distinct valid rows with the bad one at its line."""
    line, bad = CASES[name]
    make = filler(name)
    rows = [make(i) for i in range(1, 5)]
    rows.insert(line - 1, bad)
    return b"\n".join(rows) + b"\n"


if __name__ == "__main__":
    build()
