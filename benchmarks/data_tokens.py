"""Token counting throughput (swiftctl's tokenizers-only ChatML counter) beside ms-swift's own template.encode.

    .venv/bin/python benchmarks/data_tokens.py [--rows 2000] [--model .fixtures/tiny-qwen2]

Same rows (Muice ShareGPT, from the bundled sample, repeated with a row number so none is a duplicate).
Import and set-up time are excluded from both rates and printed separately.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--model", type=Path, default=REPO / ".fixtures" / "tiny-qwen2")
    args = parser.parse_args()
    sample = [json.loads(line) for line in (REPO / "jobs/data/muice-sample.jsonl").read_text("utf-8").splitlines()]
    tmp = Path(tempfile.mkdtemp()) / "rows.jsonl"
    with open(tmp, "w", encoding="utf-8") as out:
        for i in range(args.rows):
            row = json.loads(json.dumps(sample[i % len(sample)]))
            row["conversation"][0]["human"] += f" #{i}"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")

    from swiftctl.data.check import check_files
    from swiftctl.data.formats import iter_conversations

    t0 = time.perf_counter()
    report = check_files([tmp], model_dir=args.model, template="qwen2_5", max_length=4096)
    ours = time.perf_counter() - t0
    assert report.summary.tokens.rows == args.rows

    t0 = time.perf_counter()
    from swift import get_processor, get_template

    template = get_template(get_processor(str(args.model), model_type="qwen2"), template_type="qwen2_5")
    template.set_mode("train")
    setup = time.perf_counter() - t0
    rows = [{"messages": c.messages} for c in iter_conversations(tmp)]
    t0 = time.perf_counter()
    total = sum(len(template.encode(row)["input_ids"]) for row in rows)
    theirs = time.perf_counter() - t0
    stats = report.summary.tokens
    assert total == stats.trained_tokens + stats.masked_tokens, (total, stats)
    print(f"rows: {args.rows}, tokens: {total} (identical totals)")
    print(f"swiftctl data check --model (read + check + count): {args.rows / ours:10.0f} rows/s")
    print(f"ms-swift template.encode (encode only):           {args.rows / theirs:10.0f} rows/s  (+{setup:.1f} s import/set-up)")
    print(f"ratio: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
