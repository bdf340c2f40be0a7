"""Hypothesis strategies for the differential test: random files of every dataset shape `swift sft` reads.

``FILE`` draws one file: ``(suffix, rows)``. Rows of one file usually share a shape (ms-swift picks the preprocessor
per file), sometimes not. Each shape is one strategy in ``SHAPES``; a new shape (e.g. tool rows) is one more entry.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

TEXT = st.one_of(
    st.sampled_from(["", " ", "hi", "你好", "a\nb", "\n", "{{NAME}}", "<|im_end|>", "<|endoftext|>", "ok<|im_end|>",
                     "🤖 ok", "  lead and trail  ", "<think>\n\n</think>\n\n", "null", "0"]),
    st.builds(lambda w, n: w * n, st.sampled_from(["word ", "字", "ab "]), st.integers(1, 40)),
)
LOSS = st.one_of(st.booleans(), st.none())
ROLE = st.sampled_from(["user", "assistant", "user", "assistant", "system", "human", "gpt"])


def _message(role_st=ROLE):
    return st.fixed_dictionaries({"role": role_st, "content": TEXT}, optional={"loss": LOSS})


_SYSTEM = st.one_of(TEXT, st.none())
_with_system = st.fixed_dictionaries({}, optional={"system": _SYSTEM})


def _rows(keys: dict, optional: dict | None = None):
    return st.fixed_dictionaries(keys, optional=optional or {})


MESSAGES = st.builds(lambda m, extra: {"messages": m, **extra}, st.lists(_message(), min_size=1, max_size=6),
                     _with_system)
SHAREGPT_CLASSIC = st.builds(
    lambda m: {"conversations": [{"from": x["role"], "value": x["content"]} for x in m]},
    st.lists(_message(st.sampled_from(["human", "gpt", "human", "gpt", "system", "user", "assistant"])),
             min_size=1, max_size=5))
SHAREGPT_PAIRS = st.builds(lambda pairs, extra: {"conversation": pairs, **extra},
                           st.lists(_rows({"human": TEXT, "assistant": TEXT}), min_size=1, max_size=3), _with_system)
QUERY_RESPONSE = _rows({"query": st.one_of(st.none(), TEXT), "response": TEXT},
                       {"system": _SYSTEM, "history": st.lists(st.tuples(TEXT, TEXT).map(list), max_size=2)})
ALPACA = _rows({"instruction": TEXT, "output": TEXT}, {"input": TEXT, "system": _SYSTEM})
PROMPT_COMPLETION = _rows({"prompt": TEXT, "completion": TEXT}, {"system": _SYSTEM})

_TOOLS = json.dumps([{"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
_CALL = st.sampled_from([json.dumps({"name": "get_weather", "arguments": {"city": "Paris"}}),
                         json.dumps({"name": "get_weather", "arguments": "{\"city\": \"巴黎\"}"}),
                         json.dumps({"name": "get_weather"}), "not json"])
_TOOL_MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["tool_call", "function_call"]), "content": _CALL},
                          optional={"loss": LOSS}),
    st.fixed_dictionaries({"role": st.sampled_from(["tool_response", "tool", "observation"]),
                           "content": st.one_of(TEXT, st.just('{"t": 20}'))}))
# tools as a JSON string: HF's Arrow loader aligns tools given as objects across a file (docs/fidelity.md, known gaps)
TOOL_ROWS = st.builds(lambda m, tools, extra: {"messages": m, **({"tools": tools} if tools else {}), **extra},
                      st.lists(st.one_of(_message(), _TOOL_MESSAGE), min_size=1, max_size=6),
                      st.sampled_from([_TOOLS, _TOOLS, None]), _with_system)

# name -> strategy of one row; a new shape is one more line here
SHAPES = {
    "messages": MESSAGES,
    "sharegpt-classic": SHAREGPT_CLASSIC,
    "sharegpt-pairs": SHAREGPT_PAIRS,
    "query-response": QUERY_RESPONSE,
    "alpaca": ALPACA,
    "prompt-completion": PROMPT_COMPLETION,
    "tools": TOOL_ROWS,
}


@st.composite
def rows(draw, shapes: dict | None = None):
    shapes = shapes or SHAPES
    if draw(st.integers(0, 9)) == 0:  # a file mixing shapes
        return draw(st.lists(st.one_of(*shapes.values()), min_size=1, max_size=4))
    return draw(st.lists(shapes[draw(st.sampled_from(sorted(shapes)))], min_size=1, max_size=4))


def write(path, rows_: list[dict], array: bool = False) -> None:
    """``.jsonl`` (one row a line), or a ``.json`` array when ``array``."""
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows_)
    path.write_text(json.dumps(rows_, ensure_ascii=False) if array else lines, encoding="utf-8")
