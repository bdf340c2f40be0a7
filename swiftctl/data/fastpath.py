"""The fast path of the checker: a plain, valid messages or ShareGPT row is recognised in a few dict lookups.

Each function returns the row's assistant turns, or -1 when anything is unusual (a wrong type, an empty text, a
role sequence other than [system] user assistant user assistant ..., a non-string system field, a ``{`` in any
text, which may be a placeholder); such a row goes through the full rules (``formats.to_turns`` +
``rules.check_turns`` + ``rules.check_text``), which name the problem. Control characters are the caller's check
on the raw bytes. A row accepted here is one on which the full rules report nothing: ``tests/data/test_fastpath.py``
compares both paths.

``text.strip()`` stands for the full rules' two text checks at once: it raises AttributeError for anything but a
string (DS020) and is empty (false) for an empty or blank text (DS022), exactly as ``rules.check_turns`` decides.
The common shapes (user/assistant with or without a system message) are unrolled: this runs once per row.
"""

from __future__ import annotations

from typing import Any

_ERRORS = (KeyError, TypeError, AttributeError, IndexError)


def _system_ok(row: dict) -> bool:
    """The row-level system field (``system``, else ``system_prompt``) is absent, null or a string without ``{``."""
    system = row["system"] if "system" in row else row.get("system_prompt")
    return system is None or (system.__class__ is str and "{" not in system)


def messages_turns(row: Any) -> int:
    """``{"messages": [system?, user, assistant, ...]}`` with non-empty string contents."""
    try:
        msgs = row["messages"]
        n = len(msgs)
        if msgs.__class__ is not list:
            return -1
        if n == 3:
            s, u, a = msgs
            if s["role"] == "system" and u["role"] == "user" and a["role"] == "assistant":
                s, q, r = s["content"], u["content"], a["content"]
                if s.__class__ is str and q.strip() and r.strip() and "{" not in s and "{" not in q and "{" not in r:
                    return 1
            return -1
        if n == 2:
            u, a = msgs
            if u["role"] == "user" and a["role"] == "assistant":
                q, r = u["content"], a["content"]
                if q.strip() and r.strip() and "{" not in q and "{" not in r and _system_ok(row):
                    return 1
            return -1
        if not n:
            return -1
        first = msgs[0]
        if first["role"] == "system":
            system = first["content"]
            if system.__class__ is not str or "{" in system:
                return -1
            start = 1
        elif _system_ok(row):
            start = 0
        else:
            return -1
        if n - start < 2 or (n - start) & 1:
            return -1
        for i in range(start, n, 2):
            u, a = msgs[i], msgs[i + 1]
            q, r = u["content"], a["content"]
            if (u["role"] != "user" or a["role"] != "assistant" or not q.strip() or not r.strip() or "{" in q
                    or "{" in r):
                return -1
        return (n - start) >> 1
    except _ERRORS:
        return -1


def sharegpt_turns(row: Any) -> int:
    """``{"system"?, "conversation": [{"human", "assistant"}, ...]}`` with non-empty string texts."""
    try:
        if "messages" in row or not _system_ok(row):
            return -1
        conv = row["conversation"]
        if conv.__class__ is not list or not conv:
            return -1
        for pair in conv:
            if pair.__class__ is not dict or len(pair) != 2:
                return -1
            q, r = pair["human"], pair["assistant"]
            if not q.strip() or not r.strip() or "{" in q or "{" in r:
                return -1
        return len(conv)
    except _ERRORS:
        return -1


FAST = {"messages": messages_turns, "sharegpt": sharegpt_turns}
