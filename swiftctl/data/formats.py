"""Dataset formats: detect a row's format and read it as turns, the way ms-swift 4.6's preprocessors do.

A turn is ``(role, content, field, index)``: role normalised to system/user/assistant/tool_call/tool_response
(``?`` when unknown), content as found (maybe not a string), and where it came from for messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftctl.data import spec
from swiftctl.data.reader import RowProblem, iter_rows
from swiftctl.errors import SwiftctlError

Turn = tuple[str, Any, str, "int | None"]

ROLE_MAP = {"system": "system", "user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant",
            "bot": "assistant", "tool_call": "tool_call", "function_call": "tool_call",
            "tool_response": "tool_response", "tool": "tool_response", "function_response": "tool_response",
            "observation": "tool_response", "observations": "tool_response"}
_ROLE_LIST_KEYS = ("role", "from", "content", "value")
MISSING = type("Missing", (), {"__repr__": lambda self: "MISSING"})()  # a pair without its user/assistant field
_LIST_KEYS = {"messages": "messages", "sharegpt": "conversation", "sharegpt-classic": "conversations"}


def json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def detect(row: dict) -> str | None:
    """The format of one row (first match in ``spec.FORMAT_NAMES`` order), None if none matches."""
    for name in spec.FORMAT_NAMES:
        hint = spec.hints(name)
        if all(k in row for k in hint.get("detect", ())) and (
                "detect_any" not in hint or any(k in row for k in hint["detect_any"])):
            return name
    return None


def _first(row: dict, keys: list[str]) -> tuple[str | None, Any]:
    for key in keys:
        if key in row:
            return key, row[key]
    return None, None


def _system(row: dict) -> list[Turn]:
    key, value = _first(row, ["system", "system_prompt"])
    return [] if value is None else [("system", value, key, None)]


def _role_list(items: list, key: str, problems: list[RowProblem]) -> list[Turn]:
    turns: list[Turn] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(("DS020", f"{key}[{i}] is {json_type(item)}, not an object"))
            continue
        role = item["role"] if "role" in item else item.get("from")
        content = item["content"] if "content" in item else item.get("value")
        mapped = ROLE_MAP.get(role) if isinstance(role, str) else None
        if mapped == "assistant" and item.get("tool_calls") and not content:  # OpenAI: ms-swift keeps the calls only
            mapped, content = "tool_call", item["tool_calls"]
        if mapped is None:
            problems.append(("DS021", f"{key}[{i}] has role {role!r}"))
        turns.append((mapped or "?", content, key, i))
    return turns


def _pairs(items: list, key: str, problems: list[RowProblem]) -> list[Turn]:
    turns: list[Turn] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(("DS020", f"{key}[{i}] is {json_type(item)}, not an object"))
            continue
        for role, names in (("user", ("human", "user")), ("assistant", ("assistant", "gpt", "bot"))):
            name, value = _first(item, list(names))
            if name is None:
                problems.append(("DS020", f"{key}[{i}] has no {names[0]!r} field"))
                value = MISSING
            turns.append((role, value, f"{key}[{i}].{name or names[0]}", None))
    return turns


def _conversation_turns(row: dict, fmt: str, problems: list[RowProblem]) -> list[Turn]:
    key = _LIST_KEYS[fmt]
    items = row[key]
    if not isinstance(items, list):
        problems.append(("DS020", f"{key} is {json_type(items)}, not an array"))
        return []
    if not items:
        return []
    first = items[0]
    if key == "messages" or (isinstance(first, dict) and any(k in first for k in _ROLE_LIST_KEYS)):
        turns = _role_list(items, key, problems)
        if turns and turns[0][0] == "system":
            return turns
    else:
        turns = _pairs(items, key, problems)
    return _system(row) + turns


def _query_turns(row: dict, fmt: str, problems: list[RowProblem]) -> list[Turn]:
    if fmt == "alpaca":
        inst, inp = row.get("instruction"), row.get("input")
        query = f"{inst}\n{inp}" if inst and inp else (inst or inp)
        qkey, rkey, response = "instruction", "output", row.get("output")
    elif fmt == "prompt-completion":
        qkey, query = "prompt", row.get("prompt")
        if "completion" not in row and spec.hints(fmt)["legacy_response_key"] in row:
            problems.append(("DS012", "prompt/respond row: ms-swift reads no response from 'respond'"))
            return []
        rkey, response = "completion", row.get("completion")
    else:
        hint = spec.hints(fmt)
        qkey, query = _first(row, hint["query_keys"])
        rkey, response = _first(row, hint["response_keys"])
        rkey = rkey or "response"
    turns = _system(row)
    history = row.get("history") or []
    if not isinstance(history, list):
        problems.append(("DS020", f"history is {json_type(history)}, not an array"))
        history = []
    for i, pair in enumerate(history):
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.append(("DS020", f"history[{i}] is not a [query, response] pair"))
            continue
        turns += [("user", pair[0], f"history[{i}][0]", None), ("assistant", pair[1], f"history[{i}][1]", None)]
    turns += [("user", query, qkey, None), ("assistant", response, rkey, None)]
    if fmt == "alpaca":
        return turns
    # ms-swift skips a null half of a pair (template/utils.py:204-209): the row is kept and trains without it, so
    # what is reported is what that leaves (an empty user turn inserted, turns merged, or no reply), not a drop
    return [t for t in turns if t[1] is not None]


def to_turns(row: Any, fmt: str | None) -> tuple[str | None, list[Turn], list[RowProblem]]:
    """``(format, turns, problems)`` of one parsed row; ``fmt`` None means detect."""
    problems: list[RowProblem] = []
    if not isinstance(row, dict):
        return None, [], [("DS006", f"the row is {json_type(row)}")]
    fmt = fmt or detect(row)
    if fmt is None:
        keys = ", ".join(list(row)[:5]) or "none"
        return None, [], [("DS010", f"no known column (keys: {keys})")]
    if fmt in _LIST_KEYS:
        if _LIST_KEYS[fmt] not in row:
            return fmt, [], [("DS020", f"no {_LIST_KEYS[fmt]!r} array (format {fmt})")]
        return fmt, _conversation_turns(row, fmt, problems), problems
    return fmt, _query_turns(row, fmt, problems), problems


def where(turn: Turn) -> str:
    """``messages[2].content`` style location of a turn inside its row."""
    _role, _content, key, index = turn
    return key if index is None else f"{key}[{index}].content"


@dataclass
class Conversation:
    """One row, normalised: ``messages`` is a list of ``{"role", "content"}`` (system first when present)."""

    path: Path
    line: int
    format: str
    messages: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # the row's other columns (tools, images, ...)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the row as parsed


def iter_conversations(path: Path, fmt: str | None = None, *, skip_invalid: bool = False) -> Iterator[Conversation]:
    """Normalised conversations of any supported format, with their line numbers.

    Rows that ms-swift could not read raise SwiftctlError (``file:line``) unless ``skip_invalid``; content
    problems (empty text, placeholders) are left to ``swiftctl data check``.
    """
    from swiftctl.data.rules import check_turns

    path = Path(path)
    for line, _raw, value, problems in iter_rows(path):
        if value is None and problems and problems[0][0] == "DS005":
            continue
        row_fmt, turns, more = (None, [], []) if value is None else to_turns(value, fmt)
        problems = problems + more + check_turns(turns, structural_only=True)
        fatal = [p for p in problems if spec.rules()[p[0]].ms_swift in ("drop", "crash")]
        if fatal or row_fmt is None:
            if skip_invalid:
                continue
            code, detail = (fatal or problems)[0]
            raise SwiftctlError(f"{code} {detail}", location=f"{path}:{line}",
                                hint=f"swiftctl data check {path} (lists every problem with its fix)")
        used = {_LIST_KEYS.get(row_fmt), "system", "system_prompt", "query", "response", "history", "prompt",
                "completion", "instruction", "input", "output", *spec.hints("query-response")["query_keys"],
                *spec.hints("query-response")["response_keys"]}
        yield Conversation(path, line, row_fmt, [{"role": t[0], "content": t[1]} for t in turns],
                           {k: v for k, v in value.items() if k not in used}, value)
