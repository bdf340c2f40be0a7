"""A row as ms-swift 4.6's AutoPreprocessor turns it into ``messages`` (swift/dataset/preprocessor/core.py).

The preprocessor is chosen once per FILE from its columns (core.py:745-752): any of conversation/conversations/messages
-> MessagesPreprocessor; instruction AND input -> AlpacaPreprocessor; anything else -> ResponsePreprocessor. Columns are
renamed case-insensitively, and an alias is NOT renamed when two columns of the file map to the same name
(core.py:275-292). A row the preprocessor raises on, or returns None for, is deleted (core.py:232-259).

``to_messages(row, plan)`` returns ``(messages, system, problem)``: ms-swift's messages (role/content/loss dicts), the
row-level system, and ``(code, detail)`` when ms-swift deletes the row.
"""

from __future__ import annotations

import ast
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from swiftctl.data.formats import json_type

MESSAGES, ALPACA, RESPONSE = "messages", "alpaca", "response"
_MESSAGE_KEYS = ("messages", "conversation", "conversations")
_SYSTEM_KEYS = ("system", "system_prompt")
_QUERY_KEYS = ("query", "prompt", "input", "instruction", "question", "problem")
_RESPONSE_KEYS = ("response", "answer", "output", "targets", "target", "answer_key", "answers", "solution", "text",
                  "completion", "content")
_ROLES = {"system", "user", "tool_call", "tool_response", "tool", "assistant"}
_PLAIN = {"system", "user", "assistant"}  # content must be text (tool calls and responses may be JSON)
_USER, _ASSISTANT = ("user", "human"), ("assistant", "gpt", "bot")
_TOOL_CALL, _TOOL_RESPONSE = ("function_call",), ("function_response", "observation", "observations")


@dataclass(frozen=True)
class Plan:
    """How ms-swift reads every row of one file: the preprocessor and the column renames."""

    kind: str  # messages | alpaca | response
    renames: tuple[tuple[str, str], ...]  # (column as in the file, ms-swift's name)

    @property
    def format(self) -> str:
        return {MESSAGES: "messages", ALPACA: "alpaca", RESPONSE: "query-response"}[self.kind]


def _safe_renames(columns: Iterable[str], mapping: dict[str, str]) -> dict[str, str]:
    lower = {c.lower(): c for c in columns}
    safe = {lower[k]: v for k, v in mapping.items() if k in lower}
    counts: dict[str, int] = {}
    for v in safe.values():
        counts[v] = counts.get(v, 0) + 1
    return {k: v for k, v in safe.items() if counts[v] == 1}


def plan(columns: Iterable[str]) -> Plan:
    """The preprocessor ms-swift picks for a file with these columns (the union of its rows' keys)."""
    columns = list(columns)
    lower = {c.lower() for c in columns}
    if any(k in lower for k in _MESSAGE_KEYS):
        mapping = {k: "messages" for k in _MESSAGE_KEYS} | {k: "system" for k in _SYSTEM_KEYS}
        kind = MESSAGES
    else:
        kind = ALPACA if {"instruction", "input"} <= lower else RESPONSE
        mapping = {k: "system" for k in _SYSTEM_KEYS}
        if kind == RESPONSE:
            mapping |= {k: "query" for k in _QUERY_KEYS} | {k: "response" for k in _RESPONSE_KEYS}
    mm = {k: v for v in ("images", "audios", "videos") for k in (v, v[:-1])}
    renames = _safe_renames(columns, mm) | _safe_renames(columns, mapping)
    return Plan(kind, tuple((k, v) for k, v in renames.items() if k != v))


def _rename(row: dict, p: Plan) -> dict:
    if not p.renames:
        return row
    out = dict(row)
    for old, new in p.renames:
        if old in out:
            out[new] = out.pop(old)
    return out


def _response(row: dict) -> tuple[list[dict], Any]:
    response = row.get("response")
    if isinstance(response, (list, tuple)):
        response = response[0] if response else None  # core.py:425-433: a list's first item
    history = row.get("history") or []
    if isinstance(history, str):  # core.py:437: "[['q', 'r']]"
        history = ast.literal_eval(history)
    history = [*history, [row.get("query"), response]]
    messages = []
    for pair in history:  # swift/template/utils.py:204-209: None halves are skipped
        if not isinstance(pair, (list, tuple)):
            raise TypeError(f"history item is {json_type(pair)}")
        if pair[0] is not None:
            messages.append({"role": "user", "content": pair[0]})
        if pair[1] is not None:
            messages.append({"role": "assistant", "content": pair[1]})
    return messages, row.get("system")


def _parts(content: Any) -> Any:
    if isinstance(content, list) and all(isinstance(b, dict) and b.get("type") == "text" for b in content):
        return "".join(b.get("text") or "" for b in content)
    return content


def _openai_tool_calls(messages: list[dict]) -> list[dict]:
    """template_inputs.py ``normalize_openai_tool_calls``: assistant ``tool_calls`` -> ``tool_call`` messages."""
    out: list[dict] = []
    for index, m in enumerate(messages):
        calls = m.get("tool_calls") if m.get("role") == "assistant" else None
        if not calls:
            out.append(m)
            continue
        order = {c.get("id"): i for i, c in enumerate(calls)}
        end = index + 1
        while end < len(messages) and messages[end].get("role") in ("tool", "tool_response"):
            end += 1
        responses = messages[index + 1:end]
        if (None not in order and len(order) == len(calls) == len(responses)
                and set(order) == {r.get("tool_call_id") for r in responses}):
            messages[index + 1:end] = sorted(responses, key=lambda r: order[r["tool_call_id"]])
        if m.get("content"):
            out.append({k: v for k, v in m.items() if k in ("role", "content", "loss", "loss_scale")})
        for call in calls:
            function = call.get("function", call)
            arguments = function.get("arguments", {})
            if isinstance(arguments, str):
                with contextlib.suppress(json.JSONDecodeError):
                    arguments = json.loads(arguments)
            one = {"role": "tool_call", "content": {"name": function["name"], "arguments": arguments}}
            out.append(one | {k: m[k] for k in ("loss", "loss_scale") if k in m})
    return out


def _messages(row: dict) -> tuple[list[dict] | None, Any]:
    messages = row.get("messages")
    if isinstance(messages, str):  # core.py:467-473
        try:
            messages = json.loads(messages)
        except json.JSONDecodeError:
            messages = ast.literal_eval(messages)
    system = row.get("system")
    if not messages or isinstance(messages, str):
        return None, system
    messages = [dict(m) for m in messages]
    if any(m.get("tool_calls") for m in messages):  # core.py:668-684: OpenAI assistant tool_calls
        messages = _openai_tool_calls(messages)
    for m in messages:
        for std, keys in (("role", ("role", "from")), ("content", ("content", "value"))):
            for key in keys:
                if key in m:
                    m[std] = m.pop(key)
    if "role" not in messages[0] and "content" not in messages[0]:  # ShareGPT pairs (core.py:518-534)
        out = [] if system is None else [{"role": "system", "content": system}]
        for m in messages:
            user = next((m[k] for k in _USER if k in m), None)
            assistant = next((m[k] for k in _ASSISTANT if k in m), None)
            out += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        return out, None
    if messages[0].get("role") == "system":
        pass
    elif system is not None:
        messages.insert(0, {"role": "system", "content": system})
    for m in messages:
        role = m.get("role")
        if role in _USER:
            m["role"] = "user"
        elif role in _ASSISTANT:
            m["role"] = "assistant"
        elif isinstance(role, str) and role.replace("-", "_") in _TOOL_CALL:
            m["role"] = "tool_call"
        elif isinstance(role, str) and role.replace("-", "_") in _TOOL_RESPONSE:
            m["role"] = "tool_response"
        m["content"] = _parts(m.get("content"))
    return messages, None


def to_messages(row: Any, p: Plan) -> tuple[list[dict], Any, tuple[str, str] | None]:
    """ms-swift's messages for one row, its row-level system, and the reason it deletes the row (or None)."""
    if not isinstance(row, dict):
        return [], None, ("DS006", f"the row is {json_type(row)}")
    row = _rename(row, p)
    try:
        if p.kind == MESSAGES:
            messages, system = _messages(row)
            if messages is None:
                return [], None, ("DS011", "no messages in this row: ms-swift reads this file's rows as messages")
        elif p.kind == ALPACA:
            inst, inp = row.get("instruction"), row.get("input")
            query = f"{inst}\n{inp}" if inst and inp else (inst or inp)
            if not isinstance(query, str):  # core.py:454
                return [], None, ("DS020", f"instruction/input is {json_type(query)}, not a string")
            messages, system = _response({**row, "query": query, "response": row.get("output")})
        else:
            messages, system = _response(row)
    except (TypeError, ValueError, SyntaxError, KeyError, AttributeError, IndexError) as exc:
        return [], None, ("DS020", f"ms-swift cannot read the row: {exc}")
    if not messages:  # core.py:87: assert len(messages) > 0
        return [], None, ("DS023", "ms-swift finds no message in the row")
    for i, m in enumerate(messages):  # core.py:89-100
        if m.get("role") not in _ROLES:
            return [], None, ("DS021", f"message {i} has role {m.get('role')!r}")
        content = m.get("content")
        if content is None:
            return [], None, ("DS020", f"message {i} ({m['role']}) has no content")
        if isinstance(content, list) and not all(isinstance(block, dict) for block in content):
            return [], None, ("DS020", f"message {i} ({m['role']}) content is an array of non-objects: "
                                       "ms-swift's preprocessor deletes the row (core.py:670-675)")
        if m["role"] in _PLAIN and not isinstance(content, (str, list)):
            return [], None, ("DS020", f"message {i} ({m['role']}) content is {json_type(content)}, not a string: "
                                       "ms-swift's encode deletes the row")
    return messages, system, None
