"""A corpus of every dataset shape `swift sft` accepts (and the malformed ones around them), written by the tests.

Each entry is ``name -> (suffix, bytes)``; ``write_corpus(dir)`` writes them all. The differential test runs each file
through ms-swift's real pipeline (tests/data/oracle.py) and through `swiftctl data check`/`data preview`.
"""

from __future__ import annotations

import json
from pathlib import Path


def _jl(*rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _m(*pairs, **extra) -> dict:
    return {"messages": [{"role": r, "content": c} for r, c in pairs], **extra}


U, A, S = "user", "assistant", "system"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
CALL = json.dumps({"name": "get_weather", "arguments": {"city": "Paris"}})
TOOLS2 = [*TOOLS, {"name": "get_time", "description": "Local time", "parameters": {
    "type": "object", "properties": {"tz": {"type": "string", "description": "IANA zone"}}}}]
CALL2 = json.dumps({"name": "get_time", "parameters": json.dumps({"tz": "Europe/Paris"})})
TR = "tool_response"


def _t(*pairs, **extra) -> dict:
    """A tool row: (role, content) or (role, content, loss)."""
    return {"messages": [{"role": p[0], "content": p[1], **({"loss": p[2]} if len(p) > 2 else {})} for p in pairs],
            **extra}


SHAPES: dict[str, tuple[str, bytes]] = {
    "messages": (".jsonl", _jl(_m((U, "你好"), (A, "嗨")), _m((S, "sys"), (U, "q"), (A, "r"), (U, "q2"), (A, "r2")))),
    "messages-row-system": (".jsonl", _jl(_m((U, "q"), (A, "r"), system="row system"), _m((U, "q"), (A, "r")))),
    "double-user": (".jsonl", _jl(_m((U, "a"), (U, "b"), (A, "r")), _m((U, "q"), (A, "r")))),
    "double-assistant": (".jsonl", _jl(_m((U, "a"), (A, "r1"), (A, "r2")), _m((U, "q"), (A, "r")))),
    "ends-with-user": (".jsonl", _jl(_m((U, "a"), (A, "r"), (U, "tail")), _m((U, "q"), (A, "r")))),
    "starts-with-assistant": (".jsonl", _jl(_m((A, "r")), _m((A, "r"), (U, "q"), (A, "r2")))),
    "mid-system": (".jsonl", _jl(_m((U, "a"), (A, "r"), (S, "late"), (U, "b"), (A, "r2")), _m((U, "q"), (A, "r")))),
    "only-user": (".jsonl", _jl(_m((U, "only")), _m((U, "q"), (A, "r")))),
    "empty-content": (".jsonl", _jl(_m((U, ""), (A, "r")), _m((U, "q"), (A, "")), _m((U, "q"), (A, "r")))),
    "unknown-role": (".jsonl", _jl(_m(("narrator", "x"), (U, "q"), (A, "r")), _m((U, "q"), (A, "r")))),
    "loss-false": (".jsonl", _jl({"messages": [{"role": U, "content": "q"}, {"role": A, "content": "r1", "loss": False},
                                               {"role": U, "content": "q2"}, {"role": A, "content": "r2", "loss": True}]})),
    "tools": (".jsonl", _jl(_m((U, "weather?"), (A, "sunny"), tools=json.dumps(TOOLS)), _m((U, "q"), (A, "r")))),
    "tool-turns": (".jsonl", _jl(_m((U, "weather in Paris?"), ("tool_call", CALL), ("tool_response", '{"t": 20}'),
                                    (A, "20 degrees"), tools=json.dumps(TOOLS)))),
    "function-call-roles": (".jsonl", _jl(_m((U, "weather?"), ("function_call", CALL), ("observation", "20"),
                                             (A, "20 degrees")))),
    "tools-list": (".jsonl", _jl(_m((U, "weather?"), (A, "sunny"), tools=TOOLS), _m((U, "q"), (A, "r"), tools=TOOLS))),
    "tools-several": (".jsonl", _jl(_t((U, "time and weather?"), ("tool_call", CALL), ("tool_call", CALL2),
                                       (TR, "20"), (TR, "09:00"), (A, "20 degrees at 09:00"), tools=json.dumps(TOOLS2)))),
    "tool-then-chat": (".jsonl", _jl(_t((U, "weather?"), ("tool_call", CALL), (TR, '{"t": 20}'), (A, "20 degrees"),
                                        (U, "thanks"), (A, "you are welcome"), tools=json.dumps(TOOLS)))),
    "tool-loss-false": (".jsonl", _jl(_t((U, "weather?"), ("tool_call", CALL, False), (TR, "20"), (A, "20 degrees"),
                                         tools=json.dumps(TOOLS)),
                                      _t((U, "weather?"), (A, "let me look", False), ("tool_call", CALL), (TR, "20"),
                                         (A, "20 degrees", False), tools=json.dumps(TOOLS)))),
    "tools-row-system": (".jsonl", _jl(_m((U, "weather?"), (A, "sunny"), tools=json.dumps(TOOLS), system="你是沐雪"),
                                       _m((S, "sys"), (U, "q"), ("tool_call", CALL), (TR, "20"), (A, "r"),
                                          tools=json.dumps(TOOLS)))),
    "tool-over-length": (".jsonl", _jl(_m((U, "weather?"), (A, "sunny"), tools=json.dumps(TOOLS2)),
                                       _m((U, "weather?"), ("tool_call", CALL), (TR, "20 " * 200), (A, "20 degrees"),
                                          tools=json.dumps(TOOLS)))),
    "tool-response-after-user": (".jsonl", _jl(_m((U, "here is a result"), (TR, "20"), (A, "ok")),
                                               _m((TR, "20"), (A, "ok")))),
    "tool-call-invalid": (".jsonl", _jl(_m((U, "w?"), ("tool_call", '{"name": "get_weather"}'), (TR, "20"), (A, "r")),
                                        _m((U, "w?"), ("tool_call", "not json"), (TR, "20"), (A, "r")),
                                        _m((U, "w?"), ("tool_call", CALL), (TR, "20"), (U, "more"), (A, "r")),
                                        _m((U, "w?"), ("tool_call", CALL), (TR, "20")),
                                        _m((U, "q"), (A, "r")))),
    "tools-invalid": (".jsonl", _jl(_m((U, "q"), (A, "r"), tools="not json"), _m((U, "q"), (A, "r"), tools="[]"),
                                    _m((U, "q"), (A, "r"), tools=json.dumps(TOOLS[0]["function"])))),
    "openai-tool-calls": (".jsonl", _jl({"messages": [
        {"role": U, "content": "weather?"},
        {"role": A, "content": "", "tool_calls": [{"id": "b", "type": "function", "function": {
            "name": "get_time", "arguments": '{"tz": "UTC"}'}}, {"id": "a", "type": "function", "function": {
                "name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "a", "content": "20"}, {"role": "tool", "tool_call_id": "b", "content": "9"},
        {"role": A, "content": "20 degrees at 9"}], "tools": json.dumps(TOOLS2)})),
    "react-observation": (".jsonl", _jl(_m((U, "w?"), (A, "Action: get_weather\nAction Input: {}"), ("observation", "20"),
                                           (A, "20 degrees")))),
    "think-blocks": (".jsonl", _jl(_m((U, "q"), (A, "<think>\nhmm\n</think>\n\nr"), (U, "q2"), (A, "r2")),
                                   _m((U, "q /no_think"), (A, "<think>\n\n</think>\n\nr")),
                                   _m((U, "q"), (A, "r"), (U, "tail")), _m((U, "q"), (A, "")))),
    "content-parts": (".jsonl", _jl({"messages": [{"role": U, "content": [{"type": "text", "text": "hi"}]},
                                                  {"role": A, "content": "r"}]})),
    "sharegpt": (".jsonl", _jl({"system": "s", "conversation": [{"human": "q1", "assistant": "r1"},
                                                                {"human": "q2", "assistant": "r2"}]},
                               {"conversation": [{"human": "q", "assistant": "r"}]})),
    "sharegpt-classic": (".jsonl", _jl({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "r"}]},
                                       {"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "q"},
                                                          {"from": "gpt", "value": "r"}]})),
    "query-response": (".jsonl", _jl({"query": "q", "response": "r", "history": [["q0", "r0"]]},
                                     {"query": "q", "response": "r", "system": "s"})),
    "query-null": (".jsonl", _jl({"query": None, "response": "r"}, {"query": "q", "response": "r"})),
    # null halves: ms-swift skips them and keeps the row (template/utils.py:204-209)
    "response-null": (".jsonl", _jl({"query": "q", "response": "r"}, {"query": "q2", "response": None})),
    "history-reply-null": (".jsonl", _jl({"query": "q", "response": "r"},
                                         {"query": "q", "response": "r", "history": [["h", None]]})),
    "prompt-null": (".jsonl", _jl({"prompt": "p", "completion": "c"}, {"prompt": None, "completion": "c"})),
    # content of the wrong JSON type: ms-swift's preprocessor or encode deletes the row
    "content-types": (".jsonl", _jl(_m((U, "q"), (A, "r")), _m((U, 5), (A, "r")), _m((U, "q"), (A, 1.5)),
                                    _m((S, 3), (U, "q"), (A, "r")), _m((U, True), (A, "r")), _m((U, {"a": 1}), (A, "r")),
                                    _m((U, ["a", "b"]), (A, "r")), _m((U, "q"), (A, [1])))),
    "content-number-with-tool": (".jsonl", _jl(_m((U, "q"), (A, "r")),
                                               {"messages": [{"role": U, "content": 5, "loss": False},
                                                             {"role": "tool", "content": "q"}]})),
    "response-only": (".jsonl", _jl({"response": "just text"}, {"response": "more"})),
    "history-string": (".jsonl", _jl({"query": "q", "response": "r", "history": "[['q0', 'r0']]"})),
    "response-list": (".jsonl", _jl({"query": "q", "response": ["first", "second"]})),
    "alpaca": (".jsonl", _jl({"instruction": "i", "input": "x", "output": "o"}, {"instruction": "i", "input": "", "output": "o"})),
    "alpaca-missing-input": (".jsonl", _jl({"instruction": "i", "input": "x", "output": "o"}, {"instruction": "i2", "output": "o2"})),
    "instruction-output": (".jsonl", _jl({"instruction": "i", "output": "o"})),
    "prompt-completion": (".jsonl", _jl({"prompt": "p", "completion": "c"}, {"prompt": "p2", "completion": "c2"})),
    "question-answer": (".jsonl", _jl({"question": "q", "answer": "a"})),
    "prompt-respond": (".jsonl", _jl({"prompt": "p", "respond": "r"})),
    "mixed-formats": (".jsonl", _jl(_m((U, "q"), (A, "r")), {"query": "q", "response": "r"})),
    "bom": (".jsonl", b"\xef\xbb\xbf" + _jl(_m((U, "q"), (A, "r")), _m((U, "q2"), (A, "r2")))),
    "nan": (".jsonl", b'{"query": "q", "response": "r", "score": NaN}\n' + _jl({"query": "q2", "response": "r2", "score": 1.0})),
    "two-objects-one-line": (".jsonl", _jl(_m((U, "q"), (A, "r")))[:-1] + b" " + _jl(_m((U, "q2"), (A, "r2")))),
    "blank-lines": (".jsonl", _jl(_m((U, "q"), (A, "r"))) + b"\n\n" + _jl(_m((U, "q2"), (A, "r2")))),
    "raw-control": (".jsonl", _jl(_m((U, "q"), (A, "r"))) + b'{"messages": [{"role": "user", "content": "a\x01b"}, '
                    b'{"role": "assistant", "content": "r"}]}\n'),
    "invalid-json-line": (".jsonl", _jl(_m((U, "q"), (A, "r"))) + b'{"messages": [}\n'),
    "escaped-control": (".jsonl", _jl(_m((U, "a\u0001b"), (A, "r")))),
    "placeholder": (".jsonl", _jl(_m((U, "你是谁"), (A, "我是{{NAME}}")))),
    "not-object": (".jsonl", _jl(_m((U, "q"), (A, "r")), [1, 2])),
    "json-array": (".json", json.dumps([_m((U, "q"), (A, "r")), _m((U, "q2"), (A, "r2"))], ensure_ascii=False).encode()),
    "json-array-alpaca": (".json", json.dumps([{"instruction": "i", "input": "", "output": "o"},
                                               {"instruction": "i2", "input": "x", "output": "o2"}]).encode()),
    "json-lines-named-json": (".json", _jl(_m((U, "q"), (A, "r")), _m((U, "q2"), (A, "r2")))),
    "json-array-pretty": (".json", json.dumps([{"query": "q", "response": "r"}], indent=2).encode()),
    "csv": (".csv", b"query,response\nq1,r1\n\"q, 2\",\"r\"\"2\"\"\"\n"),
    "csv-alpaca": (".csv", b"instruction,input,output\ni,,o\ni2,x,o2\n"),
    "csv-system": (".csv", b"system,query,response\ns,q,r\n,q2,r2\n"),
    "empty-file": (".jsonl", b""),
    "all-rows-lost": (".jsonl", _jl(_m((U, "a"), (A, "r"), (S, "late"), (U, "b"), (A, "r2")))),
    "long-row": (".jsonl", _jl(_m((U, "word " * 30), (A, "answer " * 30)), _m((U, "q"), (A, "r")))),
}


# Shapes compared at another max_length than the suite's 64 (a tool schema alone is ~250 tokens).
MAX_LENGTH: dict[str, int | None] = {name: 1024 for name in SHAPES if "tool" in name or "function" in name}
MAX_LENGTH["tool-over-length"] = 400


def write_corpus(root: Path) -> dict[str, Path]:
    out = {}
    for name, (suffix, data) in SHAPES.items():
        path = root / f"{name}{suffix}"
        path.write_bytes(data)
        out[name] = path
    return out
