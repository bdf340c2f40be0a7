"""Rules on a row's turns beyond its schema: roles, order, alternation, empty text (codes in datasets_spec/rules.json)."""

from __future__ import annotations

import re

from swiftctl.data.formats import MISSING, Turn, json_type, where
from swiftctl.data.reader import RowProblem

_SIDE = {"user": "u", "tool_response": "u", "assistant": "a", "tool_call": "a"}
_TOOLS = ("tool_call", "tool_response")
# Cheap pre-filter on the raw line: placeholders, escaped control characters (\u0000-\u001f but \t \n \r), DEL.
_RAW_PARTS = (rb"\{\{(?:NAME|AUTHOR)\}\}", rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")
SUSPECT = re.compile(b"|".join((*_RAW_PARTS, rb"\x7f")))
_RAW_SEARCHES = tuple(re.compile(part).search for part in _RAW_PARTS)  # each with a literal prefix: fast scans
_PLACEHOLDER = re.compile(r"\{\{(?:NAME|AUTHOR)\}\}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def suspect(raw: bytes) -> bool:
    """``SUSPECT.search(raw)`` as a bool, several times faster (a memchr and two literal-prefix scans)."""
    placeholder, escaped = _RAW_SEARCHES
    return raw.find(b"\x7f") >= 0 or escaped(raw) is not None or placeholder(raw) is not None


def check_turns(turns: list[Turn], *, structural_only: bool = False) -> list[RowProblem]:
    """Problems of one row's turns; ``structural_only`` skips text rules (empty content)."""
    problems: list[RowProblem] = []
    prev_side = prev_role = None
    last_side = None
    assistants = 0
    for n, turn in enumerate(turns):
        role, content = turn[0], turn[1]
        if content is MISSING:
            pass
        elif role in _TOOLS and isinstance(content, (dict, list)):
            pass  # ms-swift writes a tool call/response given as JSON as its JSON text (template_inputs.py:132-134)
        elif not isinstance(content, str):
            problems.append(("DS020", f"{where(turn)} is {json_type(content)}, not a string"))
        elif not structural_only and role != "system" and not content.strip():
            problems.append(("DS022", f"{where(turn)} ({role}) is empty"))
        if role == "system":
            if n:
                problems.append(("DS025", f"{where(turn)} is a system message at position {n + 1}"))
            continue
        side = _SIDE.get(role)
        if side is None:
            continue
        if prev_side is None and side == "a":
            problems.append(("DS026", f"{where(turn)}: the conversation starts with the {role}"))
        elif side == prev_side and not (role in _TOOLS and role == prev_role):
            problems.append(("DS024", f"{where(turn)}: two {'user' if side == 'u' else 'assistant'} turns in a row"))
        assistants += role == "assistant"
        prev_side, prev_role, last_side = side, role, side
    if not assistants:
        if not any(p[0] in ("DS020", "DS021") for p in problems):
            problems.append(("DS023", "no assistant turn"))
    elif last_side == "u":
        problems.append(("DS026", "the conversation ends with a user turn (nothing trains on it)"))
    return problems


def check_text(turns: list[Turn]) -> list[RowProblem]:
    """Placeholders and control characters; run only when ``SUSPECT`` matched the raw line."""
    problems: list[RowProblem] = []
    for turn in turns:
        content = turn[1]
        if not isinstance(content, str):
            continue
        found = sorted(set(_PLACEHOLDER.findall(content)))
        if found:
            problems.append(("DS030", f"{where(turn)} contains {' and '.join(found)}"))
        ctrl = _CONTROL.search(content)
        if ctrl:
            problems.append(("DS031", f"{where(turn)} contains control character U+{ord(ctrl.group()):04X}"))
    return problems
