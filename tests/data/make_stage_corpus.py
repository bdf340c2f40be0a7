"""Regenerate tests/data/corpus_stage/: one file per preference/RL rule, named CODE-L<line>-<stage>-<what>.jsonl.

Line 1 (and 3) are valid rows of the stage; the bad row sits at <line>. Run: python tests/data/make_stage_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent / "corpus_stage"


def conv(i: int, answer: str | None = None) -> list[dict]:
    msgs = [{"role": "system", "content": "你是沐雪"}, {"role": "user", "content": f"问题 {i}"}]
    return msgs + ([{"role": "assistant", "content": answer or f"回答 {i}"}] if answer != "" else [])


def dpo(i: int, **kw) -> dict:
    return {"messages": conv(i), "rejected_response": f"差的回答 {i}", **kw}


def kto(i: int, **kw) -> dict:
    return {"messages": conv(i), "label": i % 2 == 0, **kw}


def grpo(i: int, **kw) -> dict:
    return {"messages": conv(i, ""), "solution": f"回答 {i}", **kw}


CASES = {
    "DS100-L2-dpo-no-rejected": (dpo, {"messages": conv(2)}),
    "DS100-L2-dpo-null-rejected": (dpo, {"messages": conv(2), "rejected_response": None}),
    "DS101-L2-dpo-empty-rejected": (dpo, {"messages": conv(2), "rejected_response": "  "}),
    "DS102-L2-dpo-rejected-equals-chosen": (dpo, {"messages": conv(2), "rejected_response": "回答 2"}),
    "DS102-L2-orpo-rejected-messages-equal": (dpo, {"messages": conv(2), "rejected_messages": conv(2)}),
    "DS103-L2-kto-label-string": (kto, {"messages": conv(2), "label": "true"}),
    "DS104-L2-kto-no-label": (kto, {"messages": conv(2)}),
    "DS105-L2-grpo-ends-with-assistant": (grpo, {"messages": conv(2), "solution": "回答 2"}),
    "DS106-L2-grpo-no-solution": (grpo, {"messages": conv(2, "")}),
    "DS107-L2-grpo-score-string": (grpo, {"messages": conv(2, ""), "solution": "s", "score": "9"}),
    "DS108-L2-grpo-score-out-of-range": (grpo, {"messages": conv(2, ""), "solution": "s", "score": 42}),
    "DS110-L2-grpo-no-user": (grpo, {"messages": [{"role": "system", "content": "你是沐雪"}], "solution": "s"}),
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, (make, bad) in CASES.items():
        rows = [make(1), bad, make(3)]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (HERE / f"{name}.jsonl").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
