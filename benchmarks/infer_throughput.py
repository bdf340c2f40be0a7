"""Batch inference throughput: swiftctl's vLLM path beside the transformers backend, same rows, same model, one run.

    .venv/bin/python benchmarks/infer_throughput.py [RUN_DIR] [--rows 48] [--max-new-tokens 64]

Without RUN_DIR it trains the tiny model for 2 LoRA steps first. Each backend runs through
`swiftctl.infer.batch.run_batch` (i.e. `swift infer` end to end, engine start included, which dominates on a
small batch); generated tokens are counted by re-encoding each response with the model's tokenizer.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "jobs" / "data" / "muice-sample.jsonl"


def train(out: Path) -> Path:
    swift = Path(sys.executable).parent / "swift"
    argv = [str(swift), "sft", "--model", str(REPO / ".fixtures/tiny-qwen2"), "--model_type", "qwen2",
            "--template", "qwen2_5", "--dataset", str(SAMPLE), "--tuner_type", "lora", "--torch_dtype", "float32",
            "--max_steps", "2", "--per_device_train_batch_size", "2", "--max_length", "512", "--save_steps", "2",
            "--split_dataset_ratio", "0", "--dataloader_num_workers", "0", "--report_to", "none",
            "--check_model", "false", "--system", "你是一个名为沐雪的可爱AI女孩子", "--output_dir", str(out)]
    subprocess.run(argv, check=True, capture_output=True, cwd=out.parent)  # setup only, not measured
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", nargs="?", type=Path)
    ap.add_argument("--rows", type=int, default=48)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    opts = ap.parse_args()

    from transformers import AutoTokenizer

    from swiftctl.infer.batch import run_batch
    from swiftctl.infer.plan import Settings
    from swiftctl.infer.target import resolve_target

    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        run = opts.run or train(tmpd / "run")
        target = resolve_target(run)
        src = [ln for ln in SAMPLE.read_text(encoding="utf-8").splitlines() if ln.strip()]
        rows = (src * (opts.rows // len(src) + 1))[: opts.rows]
        val = tmpd / "rows.jsonl"
        val.write_text("\n".join(rows) + "\n", encoding="utf-8")
        tok = AutoTokenizer.from_pretrained(target.model)
        results = {}
        for backend in ("vllm", "transformers"):
            t0 = time.monotonic()
            res = run_batch(target, Settings(backend=backend, max_new_tokens=opts.max_new_tokens), val)
            wall = time.monotonic() - t0
            tokens = sum(len(tok.encode(r["response"], add_special_tokens=False)) for r in res.rows)
            results[backend] = {"rows": len(res.rows), "generated_tokens": tokens, "wall_s": round(wall, 1),
                                "tokens_per_s": round(tokens / wall, 1), "rows_per_s": round(len(res.rows) / wall, 3)}
        print(json.dumps({"model": target.model, "adapters": str(target.adapters), "max_new_tokens":
                          opts.max_new_tokens, "results": results}, indent=2))


if __name__ == "__main__":
    main()
