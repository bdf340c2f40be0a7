"""The fast path of the checker: a plain, valid messages or ShareGPT row is recognised in a few dict lookups.

Anything unusual (another format, a wrong type, an empty text, odd role order) returns -1 and the row goes
through the full rules (``formats.to_turns`` + ``rules.check_turns``), which name the problem. Equivalence of
both paths on valid rows is what the corpus and benchmark tests exercise.
"""

from __future__ import annotations

from typing import Any

_WANT = ("user", "assistant")


def _text(value: Any) -> bool:
    return value.__class__ is str and bool(value) and not value.isspace()


def quick_turns(row: Any, fmt: str) -> int:
    """Assistant turns of a clean ``messages``/``sharegpt`` row, or -1 when the full rules must run."""
    try:
        if fmt == "messages":
            msgs = row["messages"]
            start = 1 if msgs[0]["role"] == "system" and msgs[0]["content"].__class__ is str else 0
            n = len(msgs) - start
            if n < 2 or n % 2:
                return -1
            for i in range(start, len(msgs)):
                m = msgs[i]
                if m["role"] != _WANT[(i - start) & 1] or not _text(m["content"]):
                    return -1
            return n // 2
        if fmt == "sharegpt":
            system = row.get("system")
            if system is not None and system.__class__ is not str:
                return -1
            conv = row["conversation"]
            if conv.__class__ is not list or not conv:
                return -1
            for pair in conv:
                if len(pair) != 2 or not _text(pair["human"]) or not _text(pair["assistant"]):
                    return -1
            return len(conv)
    except (KeyError, TypeError, AttributeError, IndexError):
        return -1
    return -1
